// test_client.cpp — blocking client calls against the emulator: rotation, invalid tokens,
// exhaustion, pagination, errors, typed results and their raw JSON.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include "gitfleet.hpp"
#include "test_support.hpp"

using namespace gitfleet;
using gitfleet_test::client_for;
using gitfleet_test::contains_secret;
using gitfleet_test::core_of;
using gitfleet_test::main_url;
using gitfleet_test::now_unix;
using gitfleet_test::options_for;
using gitfleet_test::pool_of;
using gitfleet_test::short_window_url;
using gitfleet_test::slow_url;

// ---- rotation ------------------------------------------------------------------------------

TEST(Rotation, RateAwareSpreadsCallsOverThePool) {
    TokenManager pool = pool_of({"cpp_rot_a", "cpp_rot_b", "cpp_rot_c"});
    Client client = client_for(main_url(), pool);
    std::set<std::string> logins;
    for (int i = 0; i < 6; ++i) {
        logins.insert(client.user("octocat")->login);
    }
    EXPECT_EQ(logins, std::set<std::string>{"octocat"});
    // Each of the three tokens served two of the six calls (100 per window).
    for (std::size_t i = 0; i < 3; ++i) {
        const ResourceSnapshot core = core_of(pool, i);
        EXPECT_EQ(core.limit, 100u) << "token " << i;
        EXPECT_EQ(core.remaining, 98u) << "token " << i;
        EXPECT_EQ(core.in_flight, 0u);
    }
}

TEST(Rotation, AuthenticatedUserFollowsTheToken) {
    // Every emulator token has its own account: the logins show which token served.
    TokenManager pool = pool_of({"cpp_rot_a", "cpp_rot_b"});
    pool.set_strategy(Strategy::RoundRobin);
    Client client = client_for(main_url(), pool);
    const std::string first = client.authenticated_user()->login;
    const std::string second = client.authenticated_user()->login;
    const std::string third = client.authenticated_user()->login;
    EXPECT_NE(first, second);
    EXPECT_EQ(first, third);
    EXPECT_FALSE(contains_secret(first + second));
}

// ---- invalid tokens --------------------------------------------------------------------------

TEST(InvalidToken, ARevokedTokenIsSkippedAndMarkedInvalid) {
    TokenManager pool;
    pool.set_strategy(Strategy::Priority);
    pool.add_token("cpp_revoked", Provider::GitHub, nullptr, 10); // tried first
    pool.add_token("cpp_inv_ok", Provider::GitHub, nullptr, 1);
    Client client = client_for(main_url(), pool);
    EXPECT_EQ(client.user("octocat")->login, "octocat"); // sent again on the good token
    const auto snapshot = pool.snapshot();
    EXPECT_EQ(snapshot.value[0].status, TokenStatus::Invalid);
    EXPECT_EQ(snapshot.value[1].status, TokenStatus::Available);
    EXPECT_EQ(pool.count_available(), 1u);
}

TEST(InvalidToken, APoolOfOnlyRevokedTokensIsAnAuthError) {
    TokenManager pool = pool_of({"cpp_revoked"});
    Client client = client_for(main_url(), pool);
    try {
        (void)client.user("octocat");
        FAIL() << "a revoked token was accepted";
    } catch (const AuthError &e) {
        EXPECT_EQ(e.status(), Status::Auth);
        EXPECT_FALSE(contains_secret(e.what())) << e.what();
    }
    EXPECT_EQ(pool.snapshot().value[0].status, TokenStatus::Invalid);
    EXPECT_THROW((void)client.user("octocat"), AuthError); // no valid token left
}

TEST(InvalidToken, ValidateTokenAndPool) {
    TokenManager pool = pool_of({"cpp_inv_ok", "cpp_revoked"});
    Client client = client_for(main_url(), pool);
    const auto bad = client.validate_token("cpp_revoked");
    EXPECT_FALSE(bad->valid);
    EXPECT_TRUE(bad->error.has_value());
    EXPECT_FALSE(contains_secret(bad.json)) << bad.json;
    const auto good = client.validate_token("cpp_inv_ok");
    EXPECT_TRUE(good->valid);
    EXPECT_TRUE(good->login.has_value());

    const auto all = client.validate_pool();
    ASSERT_EQ(all->size(), 2u);
    const auto snapshot = pool.snapshot();
    EXPECT_TRUE(all->at(snapshot.value[0].fingerprint).valid);
    EXPECT_FALSE(all->at(snapshot.value[1].fingerprint).valid);
    EXPECT_EQ(snapshot.value[1].status, TokenStatus::Invalid); // refused: marked in the pool
    EXPECT_EQ(bad->fingerprint, snapshot.value[1].fingerprint);
}

