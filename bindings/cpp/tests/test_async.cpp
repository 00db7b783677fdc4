// test_async.cpp — the async forms: futures and callables, exactly-once completion, cancel,
// destroying a client with calls in flight, refused calls, and 64 threads at once.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gitfleet.hpp"
#include "test_support.hpp"

using namespace gitfleet;
using namespace std::chrono_literals;
using gitfleet_test::client_for;
using gitfleet_test::main_url;
using gitfleet_test::pool_of;
using gitfleet_test::slow_delay;
using gitfleet_test::slow_url;

namespace {

// Counts completions of many calls and lets a test wait for them.
class Tally {
  public:
    explicit Tally(std::size_t calls) : counts_(calls) {}

    // Records one completion of call `index` with `status`.
    void record(std::size_t index, Status status) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++counts_.at(index).first;
        counts_.at(index).second = status;
        ++total_;
        changed_.notify_all();
    }
    // Waits until `target` completions in all; false on timeout.
    bool wait_for(std::size_t target, std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return total_ >= target; });
    }
    // How often call `index` completed, and its last status.
    std::pair<int, Status> of(std::size_t index) {
        std::lock_guard<std::mutex> lock(mutex_);
        return counts_.at(index);
    }
    std::size_t total() {
        std::lock_guard<std::mutex> lock(mutex_);
        return total_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<int, Status>> counts_;
    std::size_t total_ = 0;
};

// Generous: sanitizers are slow.
constexpr auto kWait = 20s;

} // namespace

// ---- futures and callables ------------------------------------------------------------------

TEST(Async, FutureCarriesTheTypedResult) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    auto user = client.user_async("octocat");
    auto repos = client.owner_repositories_async("kennethreitz");
    auto repo = client.repository_async("octocat", "Hello-World");
    const Result<User> got = user.get();
    EXPECT_EQ(got->login, "octocat");
    EXPECT_NE(got.json.find("\"octocat\""), std::string::npos);
    EXPECT_EQ(repos.get()->size(), 12u);
    EXPECT_EQ(repo.get()->full_name, "octocat/Hello-World");
}

TEST(Async, CallableRunsOnceOnALibraryThread) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    std::promise<std::pair<std::thread::id, std::size_t>> done;
    Request request = client.owner_repositories_async(
        "yyx990803", [&done](Completion<std::vector<Repository>> completion) {
            done.set_value({std::this_thread::get_id(), completion.get()->size()});
        });
    EXPECT_TRUE(request);
    const auto [thread, count] = done.get_future().get();
    EXPECT_NE(thread, std::this_thread::get_id());
    EXPECT_EQ(count, 9u);
    EXPECT_TRUE(request.is_done());
}

TEST(Async, EveryCallHasBothAsyncForms) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    constexpr std::size_t kCalls = 10;
    Tally tally(kCalls);
    auto note = [&tally](std::size_t index) {
        return [&tally, index](auto completion) { tally.record(index, completion.status()); };
    };
    client.rate_limit_async(note(0));
    client.refresh_rate_limits_async(note(1));
    client.authenticated_user_async(note(2));
    client.user_async("torvalds", note(3));
    client.owner_repositories_async("torvalds", note(4));
    client.repository_async("octocat", "Hello-World", note(5));
    client.contributors_async("octocat", "Hello-World", note(6));
    client.branches_async("octocat", "Hello-World", note(7));
    client.validate_token_async("cpp_async", note(8));
    client.validate_pool_async(note(9));

    EXPECT_GT(client.rate_limit_async().get()->resources.size(), 0u);
    EXPECT_EQ(client.refresh_rate_limits_async().get()->size(), 1u);
    EXPECT_FALSE(client.authenticated_user_async().get()->login.empty());
    EXPECT_EQ(client.user_async("torvalds").get()->login, "torvalds");
    EXPECT_EQ(client.owner_repositories_async("torvalds").get()->size(), 7u);
    EXPECT_EQ(client.repository_async("octocat", "Hello-World").get()->name, "Hello-World");
    EXPECT_FALSE(client.contributors_async("octocat", "Hello-World").get()->empty());
    EXPECT_FALSE(client.branches_async("octocat", "Hello-World").get()->empty());
    EXPECT_TRUE(client.validate_token_async("cpp_async").get()->valid);
    EXPECT_EQ(client.validate_pool_async().get()->size(), 1u);

    ASSERT_TRUE(tally.wait_for(kCalls, kWait));
    for (std::size_t i = 0; i < kCalls; ++i) {
        EXPECT_EQ(tally.of(i), std::make_pair(1, Status::Ok)) << "call " << i;
    }
}

