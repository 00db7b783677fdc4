// token_manager.cpp - GitFleet's token-manager workflow, in C++ (gitfleet.hpp).
//
// The same steps and the same output as examples/token_manager.c:
//   1. read the tokens from GITHUB_TOKENS (comma separated) or GITHUB_TOKEN -- or, when
//      GITFLEET_STORE names an encrypted credential store, from that store, opened with
//      GITFLEET_STORE_PASSWORD -- and the API root from GITHUB_API_URL;
//   2. pool them in a token manager;
//   3. build a client that draws its tokens from the pool;
//   4. show every token's rate limit (GET /rate_limit costs no quota);
//   5. list the repositories of a few owners (the command-line arguments, or a default set),
//      showing how many tokens are left after each;
//   6. if some owners failed because every token was spent and the earliest reset is near
//      (GITFLEET_MAX_WAIT seconds, default 60), wait for it and retry those owners once;
//   7. print a summary and the final state of every token.
//
// Tokens are secrets: this program prints fingerprints only, never a token. Errors arrive as
// gitfleet::Error exceptions; results as typed structs (with their raw JSON alongside).
//
// Build: `make cpp-demo` (or configure bindings/cpp with CMake; the target is
// token_manager_cpp). Run it with examples/cpp/run_token_manager.sh to use the emulator.
//
// Exit status: 0 when the workflow ran (even if some owners could not be listed), 1 when no
// token is configured, 2 on any other setup error.

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitfleet.hpp"

namespace {

constexpr const char *kDefaultApiUrl = "https://api.github.com";
constexpr std::uint64_t kDefaultMaxWaitS = 60;

enum ExitCode { kExitRan = 0, kExitNoTokens = 1, kExitSetup = 2 };

const std::vector<std::string> kDefaultOwners = {
    "octocat", "torvalds", "gvanrossum", "kennethreitz", "yyx990803",
};

// The tokens read from the environment. Secrets: overwritten before they are freed.
class TokenList {
  public:
    TokenList() = default;
    TokenList(const TokenList &) = delete;
    TokenList &operator=(const TokenList &) = delete;
    ~TokenList() {
        for (std::string &token : items_) {
            volatile char *p = token.data();
            for (std::size_t i = 0; i < token.size(); ++i) {
                p[i] = '\0';
            }
        }
    }
    // Adds the trimmed, non-empty pieces of a comma-separated list.
    // (Best effort: capacity is reserved first so that no token is copied by a reallocation.)
    void parse(const char *text) {
        const std::string_view all(text);
        std::size_t pieces = 1;
        for (char c : all) {
            pieces += c == ',' ? 1 : 0;
        }
        items_.reserve(items_.size() + pieces);
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = all.find(',', start);
            std::string_view piece = all.substr(
                start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
            while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.front()))) {
                piece.remove_prefix(1);
            }
            while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.back()))) {
                piece.remove_suffix(1);
            }
            if (!piece.empty()) {
                items_.emplace_back(piece);
            }
            if (comma == std::string_view::npos) {
                return;
            }
            start = comma + 1;
        }
    }
    const std::vector<std::string> &items() const { return items_; }

  private:
    std::vector<std::string> items_;
};

// What listing one owner's repositories gave.
struct OwnerResult {
    std::string owner;
    gitfleet::Status status = gitfleet::Status::Ok;
    std::size_t repositories = 0;
    std::uint64_t reset = 0; // for Status::RateLimited: earliest reset, Unix seconds
};

// ---- small helpers --------------------------------------------------------------------------

// Formats Unix seconds as local time, "2024-05-01 12:34:56 CEST".
std::string local_time(std::uint64_t unix_s) {
    const auto t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    char buf[64];
    if (localtime_r(&t, &tm) == nullptr ||
        std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0) {
        std::snprintf(buf, sizeof buf, "%" PRIu64 " (Unix time)", unix_s);
    }
    return buf;
}

std::uint64_t now_unix() { return static_cast<std::uint64_t>(std::time(nullptr)); }

// Seconds from now until unix_s; 0 when it is past.
std::uint64_t seconds_until(std::uint64_t unix_s) {
    const std::uint64_t now = now_unix();
    return unix_s > now ? unix_s - now : 0;
}

