// two_units.hpp — what the two translation units of the two-unit program call in each other.

#ifndef GITFLEET_TESTS_TWO_UNITS_HPP
#define GITFLEET_TESTS_TWO_UNITS_HPP

#include <future>
#include <string>

#include "gitfleet.hpp"

namespace two_units {

std::string fingerprint_in_a(const gitfleet::TokenManager &pool);
std::string fingerprint_in_b(const gitfleet::TokenManager &pool);
gitfleet::User parse_user_in_b(const std::string &json);
void throw_auth_error_in_b();
gitfleet::Request start_in_a(const gitfleet::Client &client, std::promise<gitfleet::Status> &out);
gitfleet::Request start_in_b(const gitfleet::Client &client, std::promise<gitfleet::Status> &out);

} // namespace two_units

#endif // GITFLEET_TESTS_TWO_UNITS_HPP
