// call_cost.cpp — what a call costs through the C++ wrapper compared with the C API, in one run.
//
// Starts the emulator (or uses the URL given as the first argument), builds one gitfleet
// client, and times the same blocking calls made on that one client alternately through the
// C API (gf_client_*: the JSON string, freed) and through gitfleet.hpp (a typed Result<T>:
// the JSON copied and parsed with nlohmann/json into structs):
//   - rate_limit             GET /rate_limit, a small document, no quota used;
//   - owner_repositories(8)  GET /users/octocat/repos, one page of 8 repositories;
//   - owner_repositories(30) GET /users/kohsuke/repos, one page of 30 repositories (27 kB);
//   - owner_repositories(100) GET /users/hundred/repos, one full page of 100 (the page the
//                            Rust and Go call-cost benchmarks time);
//   - rate_limit async       the C _async call with a callback signalling a condition
//                            variable vs the wrapper's std::future form;
//   - 16 and 256 in flight   rate_limit and owner_repositories(100): the C _async functions vs
//                            the wrapper's callable form, each completion starting the next
//                            call; batches alternate, per-call time of the median batch.
// It also times parsing alone (the same documents, no I/O), which is most of the difference.
// Alternating call by call puts both sides under the same scheduler and server conditions.
//
// Usage: gitfleet_call_cost [ITERATIONS]   (default 2000)
// It starts an emulator of its own, or, to set it beside the Rust and Go benchmarks in one run,
// uses the one at $GITFLEET_BENCH_URL with the token in $GITFLEET_BENCH_TOKEN (default
// bench_token, as the Go benchmark), e.g.
//   target/debug/gitfleet-emulator --port 0 --token bench_token:4000000000 --owner hundred:100 &
//   GITFLEET_BENCH_URL=http://127.0.0.1:PORT build/cpp/bench/gitfleet_call_cost

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emulator_process.hpp"
#include "gitfleet.hpp"

namespace {

using Micros = std::chrono::duration<double, std::micro>;

struct Stats {
    double median = 0;
    double mean = 0;
    double p90 = 0;
};

Stats stats_of(std::vector<double> samples) {
    Stats s;
    if (samples.empty()) {
        return s;
    }
    std::sort(samples.begin(), samples.end());
    s.median = samples[samples.size() / 2];
    s.p90 = samples[samples.size() * 9 / 10];
    double sum = 0;
    for (double v : samples) {
        sum += v;
    }
    s.mean = sum / static_cast<double>(samples.size());
    return s;
}

double time_us(const std::function<void()> &call) {
    const auto start = std::chrono::steady_clock::now();
    call();
    return Micros(std::chrono::steady_clock::now() - start).count();
}

void check(gf_status status, gf_error *err, const char *what) {
    if (status != GF_STATUS_OK) {
        std::fprintf(stderr, "%s: %s: %s\n", what, gf_status_name(status), gf_error_message(err));
        gf_error_free(err);
        std::exit(1);
    }
}

// A one-shot latch for the C async callback.
struct Latch {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    gf_status status = GF_STATUS_OK;
};

void on_done(void *user_data, gf_status status, const char *, const gf_error *) {
    auto *latch = static_cast<Latch *>(user_data);
    std::lock_guard<std::mutex> lock(latch->mutex);
    latch->status = status;
    latch->done = true;
    latch->cv.notify_one();
}

// Times `c_call` and `cpp_call` alternately, `iterations` times each after a warm-up.
void compare(const char *name, int iterations, const std::function<void()> &c_call,
             const std::function<void()> &cpp_call) {
    for (int i = 0; i < iterations / 10 + 10; ++i) {
        c_call();
        cpp_call();
    }
    std::vector<double> c_samples;
    std::vector<double> cpp_samples;
    c_samples.reserve(static_cast<std::size_t>(iterations));
    cpp_samples.reserve(static_cast<std::size_t>(iterations));
    for (int i = 0; i < iterations; ++i) {
        if (i % 2 == 0) { // alternate which side goes first
            c_samples.push_back(time_us(c_call));
            cpp_samples.push_back(time_us(cpp_call));
        } else {
            cpp_samples.push_back(time_us(cpp_call));
            c_samples.push_back(time_us(c_call));
        }
    }
    const Stats c = stats_of(c_samples);
    const Stats cpp = stats_of(cpp_samples);
    std::printf("%-24s %9.1f %9.1f %9.1f   %9.1f %9.1f %9.1f   %+8.1f (%+.0f%%)\n", name, c.median,
                c.mean, c.p90, cpp.median, cpp.mean, cpp.p90, cpp.median - c.median,
                c.median > 0 ? 100.0 * (cpp.median - c.median) / c.median : 0.0);
}

// Keeps N async calls in flight, each completion starting the next, until a batch is done.
struct Flight {
    std::function<void(Flight &)> start; // starts one call, whose completion calls completed()
    std::atomic<long> to_start{0};
    std::atomic<long> done{0};
    long total = 0;
    std::mutex mutex;
    std::condition_variable cv;
    bool finished = false;