std::uint64_t to_unix(gitfleet::TimePoint when) {
    return static_cast<std::uint64_t>(gitfleet::Clock::to_time_t(when));
}

// Prints a library error after `what`.
void report_error(const std::string &what, const gitfleet::Error &error) {
    std::fprintf(stderr, "%s: %s: %s\n", what.c_str(), error.status_name(), error.what());
}

// ---- step 1: configuration -------------------------------------------------------------------

// GITHUB_TOKENS if it names any token, else GITHUB_TOKEN.
void read_tokens(TokenList &list) {
    if (const char *many = std::getenv("GITHUB_TOKENS")) {
        list.parse(many);
    }
    const char *one = std::getenv("GITHUB_TOKEN");
    if (list.items().empty() && one != nullptr) {
        list.parse(one);
    }
}

std::string api_url() {
    const char *url = std::getenv("GITHUB_API_URL");
    return url != nullptr && url[0] != '\0' ? url : kDefaultApiUrl;
}

// GITFLEET_MAX_WAIT in seconds, kDefaultMaxWaitS when unset or unreadable.
std::uint64_t max_wait_seconds() {
    const char *text = std::getenv("GITFLEET_MAX_WAIT");
    if (text == nullptr || text[0] == '\0') {
        return kDefaultMaxWaitS;
    }
    char *end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0) {
        std::fprintf(stderr,
                     "GITFLEET_MAX_WAIT=\"%s\" is not a number of seconds; using %" PRIu64 "\n",
                     text, kDefaultMaxWaitS);
        return kDefaultMaxWaitS;
    }
    return static_cast<std::uint64_t>(value);
}

bool running_against_emulator() {
    const char *flag = std::getenv("GITFLEET_EMULATOR");
    return flag != nullptr && std::string(flag) == "1";
}

void print_no_token_help() {
    std::fprintf(stderr,
                 "No GitHub token found.\n"
                 "Set GITHUB_TOKENS to a comma-separated list of tokens, or GITHUB_TOKEN to one\n"
                 "token, e.g.  GITHUB_TOKENS=ghp_one,ghp_two build/cpp-demo/token_manager_cpp\n"
                 "Or run `make cpp-demo`, which starts the local GitHub API emulator with\n"
                 "simulated tokens and runs this example against it.\n");
}

void print_emulator_banner() {
    std::printf("\n"
                "************************************************************************\n"
                "*  DEMO MODE: this run talks to the local GitHub API emulator, with    *\n"
                "*  simulated tokens. It does NOT talk to GitHub.                       *\n"
                "************************************************************************\n"
                "\n");
}

// ---- reading snapshots -----------------------------------------------------------------------

// The "core" figures of one token, if the server has reported any.
const gitfleet::ResourceSnapshot *core_figures(const gitfleet::TokenSnapshot &token) {
    const auto core = token.resources.find("core");
    return core != token.resources.end() ? &core->second : nullptr;
}

// The snapshot's status string of token `index` (for statuses this wrapper does not know).
std::string raw_status(const std::string &snapshot_json, std::size_t index) {
    try {
        return nlohmann::json::parse(snapshot_json).at(index).at("status").get<std::string>();
    } catch (const std::exception &) {
        return "unknown";
    }
}

// The human form of a token's state ("Rate limited (resets at ...)").
std::string describe_status(const gitfleet::TokenSnapshot &token, const std::string &raw) {
    const std::string when =
        token.available_at ? local_time(*token.available_at) : "an unknown time";
    switch (token.status) {
    case gitfleet::TokenStatus::Available: return "Available";
    case gitfleet::TokenStatus::RateLimited: return "Rate limited (resets at " + when + ")";
    case gitfleet::TokenStatus::CoolingDown: return "Cooling down until " + when;
    case gitfleet::TokenStatus::Invalid: return "Invalid";
    case gitfleet::TokenStatus::Unknown: break;
    }
    return "Unknown status \"" + raw + "\"";
}