// ---- exhaustion ------------------------------------------------------------------------------

TEST(Exhaustion, ASpentPoolIsARateLimitErrorWithTheEarliestReset) {
    TokenManager pool = pool_of({"cpp_ex_a", "cpp_ex_b"}); // 2 requests each per 600 s
    Client client = client_for(main_url(), pool);
    const std::uint64_t before = now_unix();
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(client.user("torvalds")->login, "torvalds") << "call " << i;
    }
    EXPECT_EQ(pool.count_available(), 0u);
    try {
        (void)client.user("torvalds");
        FAIL() << "a fifth call got through a pool of 2 x 2";
    } catch (const RateLimitError &e) {
        EXPECT_EQ(e.status(), Status::RateLimited);
        EXPECT_EQ(e.resource(), "core");
        EXPECT_GE(e.reset_unix(), before + 590);
        EXPECT_LE(e.reset_unix(), now_unix() + 603); // window, rounding, Date correction
        EXPECT_GT(e.reset(), Clock::now());
        const auto earliest = pool.earliest_reset();
        ASSERT_TRUE(earliest.has_value());
        EXPECT_EQ(Clock::to_time_t(*earliest), static_cast<std::time_t>(e.reset_unix()));
    }
    // The async forms say the same, through the future and the completion.
    auto future = client.user_async("torvalds");
    EXPECT_THROW((void)future.get(), RateLimitError);
    std::promise<Status> status;
    client.user_async("torvalds",
                      [&status](Completion<User> done) { status.set_value(done.status()); });
    EXPECT_EQ(status.get_future().get(), Status::RateLimited);
    // rate_limit costs no quota and still works.
    EXPECT_EQ(client.rate_limit()->resources.at("core").remaining, 0u);
}