    void run(long in_flight, long calls) {
        const long first = std::min(in_flight, calls);
        {
            std::lock_guard<std::mutex> lock(mutex);
            finished = false;
        }
        total = calls;
        done.store(0);
        to_start.store(calls - first);
        for (long i = 0; i < first; ++i) {
            start(*this);
        }
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return finished; });
    }

    void completed(bool ok) {
        if (!ok) {
            std::fprintf(stderr, "an async call failed\n");
            std::abort();
        }
        if (to_start.fetch_sub(1) > 0) {
            start(*this);
        }
        if (done.fetch_add(1) + 1 == total) {
            std::lock_guard<std::mutex> lock(mutex);
            finished = true;
            cv.notify_one();
        }
    }
};

void on_flight_done(void *user_data, gf_status status, const char *json, const gf_error *) {
    static_cast<Flight *>(user_data)->completed(status == GF_STATUS_OK && json != nullptr);
}

// Batches of `calls`, `in_flight` at a time, alternating between the sides; per-call time of
// each side's median batch.
void compare_in_flight(const char *name, long in_flight, long calls, int rounds, Flight &c_side,
                       Flight &cpp_side) {
    c_side.run(in_flight, calls / 4); // warm-up: threads, connections
    cpp_side.run(in_flight, calls / 4);
    std::vector<double> c_samples;
    std::vector<double> cpp_samples;
    for (int i = 0; i < rounds; ++i) {
        const auto per_call = [&](Flight &f) {
            return time_us([&] { f.run(in_flight, calls); }) / static_cast<double>(calls);
        };
        if (i % 2 == 0) {
            c_samples.push_back(per_call(c_side));
            cpp_samples.push_back(per_call(cpp_side));
        } else {
            cpp_samples.push_back(per_call(cpp_side));
            c_samples.push_back(per_call(c_side));
        }
    }
    const Stats c = stats_of(c_samples);
    const Stats cpp = stats_of(cpp_samples);
    std::printf("%-24s %9.1f %9.1f %9s   %9.1f %9.1f %9s   %+8.1f (%+.0f%%)\n", name, c.median,
                c.mean, "", cpp.median, cpp.mean, "", cpp.median - c.median,
                c.median > 0 ? 100.0 * (cpp.median - c.median) / c.median : 0.0);
}

} // namespace