// The pool's snapshot, or nothing after printing why.
std::optional<gitfleet::Result<std::vector<gitfleet::TokenSnapshot>>>
pool_snapshot(const gitfleet::TokenManager &manager) {
    try {
        return manager.snapshot();
    } catch (const gitfleet::Error &e) {
        report_error("Could not read the pool", e);
        return std::nullopt;
    }
}

// ---- step 4: rate limits ---------------------------------------------------------------------

using Refreshed = std::map<std::string, gitfleet::TokenRateLimit>;

// "remaining/limit, resets at TIME" from a token's core figures.
std::string describe_core(const gitfleet::TokenSnapshot &token, const Refreshed *refreshed) {
    const gitfleet::ResourceSnapshot *core = core_figures(token);
    if (core == nullptr || !core->limit) {
        std::string why = "not reported yet";
        if (refreshed != nullptr) {
            const auto entry = refreshed->find(token.fingerprint);
            if (entry != refreshed->end() && entry->second.error) {
                why = *entry->second.error;
            }
        }
        return "no figures (" + why + ")";
    }
    const std::string left = core->remaining ? std::to_string(*core->remaining) : "?";
    return left + "/" + std::to_string(*core->limit) + ", resets at " +
           (core->reset ? local_time(*core->reset) : "an unknown time");
}

void show_rate_limits(const gitfleet::Client &client, const gitfleet::TokenManager &manager) {
    std::printf("Rate limits (GET /rate_limit, no quota used):\n");
    std::optional<gitfleet::Result<Refreshed>> refreshed;
    try {
        refreshed = client.refresh_rate_limits();
    } catch (const gitfleet::Error &e) {
        report_error("  Could not refresh the rate limits", e);
    }
    if (const auto snapshot = pool_snapshot(manager)) {
        for (std::size_t i = 0; i < snapshot->value.size(); ++i) {
            const gitfleet::TokenSnapshot &token = snapshot->value[i];
            std::printf("  Token %zu (%s): %s, %s\n", i + 1, token.fingerprint.c_str(),
                        describe_core(token, refreshed ? &refreshed->value : nullptr).c_str(),
                        describe_status(token, raw_status(snapshot->json, i)).c_str());
        }
    }
    std::printf("\n");
}

// ---- step 5: listing repositories ------------------------------------------------------------

void print_available(const gitfleet::TokenManager &manager, std::size_t total) {
    try {
        std::printf("  %zu/%zu tokens available\n", manager.count_available(), total);
    } catch (const gitfleet::Error &e) {
        report_error("  Could not count the available tokens", e);
    }
}

// One line showing what each token has left, so rotation is visible:
// "  per token: 0a29b51f3386 invalid, b8482204807a 1/2 left, ...".
void print_pool_line(const gitfleet::TokenManager &manager) {
    const auto snapshot = pool_snapshot(manager);
    if (!snapshot) {
        return;
    }
    std::printf("  per token:");
    for (std::size_t i = 0; i < snapshot->value.size(); ++i) {
        const gitfleet::TokenSnapshot &token = snapshot->value[i];
        const gitfleet::ResourceSnapshot *core = core_figures(token);
        std::printf("%s %s ", i == 0 ? "" : ",", token.fingerprint.c_str());
        if (token.status != gitfleet::TokenStatus::Available &&
            token.status != gitfleet::TokenStatus::RateLimited) {
            std::printf("%s", token.status == gitfleet::TokenStatus::CoolingDown
                                  ? "cooling down"
                                  : raw_status(snapshot->json, i).c_str());
        } else if (core != nullptr && core->remaining && core->limit) {
            std::printf("%" PRIu64 "/%" PRIu64 " left", *core->remaining, *core->limit);
        } else {
            std::printf("%s", gitfleet::to_string(token.status));
        }
    }
    std::printf("\n");
}

