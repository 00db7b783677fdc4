// test_pool.cpp — the parts of the wrapper that do no I/O: the token manager, leases and what
// a reported response does, errors, ownership and moves, and the models read from JSON.

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include "gitfleet.hpp"
#include "test_support.hpp"

using namespace gitfleet;
using gitfleet_test::contains_secret;
using gitfleet_test::core_of;
using gitfleet_test::now_unix;
using gitfleet_test::pool_of;

namespace {

bool is_fingerprint(const std::string &text) {
    if (text.size() != 12) {
        return false;
    }
    for (char c : text) {
        if (!std::isxdigit(static_cast<unsigned char>(c)) ||
            std::isupper(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// Rate-limit headers of a response: `remaining` of `limit` left until `reset`.
Headers figures(std::uint64_t limit, std::uint64_t remaining, std::uint64_t reset) {
    return {{"x-ratelimit-limit", std::to_string(limit)},
            {"x-ratelimit-remaining", std::to_string(remaining)},
            {"x-ratelimit-used", std::to_string(limit - remaining)},
            {"x-ratelimit-reset", std::to_string(reset)},
            {"x-ratelimit-resource", "core"}};
}

} // namespace

// ---- basics ------------------------------------------------------------------------------

TEST(Basics, VersionAndStatusNames) {
    const std::string expected = std::to_string(GF_VERSION_MAJOR) + "." +
                                 std::to_string(GF_VERSION_MINOR) + "." +
                                 std::to_string(GF_VERSION_PATCH);
    EXPECT_EQ(version(), expected);
    EXPECT_STREQ(status_name(Status::RateLimited), "GF_STATUS_RATE_LIMITED");
    EXPECT_STREQ(status_name(Status::ShutDown), "GF_STATUS_SHUT_DOWN");
    EXPECT_STREQ(status_name(static_cast<Status>(99)), "GF_STATUS_UNKNOWN");
    EXPECT_EQ(static_cast<int>(Status::Cancelled), GF_STATUS_CANCELLED);
    EXPECT_STREQ(to_string(TokenStatus::CoolingDown), "cooling_down");
    EXPECT_STREQ(to_string(Outcome::PrimaryLimit), "primary_limit");
    EXPECT_STREQ(to_string(Provider::Bitbucket), "bitbucket");
}

TEST(Basics, UnixSecondsBecomeTimePoints) {
    EXPECT_EQ(from_unix_seconds(0), TimePoint{});
    EXPECT_EQ(Clock::to_time_t(from_unix_seconds(1700000000)), 1700000000);
    EXPECT_EQ(from_unix_seconds(UINT64_MAX), TimePoint::max()); // clamped, no overflow
}

TEST(Basics, ErrorClassesCarryTheirDetails) {
    static_assert(std::is_base_of_v<std::runtime_error, Error>);
    static_assert(std::is_base_of_v<Error, RateLimitError>);
    static_assert(std::is_base_of_v<Error, ShutDownError>);
    const RateLimitError limited("spent", 1700000000, "search");
    EXPECT_EQ(limited.status(), Status::RateLimited);
    EXPECT_STREQ(limited.status_name(), "GF_STATUS_RATE_LIMITED");
    EXPECT_EQ(limited.reset_unix(), 1700000000u);
    EXPECT_EQ(Clock::to_time_t(limited.reset()), 1700000000);
    EXPECT_EQ(limited.resource(), "search");
    EXPECT_EQ(limited.message(), "spent");
    EXPECT_EQ(SecondaryLimitError("slow down", std::chrono::seconds(30)).retry_after(),
              std::chrono::seconds(30));
    EXPECT_EQ(HttpError("teapot", 418).http_status(), 418);
    EXPECT_EQ(NotFoundError("gone").http_status(), 404);
    EXPECT_EQ(CancelledError("x").status(), Status::Cancelled);
}

TEST(Basics, FailuresOfTheCApiBecomeTheMatchingException) {
    // An empty pool: no valid token, so leasing is an AuthError.
    TokenManager pool;
    try {
        (void)pool.lease();
        FAIL() << "leased from an empty pool";
    } catch (const AuthError &e) {
        EXPECT_EQ(e.status(), Status::Auth);
        EXPECT_FALSE(std::string(e.what()).empty());
    }
    // A refused argument is an InvalidArgument that never quotes the secret.
    try {
        pool.add_token("cpp_with space");
        FAIL() << "a token with a space was accepted";
    } catch (const InvalidArgument &e) {
        EXPECT_EQ(e.status(), Status::InvalidArgument);
        EXPECT_FALSE(contains_secret(e.what())) << e.what();
    }
    EXPECT_THROW(pool.add_token(static_cast<const char *>(nullptr)), InvalidArgument);
    EXPECT_THROW(pool.add_token("cpp_bad_utf8_\xff"), InvalidArgument);
    EXPECT_THROW(pool.set_reserve_fraction(1.5), InvalidArgument);
    EXPECT_THROW((void)pool.count_available(static_cast<Provider>(42)), InvalidArgument);
}

// ---- the token manager -------------------------------------------------------------------

TEST(TokenManager, SnapshotShowsFingerprintsNeverSecrets) {
    TokenManager pool;
    pool.add_token("cpp_snap_a", Provider::GitHub, "alice", 5);
    pool.add_token("cpp_snap_b", Provider::GitLab);
    pool.add_token("cpp_snap_a", Provider::GitHub, "alice2", 7); // same secret: one entry
    const auto snapshot = pool.snapshot();
    ASSERT_EQ(snapshot->size(), 2u);
    EXPECT_FALSE(contains_secret(snapshot.json)) << snapshot.json;
    const TokenSnapshot &a = snapshot.value[0];
    EXPECT_TRUE(is_fingerprint(a.fingerprint)) << a.fingerprint;
    EXPECT_EQ(a.provider, Provider::GitHub);
    EXPECT_EQ(a.username, "alice2");
    EXPECT_EQ(a.priority, 7);
    EXPECT_EQ(a.status, TokenStatus::Available);
    EXPECT_FALSE(a.available_at.has_value());
    EXPECT_TRUE(a.resources.empty()); // nothing reported yet
    EXPECT_EQ(snapshot.value[1].provider, Provider::GitLab);
    EXPECT_FALSE(snapshot.value[1].username.has_value());
    EXPECT_NE(a.fingerprint, snapshot.value[1].fingerprint);
}

TEST(TokenManager, RemoveMarkInvalidAndCount) {
    TokenManager pool = pool_of({"cpp_cnt_a", "cpp_cnt_b", "cpp_cnt_c"});
    EXPECT_EQ(pool.count_available(), 3u);
    EXPECT_EQ(pool.count_available(Provider::GitLab), 0u);
    EXPECT_TRUE(pool.mark_invalid("cpp_cnt_b"));
    EXPECT_FALSE(pool.mark_invalid("cpp_not_pooled"));
    EXPECT_EQ(pool.count_available(), 2u);
    EXPECT_EQ(pool.snapshot().value[1].status, TokenStatus::Invalid);
    EXPECT_TRUE(pool.remove_token("cpp_cnt_a"));
    EXPECT_FALSE(pool.remove_token("cpp_cnt_a"));
    EXPECT_EQ(pool.snapshot()->size(), 2u);
    EXPECT_EQ(pool.count_available(), 1u);
    pool.add_token("cpp_cnt_b"); // adding an invalid token again makes it usable
    EXPECT_EQ(pool.count_available(), 2u);
    EXPECT_FALSE(pool.earliest_reset().has_value());
}

TEST(TokenManager, UpdateFromHeadersRecordsFigures) {
    TokenManager pool = pool_of({"cpp_upd"});
    const std::uint64_t reset = now_unix() + 600;
    EXPECT_TRUE(pool.update_from_headers("cpp_upd", figures(5000, 4321, reset)));
    EXPECT_FALSE(pool.update_from_headers("cpp_other", figures(5000, 1, reset)));
    const ResourceSnapshot core = core_of(pool, 0);
    EXPECT_EQ(core.limit, 5000u);
    EXPECT_EQ(core.remaining, 4321u);
    EXPECT_EQ(core.used, 679u);
    EXPECT_EQ(core.status, TokenStatus::Available);
    // Headers without rate-limit figures change nothing.
    EXPECT_TRUE(pool.update_from_headers("cpp_upd", {{"content-type", "application/json"}}));
    EXPECT_EQ(core_of(pool, 0).remaining, 4321u);
}

TEST(TokenManager, RoundRobinLeasesEachTokenInTurn) {
    TokenManager pool = pool_of({"cpp_rr_a", "cpp_rr_b", "cpp_rr_c"});
    pool.set_strategy(Strategy::RoundRobin);
    const auto snapshot = pool.snapshot();
    std::vector<std::string> order;
    for (int i = 0; i < 6; ++i) {
        Lease lease = pool.lease();
        order.push_back(lease.fingerprint());
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(order[i], snapshot.value[i % 3].fingerprint) << "lease " << i;
    }
}

TEST(TokenManager, ReserveKeepsRequestsUntouched) {
    TokenManager pool = pool_of({"cpp_res"});
    pool.update_from_headers("cpp_res", figures(100, 10, now_unix() + 600));
    pool.set_reserve_count(10);
    EXPECT_EQ(pool.count_available(), 0u);
    EXPECT_THROW((void)pool.lease(), RateLimitError);
    pool.set_reserve_fraction(0.05); // 5 of 100
    EXPECT_EQ(pool.count_available(), 1u);
    pool.set_reserve_count(0);
    EXPECT_NO_THROW((void)pool.lease());
}

// ---- leases ------------------------------------------------------------------------------

TEST(Lease, ReportsSuccessThenSpentToken) {
    TokenManager pool = pool_of({"cpp_lease"});
    const std::uint64_t reset = now_unix() + 900;
    {
        Lease lease = pool.lease();
        ASSERT_TRUE(lease);
        EXPECT_STREQ(lease.token(), "cpp_lease"); // the one accessor that gives it back
        EXPECT_EQ(lease.fingerprint(), pool.snapshot().value[0].fingerprint);
        EXPECT_EQ(core_of(pool, 0).in_flight, 1u);
        EXPECT_EQ(lease.report(200, figures(60, 1, reset), "{}"), Outcome::Success);
        EXPECT_THROW(lease.report(200, figures(60, 1, reset)), InvalidArgument); // only once
    }
    EXPECT_EQ(core_of(pool, 0).remaining, 1u);
    EXPECT_EQ(core_of(pool, 0).in_flight, 0u);

    Lease last = pool.lease();
    const std::string body = R"({"message":"API rate limit exceeded for user ID 1."})";
    EXPECT_EQ(last.report(403, figures(60, 0, reset), body), Outcome::PrimaryLimit);
    EXPECT_EQ(pool.snapshot().value[0].status, TokenStatus::RateLimited);
    EXPECT_EQ(pool.count_available(), 0u);
    try {
        (void)pool.lease();
        FAIL() << "leased a spent token";
    } catch (const RateLimitError &e) {
        EXPECT_EQ(e.resource(), "core");
        EXPECT_NEAR(static_cast<double>(e.reset_unix()), static_cast<double>(reset), 2.0);
        EXPECT_EQ(e.http_status(), 0);
    }
    const auto earliest = pool.earliest_reset();
    ASSERT_TRUE(earliest.has_value());
    EXPECT_NEAR(static_cast<double>(Clock::to_time_t(*earliest)), static_cast<double>(reset), 2.0);
}

TEST(Lease, UnauthorizedMakesTheTokenInvalid) {
    TokenManager pool = pool_of({"cpp_401"});
    Lease lease = pool.lease();
    EXPECT_EQ(lease.report(401, {}, R"({"message":"Bad credentials"})"), Outcome::InvalidToken);
    EXPECT_EQ(pool.snapshot().value[0].status, TokenStatus::Invalid);
    EXPECT_THROW((void)pool.lease(), AuthError);
}

TEST(Lease, SecondaryLimitCoolsTheTokenDown) {
    TokenManager pool = pool_of({"cpp_2nd"});
    Lease lease = pool.lease();
    const std::string body = R"({"message":"You have exceeded a secondary rate limit."})";
    EXPECT_EQ(lease.report(403, {{"retry-after", "30"}}, body), Outcome::SecondaryLimit);
    const TokenSnapshot token = pool.snapshot().value[0];
    EXPECT_EQ(token.status, TokenStatus::CoolingDown);
    ASSERT_TRUE(token.available_at.has_value());
    EXPECT_GE(*token.available_at, now_unix() + 25);
}

TEST(Lease, OtherAnswersAreClassified) {
    TokenManager pool = pool_of({"cpp_other_answers"});
    const std::pair<std::uint16_t, Outcome> cases[] = {
        {304, Outcome::NotModified}, {403, Outcome::Forbidden},  {404, Outcome::NotFound},
        {502, Outcome::ServerError}, {418, Outcome::OtherError},
    };
    for (const auto &[status, outcome] : cases) {
        Lease lease = pool.lease();
        EXPECT_EQ(lease.report(status, {}, R"({"message":"x"})"), outcome) << status;
    }
    EXPECT_EQ(pool.snapshot().value[0].status, TokenStatus::Available); // none hurt the token
    Lease lease = pool.lease();
    EXPECT_THROW(lease.report(99), InvalidArgument);
    // A refused report leaves the lease unreported; header names that are not UTF-8 and
    // figures that do not parse are ignored.
    EXPECT_EQ(lease.report(200, {{"bad\xff", "x"}, {"x-ratelimit-remaining", "oops"}}),
              Outcome::Success);
}

TEST(Lease, AnUnreportedLeaseGivesItsUseBack) {
    TokenManager pool = pool_of({"cpp_back"});
    pool.update_from_headers("cpp_back", figures(10, 1, now_unix() + 600));
    {
        Lease lease = pool.lease();
        EXPECT_EQ(pool.count_available(), 0u); // its one request is held
    }
    EXPECT_EQ(pool.count_available(), 1u);
}

TEST(Lease, KeepsThePoolAliveAfterTheManagerObjectIsGone) {
    Lease lease;
    {
        TokenManager pool = pool_of({"cpp_alive"});
        lease = pool.lease();
    }
    EXPECT_STREQ(lease.token(), "cpp_alive");
    EXPECT_EQ(lease.report(200), Outcome::Success);
}

// ---- ownership ---------------------------------------------------------------------------

static_assert(!std::is_copy_constructible_v<TokenManager>);
static_assert(!std::is_copy_assignable_v<Client>);
static_assert(!std::is_copy_constructible_v<Lease>);
static_assert(!std::is_copy_constructible_v<Request>);
static_assert(!std::is_copy_constructible_v<ClientOptions>);
static_assert(std::is_nothrow_move_constructible_v<TokenManager>);
static_assert(std::is_nothrow_move_assignable_v<Client>);
static_assert(std::is_nothrow_move_constructible_v<Lease>);
static_assert(std::is_nothrow_move_assignable_v<Request>);
static_assert(std::is_nothrow_move_constructible_v<ClientOptions>);

TEST(Ownership, MovedFromObjectsAreEmptyAndRefuseCalls) {
    TokenManager pool = pool_of({"cpp_move"});
    TokenManager moved = std::move(pool);
    EXPECT_FALSE(pool); // NOLINT(bugprone-use-after-move): testing exactly that
    EXPECT_TRUE(moved);
    EXPECT_THROW(pool.add_token("cpp_move_2"), InvalidArgument);
    EXPECT_THROW((void)pool.snapshot(), InvalidArgument);
    EXPECT_THROW((void)pool.lease(), InvalidArgument);
    EXPECT_EQ(moved.snapshot()->size(), 1u);

    Lease lease = moved.lease();
    Lease other = std::move(lease);
    EXPECT_FALSE(lease); // NOLINT(bugprone-use-after-move)
    EXPECT_STREQ(lease.token(), "");
    EXPECT_EQ(lease.fingerprint(), "");
    EXPECT_THROW(lease.report(200), InvalidArgument);
    EXPECT_EQ(other.report(200), Outcome::Success);

    Request request;
    EXPECT_FALSE(request);
    EXPECT_FALSE(request.is_done());
    EXPECT_THROW(request.cancel(), InvalidArgument);

    ClientOptions options;
    ClientOptions taken = std::move(options);
    EXPECT_THROW(options.base_url("http://127.0.0.1:1"), InvalidArgument); // NOLINT
    EXPECT_THROW(Client{options}, InvalidArgument);
    Client client(taken.base_url("http://127.0.0.1:1").token_manager(moved));
    Client client2 = std::move(client);
    EXPECT_FALSE(client); // NOLINT(bugprone-use-after-move)
    EXPECT_THROW((void)client.rate_limit(), InvalidArgument);
    EXPECT_TRUE(client2);
}

TEST(Ownership, MoveAssignmentFreesTheOldHandleAndSelfMoveIsSafe) {
    TokenManager a = pool_of({"cpp_assign_a"});
    TokenManager b = pool_of({"cpp_assign_b", "cpp_assign_c"});
    a = std::move(b); // the old pool of `a` is freed here (ASan would see a leak otherwise)
    EXPECT_EQ(a.snapshot()->size(), 2u);
    TokenManager &alias = a;
    a = std::move(alias);
    EXPECT_EQ(a.snapshot()->size(), 2u);

    Lease first = a.lease();
    Lease second = a.lease();
    first = std::move(second); // the first lease is freed: its use given back
    EXPECT_EQ(core_of(a, 0).in_flight + core_of(a, 1).in_flight, 1u);
}

TEST(Ownership, ReleasedHandlesBelongToTheCaller) {
    TokenManager pool;
    gf_token_manager *raw = pool.release();
    EXPECT_FALSE(pool);
    ASSERT_NE(raw, nullptr);
    TokenManager adopted(raw);
    adopted.add_token("cpp_adopted");
    EXPECT_EQ(adopted.snapshot()->size(), 1u);
}

// ---- options -----------------------------------------------------------------------------

TEST(ClientOptions, RefusedValuesThrowInvalidArgument) {
    ClientOptions options;
    EXPECT_THROW(options.timeout(std::chrono::milliseconds(0)), InvalidArgument);
    EXPECT_THROW(options.connect_timeout(std::chrono::milliseconds(-5)), InvalidArgument);
    EXPECT_THROW(options.user_agent(""), InvalidArgument);
    EXPECT_THROW(options.token("cpp bad token"), InvalidArgument);
    EXPECT_NO_THROW(options.max_retries(0).max_wait(std::chrono::seconds(1)));
    EXPECT_THROW(Client{ClientOptions().base_url("ftp://example.com")}, InvalidArgument);
    EXPECT_THROW(Client{ClientOptions().base_url("not a url")}, InvalidArgument);
}

TEST(ClientOptions, BadInputsAreRefusedBeforeAnyRequest) {
    TokenManager pool = pool_of({"cpp_input"});
    Client client(ClientOptions().base_url("http://127.0.0.1:1").token_manager(pool));
    EXPECT_THROW((void)client.user("bad\xff"), InvalidArgument);
    EXPECT_THROW((void)client.user(static_cast<const char *>(nullptr)), InvalidArgument);
    EXPECT_THROW((void)client.repository("octocat", static_cast<const char *>(nullptr)),
                 InvalidArgument);
}

// ---- models ------------------------------------------------------------------------------

TEST(Models, RepositoryWithNullsAndMissingFields) {
    const auto repos = parse<std::vector<Repository>>(R"([{
        "id": 7, "name": "r", "full_name": "o/r", "private": true,
        "owner": {"login": "o", "id": 1, "type": "Organization", "unknown": [1, 2]},
        "description": null, "topics": ["a", "b"], "license": {"spdx_id": "MIT"},
        "stargazers_count": 12, "new_field_from_github": {"x": 1}
    }, {"id": 8, "name": "s", "full_name": "o/s", "owner": {"login": "o", "id": 1}}])");
    ASSERT_EQ(repos.size(), 2u);
    const Repository &r = repos[0];
    EXPECT_EQ(r.id, 7u);
    EXPECT_EQ(r.full_name, "o/r");
    EXPECT_TRUE(r.is_private);
    EXPECT_FALSE(r.fork);
    EXPECT_EQ(r.owner.type, "Organization");
    EXPECT_FALSE(r.description.has_value());
    EXPECT_EQ(r.topics, (std::vector<std::string>{"a", "b"}));
    ASSERT_TRUE(r.license.has_value());
    EXPECT_EQ(r.license->spdx_id, "MIT");
    EXPECT_FALSE(r.license->key.has_value());
    EXPECT_EQ(r.stargazers_count, 12u);
    EXPECT_FALSE(repos[1].is_private);
    EXPECT_FALSE(repos[1].topics.has_value());
}

TEST(Models, DetailsBranchesContributorsAndRateLimits) {
    const auto details = parse<RepositoryDetails>(
        R"({"id": 1, "name": "n", "full_name": "o/n", "owner": {"login": "o", "id": 2},
            "subscribers_count": 3, "has_wiki": false})");
    EXPECT_EQ(details.name, "n");
    EXPECT_EQ(details.subscribers_count, 3u);
    EXPECT_EQ(details.has_wiki, false);
    EXPECT_FALSE(details.is_template.has_value());

    const auto branch = parse<Branch>(R"({"name": "main", "commit": {"sha": "abc"},
                                          "protected": true})");
    EXPECT_EQ(branch.commit.sha, "abc");
    EXPECT_TRUE(branch.is_protected);

