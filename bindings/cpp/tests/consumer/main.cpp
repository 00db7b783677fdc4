// A consumer of gitfleet::gitfleet: builds a pool, reads it back, and checks an error type.
// The same source is built through add_subdirectory and through find_package.

#include <cstdio>

#include <gitfleet.hpp>

int main() {
    gitfleet::TokenManager pool;
    pool.add_token("consumer_token_one");
    pool.add_token("consumer_token_two");
    const auto snapshot = pool.snapshot();
    if (snapshot->size() != 2 || snapshot->at(0).fingerprint.size() != 12) {
        std::puts("consumer: unexpected snapshot");
        return 1;
    }
    try {
        gitfleet::Client client(gitfleet::ClientOptions().base_url("not a url"));
        std::puts("consumer: a bad URL was accepted");
        return 1;
    } catch (const gitfleet::InvalidArgument &) {
    }
    std::printf("consumer: gitfleet %s, %zu tokens, ok\n", gitfleet::version(), snapshot->size());
    return 0;
}