void list_owner(const gitfleet::Client &client, const gitfleet::TokenManager &manager,
                std::size_t pool_total, OwnerResult &result) {
    result.reset = 0;
    try {
        const auto repos = client.owner_repositories(result.owner);
        result.status = gitfleet::Status::Ok;
        result.repositories = repos->size();
        std::printf("Found %zu repositories for %s\n", result.repositories, result.owner.c_str());
    } catch (const gitfleet::Error &e) {
        result.status = e.status();
        std::printf("  Could not list %s: %s: %s\n", result.owner.c_str(), e.status_name(),
                    e.what());
        if (const auto *limited = dynamic_cast<const gitfleet::RateLimitError *>(&e)) {
            result.reset = limited->reset_unix();
            std::printf("  Every token is spent; the earliest reset is at %s (in %" PRIu64 " s)\n",
                        local_time(result.reset).c_str(), seconds_until(result.reset));
        }
    }
    print_available(manager, pool_total);
    print_pool_line(manager);
}

// ---- step 6: waiting for a reset -------------------------------------------------------------

// The earliest reset among owners that failed with a rate limit, or 0.
std::uint64_t earliest_failed_reset(const std::vector<OwnerResult> &results) {
    std::uint64_t earliest = 0;
    for (const OwnerResult &result : results) {
        if (result.status == gitfleet::Status::RateLimited && result.reset != 0 &&
            (earliest == 0 || result.reset < earliest)) {
            earliest = result.reset;
        }
    }
    return earliest;
}

// When the pool says a token is back: its own earliest reset, or failing that (tokens already
// back) the one the failures carried.
std::uint64_t next_reset(const gitfleet::TokenManager &manager, std::uint64_t from_failures) {
    try {
        const auto reset = manager.earliest_reset();
        return reset ? to_unix(*reset) : from_failures;
    } catch (const gitfleet::Error &e) {
        report_error("Could not read the earliest reset", e);
        return from_failures;
    }
}

void retry_rate_limited(const gitfleet::Client &client, const gitfleet::TokenManager &manager,
                        std::size_t pool_total, std::vector<OwnerResult> &results) {
    std::size_t limited = 0;
    for (const OwnerResult &result : results) {
        limited += result.status == gitfleet::Status::RateLimited ? 1 : 0;
    }
    if (limited == 0) {
        return;
    }
    const std::uint64_t max_wait = max_wait_seconds();
    const std::uint64_t reset = next_reset(manager, earliest_failed_reset(results));
    const std::uint64_t wait = seconds_until(reset);
    std::printf("\n%zu owner(s) failed because every token was spent.\n", limited);
    if (reset == 0 || wait > max_wait) {
        std::printf("The earliest reset (%s) is more than %" PRIu64
                    " s away (GITFLEET_MAX_WAIT); not waiting.\n",
                    reset != 0 ? local_time(reset).c_str() : "unknown", max_wait);
        return;
    }
    std::printf("Waiting until the earliest reset at %s (%" PRIu64 " s, limit %" PRIu64
                " s), then retrying them once.\n",
                local_time(reset).c_str(), wait + 1, max_wait);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(wait + 1));
    for (OwnerResult &result : results) {
        if (result.status == gitfleet::Status::RateLimited) {
            list_owner(client, manager, pool_total, result);
        }
    }
}

// ---- step 7: summary -------------------------------------------------------------------------

void print_summary(const std::vector<OwnerResult> &results) {
    std::size_t total = 0;
    std::printf("\nSummary\n");
    for (const OwnerResult &result : results) {
        if (result.status == gitfleet::Status::Ok) {
            total += result.repositories;
            std::printf("  %-16s %zu repositories\n", result.owner.c_str(), result.repositories);
        } else {
            std::printf("  %-16s failed (%s)\n", result.owner.c_str(),
                        gitfleet::status_name(result.status));
        }
    }
    std::printf("  Total: %zu repositories\n", total);
}

void print_final_token_states(const gitfleet::TokenManager &manager) {
    const auto snapshot = pool_snapshot(manager);
    if (!snapshot) {
        return;
    }
    std::printf("\nFinal token status\n");
    for (std::size_t i = 0; i < snapshot->value.size(); ++i) {
        const gitfleet::TokenSnapshot &token = snapshot->value[i];
        std::printf("  Token %zu (%s): %s\n", i + 1, token.fingerprint.c_str(),
                    describe_status(token, raw_status(snapshot->json, i)).c_str());
    }
}

// ---- the workflow ----------------------------------------------------------------------------