int main(int argc, char **argv) {
    const int iterations = argc > 1 ? std::max(10, std::atoi(argv[1])) : 2000;
    const char *token_env = std::getenv("GITFLEET_BENCH_TOKEN");
    const std::string token =
        token_env != nullptr && token_env[0] != '\0' ? token_env : "bench_token";
    const char *url_env = std::getenv("GITFLEET_BENCH_URL");
    std::unique_ptr<gitfleet_test::EmulatorProcess> emulator;
    std::string url;
    if (url_env != nullptr && url_env[0] != '\0') {
        url = url_env;
    } else {
        emulator = std::make_unique<gitfleet_test::EmulatorProcess>(
            std::vector<std::string>{"--window", "3600", "--token", token + ":1000000000",
                                     "--owner", "hundred:100"});
        url = emulator->url();
    }

    gitfleet::TokenManager pool;
    pool.add_token(token);
    const gitfleet::Client client(gitfleet::ClientOptions().base_url(url).token_manager(pool));
    gf_client *raw = client.get(); // the same client for both sides

    std::printf("gitfleet %s call cost, %d alternating calls per side, against %s\n",
                gitfleet::version(), iterations, url.c_str());
    std::printf("%-24s %29s   %29s   %s\n", "", "C API (us)", "C++ wrapper (us)", "median");
    std::printf("%-24s %9s %9s %9s   %9s %9s %9s   %s\n", "call", "median", "mean", "p90", "median",
                "mean", "p90", "C++ - C");

    std::size_t sink = 0; // keeps results observable
    compare(
        "rate_limit", iterations,
        [&] {
            char *json = nullptr;
            gf_error *err = nullptr;
            check(gf_client_rate_limit(raw, &json, &err), err, "rate_limit");
            sink += json[0] != '\0' ? 1 : 0;
            gf_string_free(json);
        },
        [&] { sink += client.rate_limit()->resources.size(); });

    compare(
        "owner_repositories(8)", iterations,
        [&] {
            char *json = nullptr;
            gf_error *err = nullptr;
            check(gf_client_owner_repositories(raw, "octocat", &json, &err), err, "repos");
            sink += json[0] != '\0' ? 1 : 0;
            gf_string_free(json);
        },
        [&] { sink += client.owner_repositories("octocat")->size(); });

    std::string repos_json;
    compare(
        "owner_repositories(30)", iterations / 2,
        [&] {
            char *json = nullptr;
            gf_error *err = nullptr;
            check(gf_client_owner_repositories(raw, "kohsuke", &json, &err), err, "repos");
            sink += json[0] != '\0' ? 1 : 0;
            if (repos_json.empty()) {
                repos_json = json;
            }
            gf_string_free(json);
        },
        [&] { sink += client.owner_repositories("kohsuke")->size(); });

    compare(
        "owner_repositories(100)", std::max(10, iterations / 10),
        [&] {
            char *json = nullptr;
            gf_error *err = nullptr;
            check(gf_client_owner_repositories(raw, "hundred", &json, &err), err, "repos");
            sink += json[0] != '\0' ? 1 : 0;
            gf_string_free(json);
        },
        [&] {
            const std::size_t n = client.owner_repositories("hundred")->size();
            if (n != 100) {
                std::fprintf(stderr, "%zu repositories, not 100\n", n);
                std::exit(1);
            }
            sink += n;
        });

    compare(
        "rate_limit async", iterations,
        [&] {
            Latch latch;
            gf_error *err = nullptr;
            check(gf_client_rate_limit_async(raw, on_done, &latch, nullptr, &err), err, "async");
            std::unique_lock<std::mutex> lock(latch.mutex);
            latch.cv.wait(lock, [&] { return latch.done; });
            sink += latch.status == GF_STATUS_OK ? 1 : 0;
        },
        [&] { sink += client.rate_limit_async().get()->resources.size(); });

    // N in flight: the C _async functions vs the wrapper's callable form.
    Flight c_small;
    c_small.start = [&](Flight &f) {
        gf_error *err = nullptr;
        check(gf_client_rate_limit_async(raw, on_flight_done, &f, nullptr, &err), err, "async");
    };
    Flight cpp_small;
    cpp_small.start = [&](Flight &f) {
        client.rate_limit_async([&f](gitfleet::Completion<gitfleet::RateLimit> done) {
            f.completed(done.ok() && !done.get()->resources.empty());
        });
    };
    Flight c_page;
    c_page.start = [&](Flight &f) {
        gf_error *err = nullptr;
        check(gf_client_owner_repositories_async(raw, "hundred", on_flight_done, &f, nullptr, &err),
              err, "async");
    };
    Flight cpp_page;
    cpp_page.start = [&](Flight &f) {
        client.owner_repositories_async(
            "hundred", [&f](gitfleet::Completion<std::vector<gitfleet::Repository>> done) {
                f.completed(done.ok() && done.get()->size() == 100);
            });
    };
    const int rounds = 7;
    for (const long n : {16L, 256L}) {
        const std::string small_name = "rate_limit " + std::to_string(n) + " in flight";
        const std::string page_name = "repos(100) " + std::to_string(n) + " in flight";
        compare_in_flight(small_name.c_str(), n, std::max<long>(iterations, 20 * std::max(n, 100L)),
                          rounds, c_small, cpp_small);
        compare_in_flight(page_name.c_str(), n, 2 * std::max(n, 100L), rounds, c_page, cpp_page);
    }

    // Parsing alone: the wrapper's share of the difference, without I/O.
    const std::string limits_json = client.rate_limit().json;
    std::vector<double> parse_limits;
    std::vector<double> parse_repos;
    for (int i = 0; i < iterations; ++i) {
        parse_limits.push_back(time_us(
            [&] { sink += gitfleet::parse<gitfleet::RateLimit>(limits_json).resources.size(); }));
        parse_repos.push_back(time_us([&] {
            sink += gitfleet::parse<std::vector<gitfleet::Repository>>(repos_json).size();
        }));
    }
    const Stats pl = stats_of(parse_limits);
    const Stats pr = stats_of(parse_repos);
    std::printf("\nparse only (no I/O): RateLimit (%zu B) median %.1f us; 30 repositories "
                "(%zu B) median %.1f us\n",
                limits_json.size(), pl.median, repos_json.size(), pr.median);
    std::printf("(checksum %zu)\n", sink);
    return 0;
}
