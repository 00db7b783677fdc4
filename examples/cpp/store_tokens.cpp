// store_tokens.cpp - saves GitHub tokens into an encrypted credential store, once, so that
// programs can later read them from the store instead of the environment (see
// token_manager.cpp and GITFLEET_STORE). The C++ form of examples/store_tokens.c, same output.
//
// Usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 store_tokens_cpp FILE
//   FILE is created (owner-only) when it does not exist. The tokens come from GITHUB_TOKENS
//   (comma separated) or GITHUB_TOKEN; the password from GITFLEET_STORE_PASSWORD. Prints what
//   the store then holds, by fingerprint; never a token.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gitfleet.hpp"

namespace {

// Opens FILE, or creates it when it does not exist yet.
gitfleet::Store open_or_create(const char *path, const char *password) {
    if (access(path, F_OK) == 0) {
        return gitfleet::Store::open(path, password);
    }
    std::printf("Creating %s\n", path);
    return gitfleet::Store::create(path, password);
}

// Saves each comma-separated token of `list`; returns how many. The working copy is wiped.
int save_tokens(gitfleet::Store &store, const char *list) {
    std::string copy(list);
    int saved = 0;
    try {
        std::size_t start = 0;
        while (start <= copy.size()) {
            std::size_t end = copy.find(',', start);
            if (end == std::string::npos) {
                end = copy.size();
            }
            std::size_t first = copy.find_first_not_of(' ', start);
            if (first != std::string::npos && first < end) {
                std::size_t last = copy.find(' ', first);
                last = last == std::string::npos || last > end ? end : last;
                copy[last] = '\0'; // the token ends here (a comma or a space was there)
                store.save(copy.c_str() + first);
                ++saved;
            }
            start = end + 1;
        }
    } catch (...) {
        copy.assign(copy.size(), '\0');
        throw;
    }
    copy.assign(copy.size(), '\0');
    return saved;
}

} // namespace

int main(int argc, char **argv) {
    const char *tokens = std::getenv("GITHUB_TOKENS");
    if (tokens == nullptr || tokens[0] == '\0') {
        tokens = std::getenv("GITHUB_TOKEN");
    }
    const char *password = std::getenv("GITFLEET_STORE_PASSWORD");
    if (argc != 2 || tokens == nullptr || tokens[0] == '\0' || password == nullptr ||
        password[0] == '\0') {
        std::fprintf(stderr, "usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 "
                             "store_tokens_cpp FILE\n");
        return 2;
    }
    const char *stage = "Could not open the store";
    try {
        gitfleet::Store store = open_or_create(argv[1], password);
        stage = "Could not save a token";
        const int saved = save_tokens(store, tokens);
        stage = "Could not list the store";
        const auto listed = store.list();
        std::printf("Saved %d token(s). The store now holds: %s\n", saved, listed.json.c_str());
        return 0;
    } catch (const gitfleet::Error &e) {
        std::fprintf(stderr, "%s: %s: %s\n", stage, e.status_name(), e.what());
        return 1;
    }
}