// A pool holding `tokens`; nothing (after a message) on error.
std::optional<gitfleet::TokenManager> make_manager(const TokenList &tokens) {
    gitfleet::TokenManager manager;
    for (std::size_t i = 0; i < tokens.items().size(); ++i) {
        try {
            manager.add_token(tokens.items()[i]);
        } catch (const gitfleet::Error &e) {
            report_error("Could not add token " + std::to_string(i + 1), e);
            return std::nullopt;
        }
    }
    return manager;
}

// A pool filled from the encrypted credential store at `path`, opened with the password in
// GITFLEET_STORE_PASSWORD; nothing (after a message) on error.
std::optional<gitfleet::TokenManager> manager_from_store(const char *path) {
    const char *password = std::getenv("GITFLEET_STORE_PASSWORD");
    if (password == nullptr || password[0] == '\0') {
        std::fprintf(stderr, "GITFLEET_STORE is set: put the store's password in "
                             "GITFLEET_STORE_PASSWORD\n");
        return std::nullopt;
    }
    gitfleet::Store store;
    try {
        store = gitfleet::Store::open(path, password);
    } catch (const gitfleet::Error &e) {
        report_error("Could not open the credential store", e);
        return std::nullopt;
    }
    gitfleet::TokenManager manager;
    try {
        const std::size_t loaded = store.load_into(manager);
        std::printf("Loaded %zu token(s) from the credential store %s\n", loaded, path);
    } catch (const gitfleet::Error &e) {
        report_error("Could not load the credential store", e);
        return std::nullopt;
    }
    return manager;
}

// Runs steps 3 to 7 on a filled pool. `default_token` (may be NULL) joins the pool once, as in
// the reference.
int run_workflow(const gitfleet::TokenManager &manager, const char *default_token,
                 const std::string &url, const std::vector<std::string> &owners) {
    std::optional<gitfleet::Client> client;
    try {
        gitfleet::ClientOptions options;
        options.base_url(url);
        if (default_token != nullptr) {
            options.token(default_token);
        }
        client.emplace(options.token_manager(manager));
    } catch (const gitfleet::Error &e) {
        report_error("Could not create the client", e);
        return kExitSetup;
    }

    const auto snapshot = pool_snapshot(manager);
    const std::size_t total = snapshot ? snapshot->value.size() : 0;
    std::printf("Pool: %zu distinct token(s)\n\n", total);
    show_rate_limits(*client, manager);

    std::printf("Listing repositories\n");
    std::vector<OwnerResult> results(owners.size());
    for (std::size_t i = 0; i < owners.size(); ++i) {
        results[i].owner = owners[i];
        list_owner(*client, manager, total, results[i]);
    }
    retry_rate_limited(*client, manager, total, results);
    print_summary(results);
    print_final_token_states(manager);
    return kExitRan;
}

} // namespace

int main(int argc, char **argv) {
    try {
        const std::string url = api_url();
        const std::vector<std::string> owners =
            argc > 1 ? std::vector<std::string>(argv + 1, argv + argc) : kDefaultOwners;

        const char *store_path = std::getenv("GITFLEET_STORE");
        if (store_path != nullptr && store_path[0] != '\0') {
            std::printf("gitfleet %s: token manager example\n", gitfleet::version());
            if (running_against_emulator()) {
                print_emulator_banner();
            }
            const auto manager = manager_from_store(store_path);
            if (!manager) {
                return kExitSetup;
            }
            std::printf("Using the stored GitHub token(s) against %s\n", url.c_str());
            return run_workflow(*manager, nullptr, url, owners);
        }

        TokenList tokens;
        read_tokens(tokens);
        if (tokens.items().empty()) {
            print_no_token_help();
            return kExitNoTokens;
        }

        std::printf("gitfleet %s: token manager example\n", gitfleet::version());
        if (running_against_emulator()) {
            print_emulator_banner();
        }
        std::printf("Using %zu GitHub token(s) against %s\n", tokens.items().size(), url.c_str());

        const auto manager = make_manager(tokens);
        if (!manager) {
            return kExitSetup;
        }
        return run_workflow(*manager, tokens.items()[0].c_str(), url, owners);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "Unexpected error: %s\n", e.what());
        return kExitSetup;
    }
}