TEST(Async, ErrorsReachFuturesAndCompletions) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    auto missing = client.repository_async("octocat", "no-such-repository");
    try {
        (void)missing.get();
        FAIL() << "found a missing repository";
    } catch (const NotFoundError &e) {
        EXPECT_EQ(e.http_status(), 404);
    }
    std::promise<Completion<RepositoryDetails>> done;
    client.repository_async("octocat", "no-such-repository",
                            [&done](Completion<RepositoryDetails> completion) {
                                done.set_value(std::move(completion));
                            });
    Completion<RepositoryDetails> completion = done.get_future().get();
    EXPECT_FALSE(completion.ok());
    EXPECT_EQ(completion.status(), Status::NotFound);
    EXPECT_TRUE(completion.error());
    EXPECT_THROW(completion.rethrow(), NotFoundError);
    EXPECT_THROW((void)completion.get(), NotFoundError);
}

TEST(Async, ARefusedCallNeverCallsBackAndFreesItsCallable) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    // The future form puts the refusal in the future.
    Request request;
    auto future = client.user_async("bad\xff", &request);
    EXPECT_EQ(future.wait_for(0s), std::future_status::ready);
    EXPECT_THROW((void)future.get(), InvalidArgument);
    EXPECT_FALSE(request);
    // The callable form throws at once; the callable is destroyed without being called.
    auto witness = std::make_shared<int>(0);
    std::atomic<int> calls{0};
    EXPECT_THROW(client.user_async("bad\xff", [witness, &calls](Completion<User>) { ++calls; }),
                 InvalidArgument);
    EXPECT_EQ(witness.use_count(), 1);
    EXPECT_EQ(calls.load(), 0);
}

TEST(Async, AnExceptionFromTheCallableIsContained) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    auto witness = std::make_shared<int>(0);
    std::promise<void> entered;
    client.user_async("octocat", [witness, &entered](Completion<User>) {
        entered.set_value();
        throw std::runtime_error("thrown inside a completion");
    });
    entered.get_future().get();
    // The holder is freed right after the callable returns or throws.
    for (int i = 0; i < 200 && witness.use_count() > 1; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(witness.use_count(), 1);
    EXPECT_EQ(client.user("octocat")->login, "octocat"); // the library is unharmed
}

TEST(Async, MoveOnlyCallablesAreAccepted) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    std::promise<std::string> promise;
    auto future = promise.get_future();
    auto owned = std::make_unique<int>(7);
    client.user_async("gvanrossum", [promise = std::move(promise),
                                     owned = std::move(owned)](Completion<User> done) mutable {
        promise.set_value(done.get()->login + std::to_string(*owned));
    });
    EXPECT_EQ(future.get(), "gvanrossum7");
}

// ---- cancel ----------------------------------------------------------------------------------

TEST(Cancel, AFutureCompletesWithCancelledError) {
    TokenManager pool = pool_of({"cpp_slow"});
    Client client = client_for(slow_url(), pool);
    Request request;
    const auto start = std::chrono::steady_clock::now();
    auto future = client.user_async("octocat", &request);
    ASSERT_TRUE(request);
    request.cancel();
    EXPECT_TRUE(request.is_done());
    try {
        (void)future.get();
        FAIL() << "a cancelled call succeeded";
    } catch (const CancelledError &e) {
        EXPECT_EQ(e.status(), Status::Cancelled);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, slow_delay);
    request.cancel(); // again: nothing happens
}

TEST(Cancel, ACallableGetsCancelledExactlyOnce) {
    TokenManager pool = pool_of({"cpp_slow"});
    Client client = client_for(slow_url(), pool);
    Tally tally(1);
    Request request = client.owner_repositories_async(
        "octocat",
        [&tally](Completion<std::vector<Repository>> done) { tally.record(0, done.status()); });
    request.cancel();
    ASSERT_TRUE(tally.wait_for(1, kWait));
    std::this_thread::sleep_for(slow_delay + 200ms); // the answer arrives and is dropped
    EXPECT_EQ(tally.of(0), std::make_pair(1, Status::Cancelled));
}

TEST(Cancel, CancellingACompletedCallChangesNothing) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    Request request;
    auto future = client.user_async("octocat", &request);
    const auto result = future.get();
    request.cancel();
    EXPECT_TRUE(request.is_done());
    EXPECT_EQ(result->login, "octocat");
}

TEST(Cancel, DroppingTheRequestHandleDoesNotCancel) {
    TokenManager pool = pool_of({"cpp_slow"});
    Client client = client_for(slow_url(), pool);
    std::future<Result<User>> future;
    {
        Request request;
        future = client.user_async("octocat", &request);
    } // handle freed, call goes on
    EXPECT_EQ(future.get()->login, "octocat");
}

