// test_support.hpp — shared fixtures of the C++ tests: the emulators (started on first use,
// once per test process, stopped at the end) and small helpers.

#ifndef GITFLEET_TESTS_TEST_SUPPORT_HPP
#define GITFLEET_TESTS_TEST_SUPPORT_HPP

#include <chrono>
#include <initializer_list>
#include <string>

#include "gitfleet.hpp"

namespace gitfleet_test {

/// The main emulator: answers at once, 600-second windows. Its tokens (secret:quota):
///   cpp_rot_a/b/c:100, cpp_inv_ok:100, cpp_ex_a/b:2, cpp_page:1000, cpp_misc:1000,
///   cpp_async:100000, cpp_shared:100, cpp_two:100; revoked: cpp_revoked.
const std::string &main_url();
/// A slow emulator: every answer delayed by slow_delay(); token cpp_slow:1000.
const std::string &slow_url();
/// An emulator with 2-second windows: token cpp_short:1.
const std::string &short_window_url();

/// How long the slow emulator waits before each answer.
constexpr std::chrono::milliseconds slow_delay{400};

/// A pool holding `secrets`.
gitfleet::TokenManager pool_of(std::initializer_list<const char *> secrets);

/// Options for `url` drawing on `pool`, with short timeouts fit for the loopback emulator.
gitfleet::ClientOptions options_for(const std::string &url, const gitfleet::TokenManager &pool);

/// A client for `url` drawing on `pool`.
gitfleet::Client client_for(const std::string &url, const gitfleet::TokenManager &pool);

/// The snapshot entry of the token with `fingerprint`; fails the test if it has none.
gitfleet::TokenSnapshot token_in(const gitfleet::TokenManager &pool,
                                 const std::string &fingerprint);

/// The "core" figures of the token at `index` in the pool's snapshot.
gitfleet::ResourceSnapshot core_of(const gitfleet::TokenManager &pool, std::size_t index);

/// Unix seconds now.
std::uint64_t now_unix();

/// True when `text` holds any of the test secrets (it never should).
bool contains_secret(const std::string &text);

} // namespace gitfleet_test

#endif // GITFLEET_TESTS_TEST_SUPPORT_HPP