TEST(Exhaustion, MaxWaitWaitsForTheResetInstead) {
    TokenManager pool = pool_of({"cpp_short"}); // 1 request per 2-second window
    ClientOptions options = options_for(short_window_url(), pool);
    Client impatient(options);
    Client patient(options.max_wait(std::chrono::seconds(10)));
    EXPECT_EQ(impatient.user("octocat")->login, "octocat");
    EXPECT_THROW((void)impatient.user("octocat"), RateLimitError);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(patient.user("octocat")->login, "octocat"); // same pool: waits for the reset
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

// ---- pagination ------------------------------------------------------------------------------

TEST(Pagination, EveryPageOfAnOrganisation) {
    TokenManager pool = pool_of({"cpp_page"});
    Client client = client_for(main_url(), pool);
    const auto repos = client.owner_repositories("bigorg");
    ASSERT_EQ(repos->size(), 250u);
    std::set<std::string> names;
    for (const Repository &repo : repos.value) {
        EXPECT_EQ(repo.owner.login, "bigorg");
        EXPECT_EQ(repo.full_name, "bigorg/" + repo.name);
        names.insert(repo.full_name);
    }
    EXPECT_EQ(names.size(), 250u); // no page twice
    EXPECT_TRUE(
        std::is_sorted(repos->begin(), repos->end(), [](const Repository &a, const Repository &b) {
            return a.full_name < b.full_name;
        }));
    // The raw document is the same list.
    EXPECT_EQ(nlohmann::json::parse(repos.json).size(), 250u);
    const std::uint64_t used = *core_of(pool, 0).used;
    EXPECT_GE(used, 3u); // at least three pages of at most 100
}

TEST(Pagination, SmallAndEmptyListings) {
    TokenManager pool = pool_of({"cpp_page"});
    Client client = client_for(main_url(), pool);
    EXPECT_EQ(client.owner_repositories("kohsuke")->size(), 30u);
    EXPECT_EQ(client.owner_repositories("octocat")->size(), 8u);
    EXPECT_TRUE(client.owner_repositories("emptyuser")->empty());
    EXPECT_EQ(client.contributors("bigcontrib", "many")->size(), 250u);
    const auto none = client.contributors("octocat", "empty"); // 204 No Content
    EXPECT_TRUE(none->empty());
    EXPECT_EQ(none.json, "[]");
    const auto branches = client.branches("octocat", "Hello-World");
    ASSERT_FALSE(branches->empty());
    EXPECT_FALSE(branches->front().name.empty());
    EXPECT_EQ(branches->front().commit.sha.size(), 40u);
}

// ---- results and errors ---------------------------------------------------------------------

TEST(Results, RecordedDocumentsBecomeTypedModels) {
    TokenManager pool = pool_of({"cpp_misc"});
    Client client = client_for(main_url(), pool);
    const auto user = client.user("octocat");
    EXPECT_EQ(user->login, "octocat");
    EXPECT_EQ(user->id, 583231u);
    EXPECT_EQ(user->type, "User");
    EXPECT_TRUE(user->public_repos.has_value());
    EXPECT_EQ(nlohmann::json::parse(user.json).at("login"), "octocat");

    const auto repo = client.repository("octocat", "Hello-World");
    EXPECT_EQ(repo->full_name, "octocat/Hello-World");
    EXPECT_EQ(repo->owner.login, "octocat");
    EXPECT_FALSE(repo->is_private);
    EXPECT_TRUE(repo->default_branch.has_value());
    EXPECT_TRUE(repo->subscribers_count.has_value());
    EXPECT_EQ(nlohmann::json::parse(repo.json).at("id").get<std::uint64_t>(), repo->id);
}

TEST(Results, RateLimitAndRefresh) {
    TokenManager pool = pool_of({"cpp_misc", "cpp_shared"});
    Client client = client_for(main_url(), pool);
    const auto limits = client.rate_limit();
    EXPECT_EQ(limits->resources.at("core").limit, 1000u); // the pool's first valid token
    const auto refreshed = client.refresh_rate_limits();
    ASSERT_EQ(refreshed->size(), 2u);
    const auto snapshot = pool.snapshot();
    const TokenRateLimit &second = refreshed->at(snapshot.value[1].fingerprint);
    EXPECT_EQ(second.status, TokenStatus::Available);
    ASSERT_TRUE(second.rate_limit.has_value());
    EXPECT_EQ(second.rate_limit->resources.at("core").limit, 100u);
    EXPECT_EQ(core_of(pool, 1).limit, 100u); // recorded in the pool
    EXPECT_FALSE(contains_secret(refreshed.json));
}

TEST(Errors, NotFoundCarriesItsHttpStatus) {
    TokenManager pool = pool_of({"cpp_misc"});
    Client client = client_for(main_url(), pool);
    try {
        (void)client.repository("octocat", "no-such-repository");
        FAIL() << "found a repository that does not exist";
    } catch (const NotFoundError &e) {
        EXPECT_EQ(e.status(), Status::NotFound);
        EXPECT_EQ(e.http_status(), 404);
        EXPECT_STREQ(e.status_name(), "GF_STATUS_NOT_FOUND");
    }
    EXPECT_THROW((void)client.branches("octocat", "no-such-repository"), Error);
}

TEST(Errors, NetworkAndTimeout) {
    TokenManager pool = pool_of({"cpp_slow"});
    Client closed(ClientOptions()
                      .base_url("http://127.0.0.1:1")
                      .token_manager(pool)
                      .max_retries(0)
                      .connect_timeout(std::chrono::seconds(2)));
    EXPECT_THROW((void)closed.user("octocat"), NetworkError);
    Client hasty(
        options_for(slow_url(), pool).timeout(std::chrono::milliseconds(50)).max_retries(0));
    EXPECT_THROW((void)hasty.user("octocat"), TimeoutError);
}

TEST(SharedPool, ClientsKeepThePoolAfterTheManagerObjectIsGone) {
    std::string fingerprint;
    Client client = [&] {
        TokenManager pool = pool_of({"cpp_shared"});
        fingerprint = pool.snapshot().value[0].fingerprint;
        return client_for(main_url(), pool);
    }();
    const auto refreshed = client.refresh_rate_limits();
    ASSERT_EQ(refreshed->size(), 1u);
    EXPECT_EQ(refreshed->begin()->first, fingerprint);
    EXPECT_EQ(client.user("gvanrossum")->login, "gvanrossum");
}
