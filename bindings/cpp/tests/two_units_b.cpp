// two_units_b.cpp — the second translation unit of the two-unit program (see two_units_a.cpp).

#include <string>

#include "gitfleet.hpp"
#include "two_units.hpp"

namespace two_units {

std::string fingerprint_in_b(const gitfleet::TokenManager &pool) {
    return pool.snapshot().value.at(0).fingerprint;
}

gitfleet::User parse_user_in_b(const std::string &json) {
    return gitfleet::parse<gitfleet::User>(json);
}

void throw_auth_error_in_b() {
    gitfleet::TokenManager empty;
    (void)empty.lease(); // no valid token: AuthError
}

gitfleet::Request start_in_b(const gitfleet::Client &client, std::promise<gitfleet::Status> &out) {
    return client.user_async("octocat", [&out](gitfleet::Completion<gitfleet::User> done) {
        out.set_value(done.status());
    });
}

} // namespace two_units
