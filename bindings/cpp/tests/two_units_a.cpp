// two_units_a.cpp — with two_units_b.cpp, one program whose two translation units both include
// gitfleet.hpp and instantiate the same templates (parse, Result, Completion, the async
// holders): it must link (every definition inline) and behave as one (an exception thrown in
// one unit is caught by its type in the other). Runs without a network.

#include <cstdio>
#include <string>

#include "gitfleet.hpp"
#include "two_units.hpp"

namespace two_units {

std::string fingerprint_in_a(const gitfleet::TokenManager &pool) {
    return pool.snapshot().value.at(0).fingerprint;
}

gitfleet::Request start_in_a(const gitfleet::Client &client, std::promise<gitfleet::Status> &out) {
    return client.user_async("octocat", [&out](gitfleet::Completion<gitfleet::User> done) {
        out.set_value(done.status());
    });
}

} // namespace two_units

int main() {
    int failures = 0;
    auto check = [&failures](bool ok, const char *what) {
        std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
        failures += ok ? 0 : 1;
    };

    gitfleet::TokenManager pool;
    pool.add_token("two_units_token");
    check(two_units::fingerprint_in_a(pool) == two_units::fingerprint_in_b(pool),
          "both units read the same snapshot");
    check(two_units::parse_user_in_b(R"({"login": "octocat", "id": 1})").login == "octocat",
          "parse<User> from the other unit");

    try {
        two_units::throw_auth_error_in_b();
        check(false, "an AuthError thrown in b is caught in a");
    } catch (const gitfleet::AuthError &e) {
        check(e.status() == gitfleet::Status::Auth, "an AuthError thrown in b is caught in a");
    }

    // An async call started in each unit against a closed port: both complete, once, with
    // the error of the unreachable server.
    gitfleet::Client client(gitfleet::ClientOptions()
                                .base_url("http://127.0.0.1:1")
                                .token_manager(pool)
                                .max_retries(0));
    std::promise<gitfleet::Status> from_a;
    std::promise<gitfleet::Status> from_b;
    const gitfleet::Request a = two_units::start_in_a(client, from_a);
    const gitfleet::Request b = two_units::start_in_b(client, from_b);
    const gitfleet::Status status_a = from_a.get_future().get();
    const gitfleet::Status status_b = from_b.get_future().get();
    check(status_a == gitfleet::Status::Network && status_b == gitfleet::Status::Network,
          "async calls from both units complete with NetworkError");

    std::printf("two units: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
