// test_support.cpp — the emulators and helpers of test_support.hpp, and the tests' main().

#include "test_support.hpp"

#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "emulator_process.hpp"

namespace gitfleet_test {
namespace {

struct Emulators {
    std::mutex mutex;
    std::unique_ptr<EmulatorProcess> main;
    std::unique_ptr<EmulatorProcess> slow;
    std::unique_ptr<EmulatorProcess> short_window;
};

Emulators &emulators() {
    static Emulators instance;
    return instance;
}

const std::string &started(std::unique_ptr<EmulatorProcess> &slot,
                           const std::vector<std::string> &args) {
    std::lock_guard<std::mutex> lock(emulators().mutex);
    if (!slot) {
        slot = std::make_unique<EmulatorProcess>(args);
    }
    return slot->url();
}

// Stops the emulators after the last test.
class EmulatorEnvironment : public ::testing::Environment {
  public:
    void TearDown() override {
        std::lock_guard<std::mutex> lock(emulators().mutex);
        emulators().main.reset();
        emulators().slow.reset();
        emulators().short_window.reset();
    }
};

} // namespace

const std::string &main_url() {
    return started(
        emulators().main,
        {"--window", "600",           "--token",   "cpp_rot_a:100",    "--token", "cpp_rot_b:100",
         "--token",  "cpp_rot_c:100", "--revoked", "cpp_revoked",      "--token", "cpp_inv_ok:100",
         "--token",  "cpp_ex_a:2",    "--token",   "cpp_ex_b:2",       "--token", "cpp_page:1000",
         "--token",  "cpp_misc:1000", "--token",   "cpp_async:100000", "--token", "cpp_shared:100",
         "--token",  "cpp_two:100"});
}

const std::string &slow_url() {
    return started(emulators().slow,
                   {"--window", "600", "--delay-ms", std::to_string(slow_delay.count()), "--token",
                    "cpp_slow:1000"});
}

const std::string &short_window_url() {
    return started(emulators().short_window, {"--window", "2", "--token", "cpp_short:1"});
}

gitfleet::TokenManager pool_of(std::initializer_list<const char *> secrets) {
    gitfleet::TokenManager pool;
    for (const char *secret : secrets) {
        pool.add_token(secret);
    }
    return pool;
}

gitfleet::ClientOptions options_for(const std::string &url, const gitfleet::TokenManager &pool) {
    gitfleet::ClientOptions options;
    options.base_url(url)
        .token_manager(pool)
        .timeout(std::chrono::seconds(10))
        .connect_timeout(std::chrono::seconds(2));
    return options;
}

gitfleet::Client client_for(const std::string &url, const gitfleet::TokenManager &pool) {
    return gitfleet::Client(options_for(url, pool));
}

gitfleet::TokenSnapshot token_in(const gitfleet::TokenManager &pool,
                                 const std::string &fingerprint) {
    for (gitfleet::TokenSnapshot &token : pool.snapshot().value) {
        if (token.fingerprint == fingerprint) {
            return token;
        }
    }
    ADD_FAILURE() << "no token " << fingerprint << " in the pool";
    return {};
}

gitfleet::ResourceSnapshot core_of(const gitfleet::TokenManager &pool, std::size_t index) {
    const auto snapshot = pool.snapshot();
    if (index >= snapshot->size()) {
        ADD_FAILURE() << "no token at " << index;
        return {};
    }
    const auto &resources = snapshot.value[index].resources;
    const auto core = resources.find("core");
    if (core == resources.end()) {
        ADD_FAILURE() << "no core figures for token " << index;
        return {};
    }
    return core->second;
}

std::uint64_t now_unix() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(gitfleet::Clock::now().time_since_epoch())
            .count());
}

bool contains_secret(const std::string &text) { return text.find("cpp_") != std::string::npos; }

} // namespace gitfleet_test

int main(int argc, char **argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new gitfleet_test::EmulatorEnvironment);
    return RUN_ALL_TESTS();
}