    const auto anonymous = parse<Contributor>(R"({"type": "Anonymous", "contributions": 4})");
    EXPECT_FALSE(anonymous.login.has_value());
    EXPECT_EQ(anonymous.contributions, 4u);

    const auto limits = parse<RateLimit>(
        R"({"resources": {"core": {"limit": 60, "remaining": 59, "reset": 9, "used": 1},
                          "search": {"limit": 10, "remaining": 10, "reset": 9}},
            "rate": null})");
    EXPECT_EQ(limits.resources.at("core").remaining, 59u);
    EXPECT_EQ(limits.resources.at("search").used, 0u);
    EXPECT_FALSE(limits.rate.has_value());

    const auto refreshed = parse<std::map<std::string, TokenRateLimit>>(
        R"({"abc": {"fingerprint": "abc", "status": "rate_limited", "rate_limit": null,
                    "error": "boom"},
            "def": {"fingerprint": "def", "status": "brand_new_status"}})");
    EXPECT_EQ(refreshed.at("abc").status, TokenStatus::RateLimited);
    EXPECT_EQ(refreshed.at("abc").error, "boom");
    EXPECT_EQ(refreshed.at("def").status, TokenStatus::Unknown);
}

TEST(Models, DocumentsOfTheWrongShapeAreDecodeErrors) {
    EXPECT_THROW((void)parse<User>("not json"), DecodeError);
    EXPECT_THROW((void)parse<User>(R"({"id": 1})"), DecodeError);             // no login
    EXPECT_THROW((void)parse<User>(R"({"login": 5, "id": 1})"), DecodeError); // wrong type
    EXPECT_THROW((void)parse<std::vector<User>>(R"({"login": "x"})"), DecodeError);
    EXPECT_THROW((void)parse<TokenSnapshot>(
                     R"({"fingerprint": "f", "provider": "sourceforge", "status": "invalid"})"),
                 DecodeError);
    try {
        (void)parse<Branch>(R"({"name": "x"})");
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.status(), Status::Decode);
    }
}

TEST(StringArguments, AnEmbeddedNulIsRefusedNotCut) {
    gitfleet::TokenManager pool;
    const std::string with_nul("tok_good\0tail", 13);
    EXPECT_THROW(pool.add_token(with_nul), gitfleet::InvalidArgument);
    EXPECT_EQ(pool.snapshot().value.size(), 0u);
}