// ---- destroying a client with calls in flight -----------------------------------------------

TEST(Shutdown, DestroyingTheClientCompletesEveryCallOnce) {
    TokenManager pool = pool_of({"cpp_slow"});
    constexpr std::size_t kCallables = 8;
    constexpr std::size_t kFutures = 8;
    Tally tally(kCallables);
    auto witness = std::make_shared<int>(0);
    std::vector<std::future<Result<User>>> futures;
    {
        Client client = client_for(slow_url(), pool);
        for (std::size_t i = 0; i < kCallables; ++i) {
            client.user_async("octocat", [&tally, witness, i](Completion<User> done) {
                tally.record(i, done.status());
            });
        }
        for (std::size_t i = 0; i < kFutures; ++i) {
            futures.push_back(client.user_async("octocat"));
        }
    } // ~Client with 16 calls in flight
    const auto start = std::chrono::steady_clock::now();
    for (auto &future : futures) {
        EXPECT_THROW((void)future.get(), ShutDownError);
    }
    ASSERT_TRUE(tally.wait_for(kCallables, kWait));
    EXPECT_LT(std::chrono::steady_clock::now() - start, slow_delay);
    std::this_thread::sleep_for(slow_delay + 200ms); // late answers must not complete again
    for (std::size_t i = 0; i < kCallables; ++i) {
        EXPECT_EQ(tally.of(i), std::make_pair(1, Status::ShutDown)) << "call " << i;
    }
    EXPECT_EQ(tally.total(), kCallables);
    EXPECT_EQ(witness.use_count(), 1); // every callable freed
    // The pool outlives the client and its use comes back.
    EXPECT_EQ(pool.count_available(), 1u);
}

TEST(Shutdown, ShuttingTheRuntimeDownCompletesEveryCallOnceAndTheNextCallWorks) {
    TokenManager pool = pool_of({"cpp_slow"});
    constexpr std::size_t kCalls = 8;
    Tally tally(kCalls);
    Client client = client_for(slow_url(), pool);
    for (std::size_t i = 0; i < kCalls; ++i) {
        client.user_async("octocat", [&tally, i](Completion<User> done) {
            tally.record(i, done.status());
        });
    }
    shutdown_runtime(10s); // waits for the exchanges on the wire to end
    ASSERT_TRUE(tally.wait_for(kCalls, kWait));
    std::this_thread::sleep_for(200ms); // a late answer must not complete again
    for (std::size_t i = 0; i < kCalls; ++i) {
        EXPECT_EQ(tally.of(i), std::make_pair(1, Status::ShutDown)) << "call " << i;
    }
    EXPECT_EQ(client.user_async("octocat").get()->login, "octocat");
    EXPECT_NO_THROW(shutdown_runtime(10s));
}

// ---- many threads ------------------------------------------------------------------------------

TEST(Threads, SixtyFourThreadsIssueAsyncCallsAndEachResolvesOnce) {
    TokenManager pool = pool_of({"cpp_async"});
    Client client = client_for(main_url(), pool);
    constexpr std::size_t kThreads = 64;
    constexpr std::size_t kPerThread = 4; // two futures, two callables
    Tally tally(kThreads * kPerThread);
    std::atomic<std::size_t> futures_ok{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) {
                std::this_thread::yield();
            }
            const std::size_t base = t * kPerThread;
            auto limits = client.rate_limit_async();
            auto user = client.user_async(t % 2 == 0 ? "octocat" : "kohsuke");
            client.owner_repositories_async("gvanrossum", [&tally, base](auto done) {
                tally.record(base + 2,
                             done.ok() && done.get()->size() == 5u ? Status::Ok : Status::Internal);
            });
            client.authenticated_user_async(
                [&tally, base](Completion<User> done) { tally.record(base + 3, done.status()); });
            const bool limits_ok = limits.get()->resources.count("core") == 1;
            tally.record(base, limits_ok ? Status::Ok : Status::Internal);
            const bool user_ok = !user.get()->login.empty();
            tally.record(base + 1, user_ok ? Status::Ok : Status::Internal);
            futures_ok.fetch_add(2);
        });
    }
    go.store(true, std::memory_order_release);
    for (std::thread &thread : threads) {
        thread.join();
    }
    ASSERT_TRUE(tally.wait_for(kThreads * kPerThread, 60s));
    std::this_thread::sleep_for(100ms); // nothing completes twice
    EXPECT_EQ(futures_ok.load(), kThreads * 2);
    EXPECT_EQ(tally.total(), kThreads * kPerThread);
    for (std::size_t i = 0; i < kThreads * kPerThread; ++i) {
        EXPECT_EQ(tally.of(i), std::make_pair(1, Status::Ok)) << "call " << i;
    }
}
