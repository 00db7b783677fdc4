/*
 * gitfleet.hpp — the C++17 wrapper of gitfleet's C API (gitfleet.h).
 *
 * Header-only, namespace `gitfleet`, thin over the C functions: every class owns exactly one C
 * handle and every call is one C call plus the conversion of its result.
 *
 * ERRORS: EXCEPTIONS. Every failure is thrown as a `gitfleet::Error` (a std::runtime_error) of
 * the subclass that matches its status: RateLimitError (earliest reset and resource),
 * SecondaryLimitError (retry-after), AuthError, NotFoundError, ForbiddenError, HttpError,
 * NetworkError, TimeoutError, DecodeError, InvalidArgument, CancelledError, ShutDownError,
 * InternalError, and for credential stores IoError, CryptoError and FormatError.
 * `Error::status()` gives the C status, `http_status()` the HTTP status behind it. Futures
 * carry the same exceptions; callables receive a `Completion<T>` that holds either the result
 * or the exception. A JSON document the wrapper cannot read is a DecodeError. The only other
 * exceptions are the standard library's (std::bad_alloc).
 *
 * OWNERSHIP. TokenManager, ClientOptions, Client, Lease, Request, Store and Secret are
 * move-only RAII classes, each owning one C handle (a std::unique_ptr with the matching
 * gf_*_free). A moved-from object holds no handle: destroying it does nothing, and calling a
 * method on it forwards the NULL handle to the C API, which refuses it with InvalidArgument.
 * `get()` lends the raw handle, `release()` gives it up. Strings the C API returns are copied
 * and freed at once.
 *
 * STRING ARGUMENTS are `StringRef`s: a `const char *`, a `std::string` or a Secret, borrowed
 * for the call only (the C API copies what it keeps), never copied by the wrapper — so a token
 * passed in is not duplicated in memory nobody wipes. A NULL `const char *` is InvalidArgument.
 *
 * THREADS. As in C: TokenManager, Client and Store may be used from any number of threads at
 * once (except moving, assigning or destroying one while others use it); ClientOptions, Lease,
 * Request, Secret and Completion are for one thread at a time.
 *
 * RESULTS. Calls return `Result<T>`: `value`, the typed model (plain structs below, read with
 * nlohmann/json), and `json`, the document exactly as the C API returned it.
 *
 * ASYNC. Each client call has three forms:
 *   - `x(args)`                  blocks and returns Result<T>;
 *   - `x_async(args, &request)`  returns a std::future<Result<T>>; a call the C API refuses at
 *                                once gives a future that holds the error; `request` (optional,
 *                                may be nullptr) receives the Request handle, to cancel;
 *   - `x_async(args, callable)`  calls `callable(Completion<T>)` exactly once, on a library
 *                                thread, never inside x_async, and returns the Request; a call
 *                                the C API refuses at once throws and never calls `callable`.
 * The callable is moved to the heap as the C call's user data; the C callback runs it once and
 * deletes it (including after a cancel, or when the client is destroyed with the call in
 * flight: ShutDownError). An exception leaving the callable is caught and dropped (there is
 * nobody to give it to): handle errors inside it. The callable may run before x_async returns.
 *
 * Tokens are secrets: nothing here prints, logs or keeps one; results name tokens by their
 * fingerprint. Lease::token() and Store::get_token() (a Secret, wiped when destroyed) are the
 * only ways a token comes back.
 */

#ifndef GITFLEET_HPP
#define GITFLEET_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gitfleet.h"

namespace gitfleet {

// ---- basic types -------------------------------------------------------------------------

/// Status of a call: the C API's gf_status, same numbers.
enum class Status : std::int32_t {
    Ok = GF_STATUS_OK,
    InvalidArgument = GF_STATUS_INVALID_ARGUMENT,
    Internal = GF_STATUS_INTERNAL,
    Auth = GF_STATUS_AUTH,
    RateLimited = GF_STATUS_RATE_LIMITED,
    SecondaryLimited = GF_STATUS_SECONDARY_LIMITED,
    NotFound = GF_STATUS_NOT_FOUND,
    Forbidden = GF_STATUS_FORBIDDEN,
    Http = GF_STATUS_HTTP,
    Network = GF_STATUS_NETWORK,
    Timeout = GF_STATUS_TIMEOUT,
    Decode = GF_STATUS_DECODE,
    Cancelled = GF_STATUS_CANCELLED,
    ShutDown = GF_STATUS_SHUT_DOWN,
    Io = GF_STATUS_IO,
    Crypto = GF_STATUS_CRYPTO,
    Format = GF_STATUS_FORMAT,
};

/// Git hosting providers (gf_provider).
enum class Provider : std::int32_t {
    GitHub = GF_PROVIDER_GITHUB,
    GitLab = GF_PROVIDER_GITLAB,
    Bitbucket = GF_PROVIDER_BITBUCKET,
};

/// Token selection strategies (gf_strategy).
enum class Strategy : std::int32_t {
    RateAware = GF_STRATEGY_RATE_AWARE,   ///< most left for the resource, then least recent
    RoundRobin = GF_STRATEGY_ROUND_ROBIN, ///< each available token in turn
    Priority = GF_STRATEGY_PRIORITY,      ///< highest priority first, then rate-aware
};

/// What a reported response meant for its token (gf_outcome).
enum class Outcome : std::int32_t {
    Success = GF_OUTCOME_SUCCESS,                ///< 2xx
    NotModified = GF_OUTCOME_NOT_MODIFIED,       ///< 304
    InvalidToken = GF_OUTCOME_INVALID_TOKEN,     ///< 401: token marked invalid; lease another
    PrimaryLimit = GF_OUTCOME_PRIMARY_LIMIT,     ///< token spent for the resource; lease another
    SecondaryLimit = GF_OUTCOME_SECONDARY_LIMIT, ///< token cools down; lease another
    Forbidden = GF_OUTCOME_FORBIDDEN,            ///< a 403 that is not a limit: do not retry
    NotFound = GF_OUTCOME_NOT_FOUND,             ///< 404
    ServerError = GF_OUTCOME_SERVER_ERROR,       ///< 5xx: retry later
    OtherError = GF_OUTCOME_OTHER_ERROR,         ///< any other status
};

/// A token's state in snapshots and refresh results.
enum class TokenStatus {
    Available,   ///< "available"
    RateLimited, ///< "rate_limited": spent for a resource until its reset
    CoolingDown, ///< "cooling_down": resting after a secondary limit
    Invalid,     ///< "invalid": refused by the server or marked so
    Unknown,     ///< a status this wrapper does not know (a newer library)
};

/// The clock of every time point here; its epoch is the Unix epoch.
using Clock = std::chrono::system_clock;
/// A point in time on Clock.
using TimePoint = Clock::time_point;

/// Unix seconds (as the C API and the JSON documents give them) as a TimePoint.
/// Values past what Clock can hold (about year 2262) become its maximum.
inline TimePoint from_unix_seconds(std::uint64_t seconds) {
    constexpr auto most = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max());
    if (seconds >= static_cast<std::uint64_t>(most.count())) {
        return TimePoint::max();
    }
    return TimePoint(std::chrono::duration_cast<Clock::duration>(
        std::chrono::seconds(static_cast<std::chrono::seconds::rep>(seconds))));
}

/// The library's version, e.g. "0.1.0". Static storage; thread-safe.
inline const char *version() noexcept { return gf_version(); }

/// The C name of a status, e.g. "GF_STATUS_RATE_LIMITED" ("GF_STATUS_UNKNOWN" for a number
/// that is not one). Static storage; thread-safe.
inline const char *status_name(Status status) noexcept {
    return gf_status_name(static_cast<std::int32_t>(status));
}

/// "github", "gitlab" or "bitbucket" (the names snapshots use). Static storage.
inline const char *to_string(Provider provider) noexcept {
    switch (provider) {
    case Provider::GitHub: return "github";
    case Provider::GitLab: return "gitlab";
    case Provider::Bitbucket: return "bitbucket";
    }
    return "unknown";
}

/// "available", "rate_limited", "cooling_down", "invalid" or "unknown". Static storage.
inline const char *to_string(TokenStatus status) noexcept {
    switch (status) {
    case TokenStatus::Available: return "available";
    case TokenStatus::RateLimited: return "rate_limited";
    case TokenStatus::CoolingDown: return "cooling_down";
    case TokenStatus::Invalid: return "invalid";
    case TokenStatus::Unknown: break;
    }
    return "unknown";
}

/// "success", "not_modified", "invalid_token", ... Static storage.
inline const char *to_string(Outcome outcome) noexcept {
    switch (outcome) {
    case Outcome::Success: return "success";
    case Outcome::NotModified: return "not_modified";
    case Outcome::InvalidToken: return "invalid_token";
    case Outcome::PrimaryLimit: return "primary_limit";
    case Outcome::SecondaryLimit: return "secondary_limit";
    case Outcome::Forbidden: return "forbidden";
    case Outcome::NotFound: return "not_found";
    case Outcome::ServerError: return "server_error";
    case Outcome::OtherError: return "other_error";
    }
    return "unknown";
}

class Secret;

/// A borrowed NUL-terminated string argument: a `const char *` (NULL is passed on as NULL,
/// which the C API refuses with InvalidArgument where a value is needed), a `std::string` or a
/// Secret.
/// It copies nothing and must not outlive the string it was made from; use it only as a
/// parameter. (No std::string_view: the C API needs the terminating NUL.)
class StringRef {
  public:
    /// Borrows `text` (may be NULL).
    StringRef(const char *text) noexcept : text_(text) {} // NOLINT: implicit by design
    /// Borrows `text.c_str()`. Throws InvalidArgument when `text` holds a NUL byte, which C
    /// would silently cut the string at.
    StringRef(const std::string &text); // NOLINT: implicit
    /// Borrows `secret.c_str()`.
    StringRef(const Secret &secret) noexcept; // NOLINT: implicit
    /// The borrowed pointer.
    const char *c_str() const noexcept { return text_; }

  private:
    const char *text_;
};

/// An HTTP header: name and value.
using Header = std::pair<std::string, std::string>;
/// HTTP headers, in order.
using Headers = std::vector<Header>;

// ---- errors --------------------------------------------------------------------------------

/// Base of every gitfleet error: a status, a message (what()) and the HTTP status behind it
/// (0 when none). Copyable, immutable, thread-safe to read.
class Error : public std::runtime_error {
  public:
    /// An error of `status` with `message`; `http_status` 0 when no HTTP status applies.
    Error(Status status, const std::string &message, std::uint16_t http_status = 0)
        : std::runtime_error(message), status_(status), http_status_(http_status) {}

    /// The status (never Status::Ok).
    Status status() const noexcept { return status_; }
    /// The C name of the status, e.g. "GF_STATUS_NOT_FOUND".
    const char *status_name() const noexcept { return gitfleet::status_name(status_); }
    /// 404 for NotFoundError, 403 for ForbiddenError, the status for HttpError; else 0.
    std::uint16_t http_status() const noexcept { return http_status_; }
    /// The library's message (never contains a token); the same text as what().
    std::string message() const { return what(); }

  private:
    Status status_;
    std::uint16_t http_status_;
};

/// Every token is spent (GF_STATUS_RATE_LIMITED): when the earliest one is back, and for
/// which resource.
class RateLimitError : public Error {
  public:
    /// `reset_unix`: Unix seconds (0 if unknown); `resource`: "core", "search", ...
    RateLimitError(const std::string &message, std::uint64_t reset_unix, std::string resource)
        : Error(Status::RateLimited, message), reset_unix_(reset_unix),
          resource_(std::move(resource)) {}

    /// When the earliest token is usable again (this machine's clock); the epoch if unknown.
    TimePoint reset() const { return from_unix_seconds(reset_unix_); }
    /// The same, in Unix seconds (0 if unknown).
    std::uint64_t reset_unix() const noexcept { return reset_unix_; }
    /// The spent resource, e.g. "core" ("" if unknown).
    const std::string &resource() const noexcept { return resource_; }

  private:
    std::uint64_t reset_unix_;
    std::string resource_;
};

/// GitHub's secondary limit (GF_STATUS_SECONDARY_LIMITED): how long to wait.
class SecondaryLimitError : public Error {
  public:
    /// `retry_after`: how long the server asked to wait.
    SecondaryLimitError(const std::string &message, std::chrono::seconds retry_after)
        : Error(Status::SecondaryLimited, message), retry_after_(retry_after) {}
    /// How long to wait before trying again.
    std::chrono::seconds retry_after() const noexcept { return retry_after_; }

  private:
    std::chrono::seconds retry_after_;
};

/// Credentials refused (401), or no usable token left (GF_STATUS_AUTH).
class AuthError : public Error {
  public:
    /// An AuthError with `message`.
    explicit AuthError(const std::string &message) : Error(Status::Auth, message) {}
};

/// 404 (GF_STATUS_NOT_FOUND).
class NotFoundError : public Error {
  public:
    /// A NotFoundError with `message`; http_status() is 404.
    explicit NotFoundError(const std::string &message, std::uint16_t http_status = 404)
        : Error(Status::NotFound, message, http_status) {}
};

/// A 403 that is not a rate limit (GF_STATUS_FORBIDDEN).
class ForbiddenError : public Error {
  public:
    /// A ForbiddenError with `message`; http_status() is 403.
    explicit ForbiddenError(const std::string &message, std::uint16_t http_status = 403)
        : Error(Status::Forbidden, message, http_status) {}
};

/// Another unexpected HTTP status (GF_STATUS_HTTP); http_status() says which.
class HttpError : public Error {
  public:
    /// An HttpError with `message` for `http_status`.
    HttpError(const std::string &message, std::uint16_t http_status)
        : Error(Status::Http, message, http_status) {}
};

/// The connection failed or broke (GF_STATUS_NETWORK).
class NetworkError : public Error {
  public:
    /// A NetworkError with `message`.
    explicit NetworkError(const std::string &message) : Error(Status::Network, message) {}
};

/// The request timed out (GF_STATUS_TIMEOUT).
class TimeoutError : public Error {
  public:
    /// A TimeoutError with `message`.
    explicit TimeoutError(const std::string &message) : Error(Status::Timeout, message) {}
};

/// A response (or a document handed to the wrapper) could not be decoded (GF_STATUS_DECODE).
class DecodeError : public Error {
  public:
    /// A DecodeError with `message`.
    explicit DecodeError(const std::string &message) : Error(Status::Decode, message) {}
};

/// NULL, invalid UTF-8, a value out of range, a moved-from handle (GF_STATUS_INVALID_ARGUMENT).
class InvalidArgument : public Error {
  public:
    /// An InvalidArgument with `message`.
    explicit InvalidArgument(const std::string &message)
        : Error(Status::InvalidArgument, message) {}
};

/// The call was cancelled with Request::cancel (GF_STATUS_CANCELLED).
class CancelledError : public Error {
  public:
    /// A CancelledError with `message`.
    explicit CancelledError(const std::string &message) : Error(Status::Cancelled, message) {}
};

/// The client was destroyed while the call was in flight (GF_STATUS_SHUT_DOWN).
class ShutDownError : public Error {
  public:
    /// A ShutDownError with `message`.
    explicit ShutDownError(const std::string &message) : Error(Status::ShutDown, message) {}
};

/// A bug inside the library (GF_STATUS_INTERNAL).
class InternalError : public Error {
  public:
    /// An InternalError with `message`.
    explicit InternalError(const std::string &message) : Error(Status::Internal, message) {}
};

/// A file could not be read, written or locked (GF_STATUS_IO; credential stores).
class IoError : public Error {
  public:
    /// An IoError with `message`.
    explicit IoError(const std::string &message) : Error(Status::Io, message) {}
};

/// A credential store failed authentication: wrong password or key, or a changed file
/// (GF_STATUS_CRYPTO).
class CryptoError : public Error {
  public:
    /// A CryptoError with `message`.
    explicit CryptoError(const std::string &message) : Error(Status::Crypto, message) {}
};

/// Not a credential store, truncated, or an unsupported version (GF_STATUS_FORMAT).
class FormatError : public Error {
  public:
    /// A FormatError with `message`.
    explicit FormatError(const std::string &message) : Error(Status::Format, message) {}
};

namespace detail {

/// Builds the exception for a failed C call and hands it to `sink` by its concrete type.
/// `error` may be NULL (then the message is empty); `status` is authoritative. A status newer
/// than this header becomes a plain Error carrying its number.
template <class Sink>
auto with_error(gf_status status, const gf_error *error, Sink &&sink) {
    const std::string message = gf_error_message(error);
    switch (static_cast<std::int32_t>(status)) {
    case GF_STATUS_INVALID_ARGUMENT: return sink(InvalidArgument(message));
    case GF_STATUS_INTERNAL: return sink(InternalError(message));
    case GF_STATUS_AUTH: return sink(AuthError(message));
    case GF_STATUS_RATE_LIMITED:
        return sink(RateLimitError(message, gf_error_reset(error), gf_error_resource(error)));
    case GF_STATUS_SECONDARY_LIMITED:
        return sink(SecondaryLimitError(
            message, std::chrono::seconds(
                         static_cast<std::chrono::seconds::rep>(gf_error_retry_after(error)))));
    case GF_STATUS_NOT_FOUND: return sink(NotFoundError(message, gf_error_http_status(error)));
    case GF_STATUS_FORBIDDEN: return sink(ForbiddenError(message, gf_error_http_status(error)));
    case GF_STATUS_HTTP: return sink(HttpError(message, gf_error_http_status(error)));
    case GF_STATUS_NETWORK: return sink(NetworkError(message));
    case GF_STATUS_TIMEOUT: return sink(TimeoutError(message));
    case GF_STATUS_DECODE: return sink(DecodeError(message));
    case GF_STATUS_CANCELLED: return sink(CancelledError(message));
    case GF_STATUS_SHUT_DOWN: return sink(ShutDownError(message));
    case GF_STATUS_IO: return sink(IoError(message));
    case GF_STATUS_CRYPTO: return sink(CryptoError(message));
    case GF_STATUS_FORMAT: return sink(FormatError(message));
    default: break;
    }
    return sink(Error(static_cast<Status>(status), message, gf_error_http_status(error)));
}

/// The exception for a failed C call, as an exception_ptr (for futures and completions).
inline std::exception_ptr error_ptr(gf_status status, const gf_error *error) {
    return with_error(status, error, [](auto &&made) {
        return std::make_exception_ptr(std::forward<decltype(made)>(made));
    });
}

/// Throws the exception for a failed C call.
[[noreturn]] inline void throw_error(gf_status status, const gf_error *error) {
    std::rethrow_exception(error_ptr(status, error));
}

/// The `gf_error **err` argument of one C call; frees what it receives. One thread.
class ErrorSlot {
  public:
    ErrorSlot() noexcept = default;
    ErrorSlot(const ErrorSlot &) = delete;
    ErrorSlot &operator=(const ErrorSlot &) = delete;
    ~ErrorSlot() { gf_error_free(error_); }

    /// Where the C call writes the error.
    gf_error **out() noexcept { return &error_; }
    /// The error written, or NULL.
    const gf_error *get() const noexcept { return error_; }
    /// Throws the error of `status` unless it is GF_STATUS_OK.
    void check(gf_status status) const {
        if (status != GF_STATUS_OK) {
            throw_error(status, error_);
        }
    }

  private:
    gf_error *error_ = nullptr;
};

/// Frees a string the C API returned.
struct StringFree {
    void operator()(char *text) const noexcept { gf_string_free(text); }
};
/// A string the C API returned, owned.
using OwnedString = std::unique_ptr<char, StringFree>;

/// Frees a token manager handle.
struct TokenManagerFree {
    void operator()(gf_token_manager *handle) const noexcept { gf_token_manager_free(handle); }
};
/// Frees client options.
struct ClientOptionsFree {
    void operator()(gf_client_options *handle) const noexcept { gf_client_options_free(handle); }
};
/// Frees a client (calls in flight complete with GF_STATUS_SHUT_DOWN).
struct ClientFree {
    void operator()(gf_client *handle) const noexcept { gf_client_free(handle); }
};
/// Frees a lease (an unreported one gives its use back).
struct LeaseFree {
    void operator()(gf_lease *handle) const noexcept { gf_lease_free(handle); }
};
/// Frees a request handle (does not cancel the call).
struct RequestFree {
    void operator()(gf_request *handle) const noexcept { gf_request_free(handle); }
};
/// Frees a credential store handle (its key is wiped).
struct StoreFree {
    void operator()(gf_store *handle) const noexcept { gf_store_free(handle); }
};
/// Wipes and frees a secret the C API handed back.
struct SecretFree {
    void operator()(char *secret) const noexcept { gf_secret_free(secret); }
};

/// Parallel NUL-terminated name and value arrays borrowed from `headers`.
struct HeaderArrays {
    explicit HeaderArrays(const Headers &headers) {
        names.reserve(headers.size());
        values.reserve(headers.size());
        for (const Header &header : headers) {
            names.push_back(header.first.c_str());
            values.push_back(header.second.c_str());
        }
    }
    std::vector<const char *> names;
    std::vector<const char *> values;
};

} // namespace detail

// ---- models --------------------------------------------------------------------------------
//
// Plain structs with GitHub's field names (`type` for "type"; `is_private` and `is_protected`
// for the C++ keywords "private" and "protected"). A field GitHub may omit or null is a
// std::optional; times are kept as the documents give them (ISO 8601 strings for GitHub's
// dates, Unix seconds for rate limits and the pool's times; see from_unix_seconds). Each has
// a `from_json(const nlohmann::json &, T &)` found by argument-dependent lookup, so
// `json.get<T>()` works; a missing required field or a wrong type throws nlohmann's
// exceptions, which `parse` turns into DecodeError.

/// The account that owns a repository ("simple user").
struct Account {
    std::string login;                     ///< login name
    std::uint64_t id = 0;                  ///< numeric id
    std::optional<std::string> node_id;    ///< GraphQL node id
    std::optional<std::string> avatar_url; ///< avatar image URL
    std::optional<std::string> html_url;   ///< profile page
    std::optional<std::string> type;       ///< "User", "Organization" or "Bot"
    std::optional<bool> site_admin;        ///< GitHub staff account
};

/// A user or organisation profile (`user`, `authenticated_user`).
struct User {
    std::string login;                         ///< login name
    std::uint64_t id = 0;                      ///< numeric id
    std::optional<std::string> node_id;        ///< GraphQL node id
    std::optional<std::string> avatar_url;     ///< avatar image URL
    std::optional<std::string> html_url;       ///< profile page
    std::optional<std::string> type;           ///< "User", "Organization" or "Bot"
    std::optional<bool> site_admin;            ///< GitHub staff account
    std::optional<std::string> name;           ///< display name
    std::optional<std::string> company;        ///< company
    std::optional<std::string> blog;           ///< blog or website
    std::optional<std::string> location;       ///< location
    std::optional<std::string> email;          ///< public e-mail address
    std::optional<std::string> bio;            ///< biography
    std::optional<std::uint64_t> public_repos; ///< public repositories
    std::optional<std::uint64_t> followers;    ///< followers
    std::optional<std::uint64_t> following;    ///< accounts followed
    std::optional<std::string> created_at;     ///< creation time, ISO 8601
    std::optional<std::string> updated_at;     ///< last update, ISO 8601
};

/// A repository's licence summary.
struct License {
    std::optional<std::string> key;     ///< short key, e.g. "mit"
    std::optional<std::string> name;    ///< full name
    std::optional<std::string> spdx_id; ///< SPDX identifier
};

/// A repository as listed (`owner_repositories`).
struct Repository {
    std::uint64_t id = 0;                           ///< numeric id
    std::optional<std::string> node_id;             ///< GraphQL node id
    std::string name;                               ///< name without the owner
    std::string full_name;                          ///< "owner/name"
    Account owner;                                  ///< the owning account
    bool is_private = false;                        ///< JSON "private"
    std::optional<std::string> html_url;            ///< web page
    std::optional<std::string> description;         ///< description
    bool fork = false;                              ///< whether it is a fork
    std::optional<std::string> url;                 ///< API URL
    std::optional<std::string> clone_url;           ///< clone URL over HTTPS
    std::optional<std::string> homepage;            ///< homepage
    std::optional<std::string> language;            ///< main language
    std::optional<std::uint64_t> size;              ///< size in KiB
    std::optional<std::uint64_t> stargazers_count;  ///< stars
    std::optional<std::uint64_t> watchers_count;    ///< watchers
    std::optional<std::uint64_t> forks_count;       ///< forks
    std::optional<std::uint64_t> open_issues_count; ///< open issues and pull requests
    std::optional<std::string> default_branch;      ///< default branch
    std::optional<bool> archived;                   ///< archived
    std::optional<bool> disabled;                   ///< disabled
    std::optional<std::string> visibility;          ///< "public", "private" or "internal"
    std::optional<std::vector<std::string>> topics; ///< topics
    std::optional<License> license;                 ///< licence summary
    std::optional<std::string> created_at;          ///< creation time, ISO 8601
    std::optional<std::string> updated_at;          ///< last update, ISO 8601
    std::optional<std::string> pushed_at;           ///< last push, ISO 8601
};

/// A repository in full (`repository`): the listed fields and the details-only counts.
struct RepositoryDetails : Repository {
    std::optional<std::uint64_t> subscribers_count; ///< watchers (subscribers)
    std::optional<std::uint64_t> network_count;     ///< forks in the whole network
    std::optional<bool> has_issues;                 ///< issues enabled
    std::optional<bool> has_wiki;                   ///< wiki enabled
    std::optional<bool> is_template;                ///< template repository
};

/// A contributor (`contributors`).
struct Contributor {
    std::optional<std::string> login;      ///< login (anonymous contributors have none)
    std::optional<std::uint64_t> id;       ///< numeric id
    std::optional<std::string> avatar_url; ///< avatar image URL
    std::optional<std::string> html_url;   ///< profile page
    std::optional<std::string> type;       ///< "User", "Bot" or "Anonymous"
    std::uint64_t contributions = 0;       ///< number of commits
};

/// The commit a branch points at.
struct BranchCommit {
    std::string sha;                ///< commit SHA
    std::optional<std::string> url; ///< API URL of the commit
};

/// A branch (`branches`).
struct Branch {
    std::string name;          ///< branch name
    BranchCommit commit;       ///< head commit
    bool is_protected = false; ///< JSON "protected"
};

/// The figures of one rate-limit resource, as the server reported them.
struct RateLimitResource {
    std::uint64_t limit = 0;     ///< requests per window
    std::uint64_t used = 0;      ///< used in this window
    std::uint64_t remaining = 0; ///< left in this window
    std::uint64_t reset = 0;     ///< window reset, Unix seconds (server clock)
};

/// The rate limits of one token (`rate_limit`).
struct RateLimit {
    std::map<std::string, RateLimitResource> resources; ///< "core", "search", ...
    std::optional<RateLimitResource> rate;              ///< deprecated mirror of "core"
};

/// One pooled token after a refresh (`refresh_rate_limits`, keyed by fingerprint).
struct TokenRateLimit {
    std::string fingerprint;                   ///< the token's fingerprint
    TokenStatus status = TokenStatus::Unknown; ///< its status after the refresh
    std::optional<RateLimit> rate_limit;       ///< the figures, when the server answered
    std::optional<std::string> error;          ///< why there are none, when it did not
};

/// The check of one token against GET /user (`validate_token`, `validate_pool`).
struct TokenValidation {
    std::string fingerprint;          ///< the token's fingerprint
    bool valid = false;               ///< false only when the server refused it (401)
    std::optional<std::string> login; ///< its account, when the server said
    std::optional<std::string> error; ///< why it is invalid or not fully checked
};

/// One resource of one pooled token (`TokenManager::snapshot`).
struct ResourceSnapshot {
    std::optional<std::uint64_t> limit;        ///< requests per window, if reported
    std::optional<std::uint64_t> remaining;    ///< left, if reported for this window
    std::optional<std::uint64_t> used;         ///< used, if reported
    std::optional<std::uint64_t> reset;        ///< window reset, Unix seconds (this machine)
    TokenStatus status = TokenStatus::Unknown; ///< available or rate_limited
    std::uint32_t in_flight = 0;               ///< leases of this resource not yet reported
};

/// One pooled token: everything but the secret (`TokenManager::snapshot`).
struct TokenSnapshot {
    std::string fingerprint;                   ///< the token's public name
    Provider provider = Provider::GitHub;      ///< its provider
    std::optional<std::string> username;       ///< the username given when added
    std::int32_t priority = 0;                 ///< its priority
    TokenStatus status = TokenStatus::Unknown; ///< overall state
    std::optional<std::uint64_t> available_at; ///< when a limited token is back, Unix seconds
    std::map<std::string, ResourceSnapshot> resources; ///< figures per reported resource
};

/// One credential of a Store, without its secret (`Store::list`).
struct StoredCredential {
    std::string fingerprint;              ///< the token's fingerprint
    Provider provider = Provider::GitHub; ///< its provider
    std::optional<std::string> username;  ///< its account, if known
    std::optional<std::string> host;      ///< its host, if not the provider's public one
    std::uint64_t added_at = 0;           ///< when it was first saved, Unix seconds
};

namespace detail {

/// `out` = j[key]; throws (nlohmann) when it is missing or of another type.
template <class T>
void required(const nlohmann::json &j, const char *key, T &out) {
    j.at(key).get_to(out);
}

/// `out` = j[key], or empty when it is missing or null.
template <class T>
void optional_field(const nlohmann::json &j, const char *key, std::optional<T> &out) {
    const auto found = j.find(key);
    if (found == j.end() || found->is_null()) {
        out.reset();
    } else {
        out = found->template get<T>();
    }
}

/// `out` = j[key], or `fallback` when it is missing or null.
template <class T>
void defaulted(const nlohmann::json &j, const char *key, T &out, T fallback) {
    const auto found = j.find(key);
    if (found == j.end() || found->is_null()) {
        out = std::move(fallback);
    } else {
        found->get_to(out);
    }
}

} // namespace detail

/// Reads a TokenStatus from its JSON string ("unknown" for strings this wrapper does not know).
inline void from_json(const nlohmann::json &j, TokenStatus &status) {
    const std::string &text = j.get_ref<const std::string &>();
    if (text == "available") {
        status = TokenStatus::Available;
    } else if (text == "rate_limited") {
        status = TokenStatus::RateLimited;
    } else if (text == "cooling_down") {
        status = TokenStatus::CoolingDown;
    } else if (text == "invalid") {
        status = TokenStatus::Invalid;
    } else {
        status = TokenStatus::Unknown;
    }
}

/// Reads a Provider from its JSON string; throws DecodeError for an unknown one.
inline void from_json(const nlohmann::json &j, Provider &provider) {
    const std::string &text = j.get_ref<const std::string &>();
    if (text == "github") {
        provider = Provider::GitHub;
    } else if (text == "gitlab") {
        provider = Provider::GitLab;
    } else if (text == "bitbucket") {
        provider = Provider::Bitbucket;
    } else {
        throw DecodeError("unknown provider \"" + text + "\"");
    }
}

/// Reads an Account.
inline void from_json(const nlohmann::json &j, Account &a) {
    detail::required(j, "login", a.login);
    detail::required(j, "id", a.id);
    detail::optional_field(j, "node_id", a.node_id);
    detail::optional_field(j, "avatar_url", a.avatar_url);
    detail::optional_field(j, "html_url", a.html_url);
    detail::optional_field(j, "type", a.type);
    detail::optional_field(j, "site_admin", a.site_admin);
}

/// Reads a User.
inline void from_json(const nlohmann::json &j, User &u) {
    detail::required(j, "login", u.login);
    detail::required(j, "id", u.id);
    detail::optional_field(j, "node_id", u.node_id);
    detail::optional_field(j, "avatar_url", u.avatar_url);
    detail::optional_field(j, "html_url", u.html_url);
    detail::optional_field(j, "type", u.type);
    detail::optional_field(j, "site_admin", u.site_admin);
    detail::optional_field(j, "name", u.name);
    detail::optional_field(j, "company", u.company);
    detail::optional_field(j, "blog", u.blog);
    detail::optional_field(j, "location", u.location);
    detail::optional_field(j, "email", u.email);
    detail::optional_field(j, "bio", u.bio);
    detail::optional_field(j, "public_repos", u.public_repos);
    detail::optional_field(j, "followers", u.followers);
    detail::optional_field(j, "following", u.following);
    detail::optional_field(j, "created_at", u.created_at);
    detail::optional_field(j, "updated_at", u.updated_at);
}

/// Reads a License.
inline void from_json(const nlohmann::json &j, License &l) {
    detail::optional_field(j, "key", l.key);
    detail::optional_field(j, "name", l.name);
    detail::optional_field(j, "spdx_id", l.spdx_id);
}

/// Reads a Repository.
inline void from_json(const nlohmann::json &j, Repository &r) {
    detail::required(j, "id", r.id);
    detail::optional_field(j, "node_id", r.node_id);
    detail::required(j, "name", r.name);
    detail::required(j, "full_name", r.full_name);
    detail::required(j, "owner", r.owner);
    detail::defaulted(j, "private", r.is_private, false);
    detail::optional_field(j, "html_url", r.html_url);
    detail::optional_field(j, "description", r.description);
    detail::defaulted(j, "fork", r.fork, false);
    detail::optional_field(j, "url", r.url);
    detail::optional_field(j, "clone_url", r.clone_url);
    detail::optional_field(j, "homepage", r.homepage);
    detail::optional_field(j, "language", r.language);
    detail::optional_field(j, "size", r.size);
    detail::optional_field(j, "stargazers_count", r.stargazers_count);
    detail::optional_field(j, "watchers_count", r.watchers_count);
    detail::optional_field(j, "forks_count", r.forks_count);
    detail::optional_field(j, "open_issues_count", r.open_issues_count);
    detail::optional_field(j, "default_branch", r.default_branch);
    detail::optional_field(j, "archived", r.archived);
    detail::optional_field(j, "disabled", r.disabled);
    detail::optional_field(j, "visibility", r.visibility);
    detail::optional_field(j, "topics", r.topics);
    detail::optional_field(j, "license", r.license);
    detail::optional_field(j, "created_at", r.created_at);
    detail::optional_field(j, "updated_at", r.updated_at);
    detail::optional_field(j, "pushed_at", r.pushed_at);
}

/// Reads a RepositoryDetails.
inline void from_json(const nlohmann::json &j, RepositoryDetails &r) {
    from_json(j, static_cast<Repository &>(r));
    detail::optional_field(j, "subscribers_count", r.subscribers_count);
    detail::optional_field(j, "network_count", r.network_count);
    detail::optional_field(j, "has_issues", r.has_issues);
    detail::optional_field(j, "has_wiki", r.has_wiki);
    detail::optional_field(j, "is_template", r.is_template);
}

/// Reads a Contributor.
inline void from_json(const nlohmann::json &j, Contributor &c) {
    detail::optional_field(j, "login", c.login);
    detail::optional_field(j, "id", c.id);
    detail::optional_field(j, "avatar_url", c.avatar_url);
    detail::optional_field(j, "html_url", c.html_url);
    detail::optional_field(j, "type", c.type);
    detail::required(j, "contributions", c.contributions);
}

/// Reads a BranchCommit.
inline void from_json(const nlohmann::json &j, BranchCommit &c) {
    detail::required(j, "sha", c.sha);
    detail::optional_field(j, "url", c.url);
}

/// Reads a Branch.
inline void from_json(const nlohmann::json &j, Branch &b) {
    detail::required(j, "name", b.name);
    detail::required(j, "commit", b.commit);
    detail::defaulted(j, "protected", b.is_protected, false);
}

/// Reads a RateLimitResource.
inline void from_json(const nlohmann::json &j, RateLimitResource &r) {
    detail::required(j, "limit", r.limit);
    detail::defaulted(j, "used", r.used, std::uint64_t{0});
    detail::required(j, "remaining", r.remaining);
    detail::required(j, "reset", r.reset);
}

/// Reads a RateLimit.
inline void from_json(const nlohmann::json &j, RateLimit &r) {
    detail::required(j, "resources", r.resources);
    detail::optional_field(j, "rate", r.rate);
}

/// Reads a TokenRateLimit.
inline void from_json(const nlohmann::json &j, TokenRateLimit &t) {
    detail::required(j, "fingerprint", t.fingerprint);
    detail::required(j, "status", t.status);
    detail::optional_field(j, "rate_limit", t.rate_limit);
    detail::optional_field(j, "error", t.error);
}

/// Reads a TokenValidation.
inline void from_json(const nlohmann::json &j, TokenValidation &t) {
    detail::required(j, "fingerprint", t.fingerprint);
    detail::required(j, "valid", t.valid);
    detail::optional_field(j, "login", t.login);
    detail::optional_field(j, "error", t.error);
}

/// Reads a ResourceSnapshot.
inline void from_json(const nlohmann::json &j, ResourceSnapshot &r) {
    detail::optional_field(j, "limit", r.limit);
    detail::optional_field(j, "remaining", r.remaining);
    detail::optional_field(j, "used", r.used);
    detail::optional_field(j, "reset", r.reset);
    detail::required(j, "status", r.status);
    detail::defaulted(j, "in_flight", r.in_flight, std::uint32_t{0});
}

/// Reads a TokenSnapshot.
inline void from_json(const nlohmann::json &j, TokenSnapshot &t) {
    detail::required(j, "fingerprint", t.fingerprint);
    detail::required(j, "provider", t.provider);
    detail::optional_field(j, "username", t.username);
    detail::defaulted(j, "priority", t.priority, std::int32_t{0});
    detail::required(j, "status", t.status);
    detail::optional_field(j, "available_at", t.available_at);
    detail::defaulted(j, "resources", t.resources, {});
}

/// Reads a StoredCredential.
inline void from_json(const nlohmann::json &j, StoredCredential &c) {
    detail::required(j, "fingerprint", c.fingerprint);
    detail::required(j, "provider", c.provider);
    detail::optional_field(j, "username", c.username);
    detail::optional_field(j, "host", c.host);
    detail::defaulted(j, "added_at", c.added_at, std::uint64_t{0});
}

/// Parses a JSON document into T (a model, or a std::vector / std::map of models).
/// Throws DecodeError when it is not JSON or does not have T's shape. Thread-safe.
template <class T>
[[nodiscard]] T parse(std::string_view json) {
    try {
        return nlohmann::json::parse(json.begin(), json.end()).get<T>();
    } catch (const nlohmann::json::exception &e) {
        throw DecodeError(std::string("gitfleet: unexpected JSON document: ") + e.what());
    }
}

// ---- results -------------------------------------------------------------------------------

/// A call's result: the typed value and the JSON document it was read from. Plain value type.
template <class T>
struct Result {
    T value;          ///< the typed result
    std::string json; ///< the document exactly as the C API returned it

    // (clang-format 14 would glue the ref-qualifiers to noexcept.)
    // clang-format off
    /// The value.
    T &operator*() & noexcept { return value; }
    /// The value.
    const T &operator*() const & noexcept { return value; }
    // clang-format on
    /// The value's members.
    T *operator->() noexcept { return &value; }
    /// The value's members.
    const T *operator->() const noexcept { return &value; }
};

namespace detail {

/// Copies and parses a document the C API returned; NULL is a DecodeError.
template <class T>
Result<T> make_result(const char *json) {
    if (json == nullptr) {
        throw DecodeError("gitfleet: the call succeeded without a document");
    }
    std::string text(json);
    T value = parse<T>(text);
    return Result<T>{std::move(value), std::move(text)};
}

} // namespace detail

/// The outcome of an async call, handed to the callable: the Result<T> or the exception. The
/// callable takes it by value (or by rvalue or const reference). A plain value type; for one
/// thread at a time.
template <class T>
class Completion {
  public:
    /// A successful completion.
    explicit Completion(Result<T> result) noexcept(std::is_nothrow_move_constructible_v<T>)
        : result_(std::move(result)), status_(Status::Ok) {}
    /// A failed completion: `error` is the exception (usually a gitfleet::Error of `status`).
    Completion(std::exception_ptr error, Status status) noexcept
        : error_(std::move(error)), status_(status) {}

    /// True when the call succeeded.
    bool ok() const noexcept { return status_ == Status::Ok; }
    /// Status::Ok, or the status of the error (Cancelled, ShutDown, RateLimited, ...).
    Status status() const noexcept { return status_; }
    /// The exception of a failed call; empty after success.
    const std::exception_ptr &error() const noexcept { return error_; }
    /// Throws the exception of a failed call; does nothing after success.
    void rethrow() const {
        if (error_) {
            std::rethrow_exception(error_);
        }
    }
    /// The result; throws the call's exception if it failed.
    Result<T> &get() & {
        rethrow();
        return *result_;
    }
    /// The result; throws the call's exception if it failed.
    const Result<T> &get() const & {
        rethrow();
        return *result_;
    }
    /// The result, moved out; throws the call's exception if it failed.
    Result<T> get() && {
        rethrow();
        return std::move(*result_);
    }

    /// Builds the completion of a C callback. Never throws: a document that does not parse,
    /// or running out of memory, becomes a failed completion.
    static Completion from_c(gf_status status, const char *json, const gf_error *error) noexcept {
        try {
            if (status == GF_STATUS_OK) {
                return Completion(detail::make_result<T>(json));
            }
            return Completion(detail::error_ptr(status, error), static_cast<Status>(status));
        } catch (const Error &e) {
            return Completion(std::current_exception(), e.status());
        } catch (...) {
            return Completion(std::current_exception(), Status::Internal);
        }
    }

  private:
    std::optional<Result<T>> result_;
    std::exception_ptr error_;
    Status status_;
};

namespace detail {

/// True when F can be an async call's callable for T: F&&(Completion<T>) is valid.
template <class F, class T>
using IfCallback = std::enable_if_t<std::is_invocable_v<std::decay_t<F> &&, Completion<T>> &&
                                        std::is_move_constructible_v<std::decay_t<F>>,
                                    int>;

/// The heap-allocated user data of one async call: the callable. The C callback (trampoline)
/// takes ownership back, runs the callable once, and deletes it.
template <class T, class F>
class CallbackHolder {
  public:
    explicit CallbackHolder(F fn) : fn_(std::move(fn)) {}

    /// Called right before the pointer is handed to the C API. The release store pairs with
    /// the acquire load in the trampoline, so the holder's construction happens-before its use
    /// on the library thread in the C++ memory model too (ThreadSanitizer cannot see the
    /// synchronisation inside the uninstrumented library).
    void publish() noexcept { published_.store(true, std::memory_order_release); }

    /// The callable (to complete a refused call inline, for futures).
    F &callable() noexcept { return fn_; }

    /// The gf_callback: completes the call once and frees the holder. Never throws.
    static void trampoline(void *user_data, gf_status status, const char *json,
                           const gf_error *error) noexcept {
        std::unique_ptr<CallbackHolder> self(static_cast<CallbackHolder *>(user_data));
        if (!self || !self->published_.load(std::memory_order_acquire)) {
            return; // not ours (cannot happen: the C API hands back our pointer untouched)
        }
        try {
            std::move(self->fn_)(Completion<T>::from_c(status, json, error));
        } catch (...) {
            // An exception from the callable has nowhere to go; the contract says it is
            // dropped. It must not unwind into the C library.
        }
    }

  private:
    std::atomic<bool> published_{false};
    F fn_;
};

/// The callable behind the future form: fulfils its promise.
template <class T>
struct PromiseSink {
    std::promise<Result<T>> promise;

    void operator()(Completion<T> done) {
        if (done.ok()) {
            promise.set_value(std::move(done).get());
        } else {
            promise.set_exception(done.error());
        }
    }
};

} // namespace detail

// ---- Request -------------------------------------------------------------------------------

/// The handle of one async call, to cancel it or ask whether it is settled. Owns a gf_request.
/// Destroying it does NOT cancel the call (which still completes once). Move-only; one thread
/// at a time (it may be moved to another thread).
class Request {
  public:
    /// An empty request (no call).
    Request() noexcept = default;
    /// Adopts `handle` (may be NULL).
    explicit Request(gf_request *handle) noexcept : handle_(handle) {}
    Request(Request &&) noexcept = default;
    Request &operator=(Request &&) noexcept = default;
    Request(const Request &) = delete;
    Request &operator=(const Request &) = delete;
    ~Request() = default;

    /// Cancels the call: its completion comes with CancelledError, on a library thread, unless
    /// it has completed already (then nothing happens). Throws InvalidArgument when empty.
    void cancel() const {
        const gf_status status = gf_request_cancel(handle_.get());
        if (status != GF_STATUS_OK) {
            detail::throw_error(status, nullptr);
        }
    }
    /// True once the outcome is settled (completion run, running, or on its way); false when
    /// empty.
    bool is_done() const noexcept { return gf_request_is_done(handle_.get()); }
    /// True when it holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The handle, still owned by this object (NULL when empty).
    gf_request *get() const noexcept { return handle_.get(); }
    /// Gives up the handle: the caller frees it with gf_request_free.
    gf_request *release() noexcept { return handle_.release(); }

  private:
    std::unique_ptr<gf_request, detail::RequestFree> handle_;
};

// ---- Lease ---------------------------------------------------------------------------------

/// A token taken from the pool for one request the caller sends with its own HTTP stack.
/// Owns a gf_lease: until destroyed it counts as one use of its token; destroying it unreported
/// gives that use back. Report the response with report(), once. Move-only; one thread at a
/// time. It keeps the pool alive (the TokenManager object may be destroyed first).
class Lease {
  public:
    /// An empty lease.
    Lease() noexcept = default;
    /// Adopts `handle` (may be NULL).
    explicit Lease(gf_lease *handle) noexcept : handle_(handle) {}
    Lease(Lease &&) noexcept = default;
    Lease &operator=(Lease &&) noexcept = default;
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    ~Lease() = default;

    /// The token, for the `Authorization: Bearer` header: a SECRET, keep it out of logs.
    /// Borrowed until this lease is destroyed; "" when empty.
    const char *token() const noexcept { return gf_lease_token(handle_.get()); }
    /// The token's 12-hex-digit fingerprint, safe to log ("" when empty).
    std::string fingerprint() const { return gf_lease_fingerprint(handle_.get()); }

    /// Reports the response: HTTP `status`, `headers` and `body` (only error bodies are read).
    /// The pool records the figures and classifies it; the result says what it meant. Throws
    /// InvalidArgument when reported twice, when empty or for a status outside 100..599.
    Outcome report(std::uint16_t status, const Headers &headers = {}, std::string_view body = {}) {
        const detail::HeaderArrays arrays(headers);
        gf_outcome outcome = GF_OUTCOME_OTHER_ERROR;
        detail::ErrorSlot err;
        err.check(gf_lease_report(
            handle_.get(), status, arrays.names.data(), arrays.values.data(), headers.size(),
            reinterpret_cast<const std::uint8_t *>(body.data()), body.size(), &outcome, err.out()));
        return static_cast<Outcome>(outcome);
    }

    /// True when it holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The handle, still owned by this object.
    gf_lease *get() const noexcept { return handle_.get(); }
    /// Gives up the handle: the caller frees it with gf_lease_free.
    gf_lease *release() noexcept { return handle_.release(); }

  private:
    std::unique_ptr<gf_lease, detail::LeaseFree> handle_;
};

// ---- TokenManager --------------------------------------------------------------------------

/// A pool of tokens. Owns one gf_token_manager handle; the pool itself is shared: clients
/// built with it (and leases) keep it alive after this object is destroyed. Thread-safe: any
/// number of threads may call its methods at once (not while it is moved, assigned or
/// destroyed). Move-only. No method does I/O.
class TokenManager {
  public:
    /// An empty pool: rate-aware, no reserve.
    TokenManager() : handle_(gf_token_manager_new()) {}
    /// Adopts `handle` (may be NULL: an empty object).
    explicit TokenManager(gf_token_manager *handle) noexcept : handle_(handle) {}
    TokenManager(TokenManager &&) noexcept = default;
    TokenManager &operator=(TokenManager &&) noexcept = default;
    TokenManager(const TokenManager &) = delete;
    TokenManager &operator=(const TokenManager &) = delete;
    ~TokenManager() = default;

    /// Adds a token (copied by the library). `username` may be NULL. Adding one already pooled
    /// keeps one entry (username and priority updated; an invalid one becomes usable again).
    void add_token(StringRef secret, Provider provider = Provider::GitHub,
                   StringRef username = nullptr, std::int32_t priority = 0) {
        detail::ErrorSlot err;
        err.check(gf_token_manager_add_token(handle_.get(), static_cast<std::int32_t>(provider),
                                             secret.c_str(), username.c_str(), priority,
                                             err.out()));
    }
    /// Removes a token; true when the pool had it.
    bool remove_token(StringRef secret) {
        bool removed = false;
        detail::ErrorSlot err;
        err.check(
            gf_token_manager_remove_token(handle_.get(), secret.c_str(), &removed, err.out()));
        return removed;
    }
    /// Sets the selection strategy.
    void set_strategy(Strategy strategy) {
        detail::ErrorSlot err;
        err.check(gf_token_manager_set_strategy(handle_.get(), static_cast<std::int32_t>(strategy),
                                                err.out()));
    }
    /// Keeps `count` requests per window untouched on every token (0: none).
    void set_reserve_count(std::uint64_t count) {
        detail::ErrorSlot err;
        err.check(gf_token_manager_set_reserve_count(handle_.get(), count, err.out()));
    }
    /// Keeps `fraction` (0.0 to 1.0) of each token's limit untouched.
    void set_reserve_fraction(double fraction) {
        detail::ErrorSlot err;
        err.check(gf_token_manager_set_reserve_fraction(handle_.get(), fraction, err.out()));
    }
    /// Marks a token invalid until added again; true when the pool had it.
    bool mark_invalid(StringRef secret) {
        bool found = false;
        detail::ErrorSlot err;
        err.check(gf_token_manager_mark_invalid(handle_.get(), secret.c_str(), &found, err.out()));
        return found;
    }
    /// Records the rate-limit headers of a successful response made with `secret` outside any
    /// lease; true when the pool had the token.
    bool update_from_headers(StringRef secret, const Headers &headers) {
        const detail::HeaderArrays arrays(headers);
        bool found = false;
        detail::ErrorSlot err;
        err.check(gf_token_manager_update_from_headers(handle_.get(), secret.c_str(),
                                                       arrays.names.data(), arrays.values.data(),
                                                       headers.size(), &found, err.out()));
        return found;
    }

    /// How many tokens of `provider` could serve a request on `resource` now ("" is "core").
    [[nodiscard]] std::size_t count_available(Provider provider = Provider::GitHub,
                                              StringRef resource = "core") const {
        std::size_t count = 0;
        detail::ErrorSlot err;
        err.check(gf_token_manager_count_available(handle_.get(),
                                                   static_cast<std::int32_t>(provider),
                                                   resource.c_str(), &count, err.out()));
        return count;
    }
    /// When the earliest token of `provider` spent or cooling down for `resource` is usable
    /// again (this machine's clock); empty when no token is waiting for a reset.
    [[nodiscard]] std::optional<TimePoint> earliest_reset(Provider provider = Provider::GitHub,
                                                          StringRef resource = "core") const {
        std::uint64_t reset = 0;
        detail::ErrorSlot err;
        err.check(gf_token_manager_earliest_reset(handle_.get(),
                                                  static_cast<std::int32_t>(provider),
                                                  resource.c_str(), &reset, err.out()));
        if (reset == 0) {
            return std::nullopt;
        }
        return from_unix_seconds(reset);
    }
    /// Every token, in the order added (never a secret), typed and as JSON.
    Result<std::vector<TokenSnapshot>> snapshot() const {
        char *json = nullptr;
        detail::ErrorSlot err;
        err.check(gf_token_manager_snapshot_json(handle_.get(), &json, err.out()));
        const detail::OwnedString owned(json);
        return detail::make_result<std::vector<TokenSnapshot>>(owned.get());
    }

    /// Takes a token of `provider` for one request on `resource`. Throws RateLimitError (with
    /// the earliest reset) when every valid token is spent — or, one second away, when the only
    /// quota left is held by unreported leases — and AuthError when no token is valid.
    [[nodiscard]] Lease lease(Provider provider = Provider::GitHub,
                              StringRef resource = "core") const {
        gf_lease *lease = nullptr;
        detail::ErrorSlot err;
        err.check(gf_token_manager_lease(handle_.get(), static_cast<std::int32_t>(provider),
                                         resource.c_str(), &lease, err.out()));
        return Lease(lease);
    }

    /// True when it holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The handle, still owned by this object.
    gf_token_manager *get() const noexcept { return handle_.get(); }
    /// Gives up the handle: the caller frees it with gf_token_manager_free.
    gf_token_manager *release() noexcept { return handle_.release(); }

  private:
    std::unique_ptr<gf_token_manager, detail::TokenManagerFree> handle_;
};

// ---- credential store ----------------------------------------------------------------------

/// A token the library handed back (Store::get_token). Owns it: destroying the Secret wipes
/// and frees it (gf_secret_free). Move-only; never printed by the wrapper. Pass it on as a
/// StringRef (e.g. to TokenManager::add_token) rather than copying it into a std::string,
/// whose memory nobody wipes.
class Secret {
  public:
    /// An empty secret.
    Secret() noexcept = default;
    /// Adopts `secret` (from the C API; may be NULL).
    explicit Secret(char *secret) noexcept : secret_(secret) {}
    Secret(Secret &&) noexcept = default;
    Secret &operator=(Secret &&) noexcept = default;
    Secret(const Secret &) = delete;
    Secret &operator=(const Secret &) = delete;
    ~Secret() = default;

    /// The token, borrowed until this Secret is destroyed ("" when empty).
    const char *c_str() const noexcept { return secret_ ? secret_.get() : ""; }
    /// The token as a view, borrowed likewise.
    std::string_view view() const noexcept { return c_str(); }
    /// True when it holds no token.
    bool empty() const noexcept { return !secret_ || secret_.get()[0] == '\0'; }
    /// Gives up the secret: the caller frees it with gf_secret_free.
    char *release() noexcept { return secret_.release(); }

  private:
    std::unique_ptr<char, detail::SecretFree> secret_;
};

inline StringRef::StringRef(const Secret &secret) noexcept : text_(secret.c_str()) {}

inline StringRef::StringRef(const std::string &text) : text_(text.c_str()) {
    if (text.find('\0') != std::string::npos) {
        throw InvalidArgument("a string argument contains a NUL byte");
    }
}

/// Argon2id cost of a new store's key: memory in KiB, passes, lanes. The default is the C
/// API's (64 MiB, 3 passes, 1 lane); the library refuses values too weak or too large.
struct KdfParams {
    std::uint32_t memory_kib = 64 * 1024; ///< memory, KiB (at least 8 per lane)
    std::uint32_t iterations = 3;         ///< passes (1 to 64)
    std::uint32_t lanes = 1;              ///< parallelism (1 to 64)
};

/// An open encrypted credential store (a file of tokens, XChaCha20-Poly1305 under a key from
/// a password or a raw 32-byte key). Owns a gf_store; destroying it wipes the key, the file
/// stays. Thread-safe: any number of threads may use one store (not while it is moved,
/// assigned or destroyed); stores in several processes may share a file. Move-only.
/// Failures: IoError (file), CryptoError (wrong password or key, changed file), FormatError
/// (not a store), InvalidArgument, NotFoundError (get_token of an unknown fingerprint).
class Store {
  public:
    /// An empty object (no store).
    Store() noexcept = default;
    /// Adopts `handle` (may be NULL).
    explicit Store(gf_store *handle) noexcept : handle_(handle) {}
    Store(Store &&) noexcept = default;
    Store &operator=(Store &&) noexcept = default;
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;
    ~Store() = default;

    /// Creates an empty store at `path` (which must not exist) under `password`, with the
    /// default Argon2id parameters.
    static Store create(StringRef path, StringRef password) {
        return made([&](gf_store **out, gf_error **err) {
            return gf_store_create(path.c_str(), password.c_str(), out, err);
        });
    }
    /// Creates an empty store at `path` under `password`, with explicit Argon2id parameters.
    static Store create(StringRef path, StringRef password, const KdfParams &params) {
        return made([&](gf_store **out, gf_error **err) {
            return gf_store_create_with_params(path.c_str(), password.c_str(), params.memory_kib,
                                               params.iterations, params.lanes, out, err);
        });
    }
    /// Creates an empty store at `path` under a raw key (`key_len` must be 32).
    static Store create_with_key(StringRef path, const std::uint8_t *key, std::size_t key_len) {
        return made([&](gf_store **out, gf_error **err) {
            return gf_store_create_with_key(path.c_str(), key, key_len, out, err);
        });
    }
    /// Opens the store at `path` with its password.
    static Store open(StringRef path, StringRef password) {
        return made([&](gf_store **out, gf_error **err) {
            return gf_store_open(path.c_str(), password.c_str(), out, err);
        });
    }
    /// Opens the store at `path` with its raw key (`key_len` must be 32).
    static Store open_with_key(StringRef path, const std::uint8_t *key, std::size_t key_len) {
        return made([&](gf_store **out, gf_error **err) {
            return gf_store_open_with_key(path.c_str(), key, key_len, out, err);
        });
    }

    /// Saves a token (copied; `username` and `host` may be NULL). Saving one already stored
    /// for the provider updates its username and host.
    void save(StringRef token, Provider provider = Provider::GitHub, StringRef username = nullptr,
              StringRef host = nullptr) {
        detail::ErrorSlot err;
        err.check(gf_store_save(handle_.get(), static_cast<std::int32_t>(provider), token.c_str(),
                                username.c_str(), host.c_str(), err.out()));
    }
    /// Every credential, never a token.
    Result<std::vector<StoredCredential>> list() const {
        char *json = nullptr;
        detail::ErrorSlot err;
        err.check(gf_store_list_json(handle_.get(), &json, err.out()));
        const detail::OwnedString owned(json);
        return detail::make_result<std::vector<StoredCredential>>(owned.get());
    }
    /// The token with `fingerprint` (a Secret); NotFoundError when there is none.
    [[nodiscard]] Secret get_token(StringRef fingerprint) const {
        char *token = nullptr;
        detail::ErrorSlot err;
        err.check(gf_store_get_token(handle_.get(), fingerprint.c_str(), &token, err.out()));
        return Secret(token);
    }
    /// Removes the credential with `fingerprint`; true when there was one.
    bool remove(StringRef fingerprint) {
        bool removed = false;
        detail::ErrorSlot err;
        err.check(gf_store_remove(handle_.get(), fingerprint.c_str(), &removed, err.out()));
        return removed;
    }
    /// Removes every credential.
    void clear() {
        detail::ErrorSlot err;
        err.check(gf_store_clear(handle_.get(), err.out()));
    }
    /// Re-encrypts the store under `new_password` (default Argon2id parameters). Other handles
    /// on the file must be opened again (they get CryptoError until then).
    void change_password(StringRef new_password) {
        detail::ErrorSlot err;
        err.check(gf_store_change_password(handle_.get(), new_password.c_str(), err.out()));
    }
    /// Adds every stored token to `pool`; returns how many there were.
    std::size_t load_into(const TokenManager &pool) const {
        std::size_t count = 0;
        detail::ErrorSlot err;
        err.check(gf_store_load_into(handle_.get(), pool.get(), &count, err.out()));
        return count;
    }

    /// True when it holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The handle, still owned by this object.
    gf_store *get() const noexcept { return handle_.get(); }
    /// Gives up the handle: the caller frees it with gf_store_free.
    gf_store *release() noexcept { return handle_.release(); }

  private:
    template <class Open>
    static Store made(Open &&open) {
        gf_store *store = nullptr;
        detail::ErrorSlot err;
        err.check(open(&store, err.out()));
        return Store(store);
    }

    std::unique_ptr<gf_store, detail::StoreFree> handle_;
};

// ---- ClientOptions -------------------------------------------------------------------------

/// Options for a Client, as a builder: every setter returns *this and throws InvalidArgument
/// for a value the C API refuses. Owns a gf_client_options; the Client copies it, so options
/// may be reused or destroyed at once. Move-only; one thread at a time.
/// Defaults: GitHub's public API, no token, 30 s per request phase, 10 s to connect,
/// 8 retries, no waiting for resets.
class ClientOptions {
  public:
    /// Options with the defaults.
    ClientOptions() : handle_(gf_client_options_new()) {}
    ClientOptions(ClientOptions &&) noexcept = default;
    ClientOptions &operator=(ClientOptions &&) noexcept = default;
    ClientOptions(const ClientOptions &) = delete;
    ClientOptions &operator=(const ClientOptions &) = delete;
    ~ClientOptions() = default;

    /// The API root, e.g. "https://api.github.com" or "https://HOST/api/v3" (the client
    /// refuses one that is not an http(s) URL with a host).
    ClientOptions &base_url(StringRef url) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_base_url(handle_.get(), url.c_str(), err.out()));
        return *this;
    }
    /// A default token (a secret, copied); it joins the client's pool.
    ClientOptions &token(StringRef token) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_token(handle_.get(), token.c_str(), err.out()));
        return *this;
    }
    /// Draws the client's tokens from `pool`, shared (the pool may be destroyed first).
    ClientOptions &token_manager(const TokenManager &pool) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_token_manager(handle_.get(), pool.get(), err.out()));
        return *this;
    }
    /// The User-Agent header (non-empty, printable).
    ClientOptions &user_agent(StringRef user_agent) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_user_agent(handle_.get(), user_agent.c_str(), err.out()));
        return *this;
    }
    /// The limit on each phase of one request (at least 1 ms).
    ClientOptions &timeout(std::chrono::milliseconds timeout) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_timeout_ms(handle_.get(), to_ms(timeout), err.out()));
        return *this;
    }
    /// The limit on opening a connection (at least 1 ms).
    ClientOptions &connect_timeout(std::chrono::milliseconds timeout) {
        detail::ErrorSlot err;
        err.check(
            gf_client_options_set_connect_timeout_ms(handle_.get(), to_ms(timeout), err.out()));
        return *this;
    }
    /// How many times one request may be sent again (another token, 5xx, network error).
    ClientOptions &max_retries(std::uint32_t retries) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_max_retries(handle_.get(), retries, err.out()));
        return *this;
    }
    /// How long one call may wait in all for a reset when every token is spent (0: fail at
    /// once with RateLimitError).
    ClientOptions &max_wait(std::chrono::milliseconds wait) {
        detail::ErrorSlot err;
        err.check(gf_client_options_set_max_wait_ms(handle_.get(), to_ms(wait), err.out()));
        return *this;
    }

    /// The handle, still owned by this object.
    gf_client_options *get() const noexcept { return handle_.get(); }

  private:
    // A negative duration becomes 0, which the C API refuses where at least 1 is needed.
    static std::uint64_t to_ms(std::chrono::milliseconds duration) noexcept {
        return duration.count() < 0 ? 0 : static_cast<std::uint64_t>(duration.count());
    }

    std::unique_ptr<gf_client_options, detail::ClientOptionsFree> handle_;
};

// ---- Client --------------------------------------------------------------------------------

/// A GitHub REST client drawing its tokens from a pool. Owns a gf_client. Thread-safe: any
/// number of threads may make calls at once (not while it is moved, assigned or destroyed).
/// Move-only. Destroying it with async calls in flight completes each of them once with
/// ShutDownError (possibly after the destructor returns); their callables and futures do not
/// refer to the Client, so that is safe.
///
/// Every call comes in the three forms the top of this header describes; the blocking form
/// throws the gitfleet::Error of its failure.
class Client {
  public:
    /// A client with `options` (copied). Throws InvalidArgument for a bad base URL.
    explicit Client(const ClientOptions &options) {
        gf_client *client = nullptr;
        detail::ErrorSlot err;
        err.check(gf_client_new(options.get(), &client, err.out()));
        handle_.reset(client);
    }
    /// Adopts `handle` (may be NULL: an empty object).
    explicit Client(gf_client *handle) noexcept : handle_(handle) {}
    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() = default;

    // -- rate_limit: GET /rate_limit for one token (the default, else the pool's first valid
    //    one); costs no quota.

    /// Rate limits of one token.
    Result<RateLimit> rate_limit() const {
        return call<RateLimit>([&](char **out, gf_error **err) {
            return gf_client_rate_limit(handle_.get(), out, err);
        });
    }
    /// Rate limits of one token, as a future.
    std::future<Result<RateLimit>> rate_limit_async(Request *request = nullptr) const {
        return start_future<RateLimit>(
            request, [&](auto... c) { return gf_client_rate_limit_async(handle_.get(), c...); });
    }
    /// Rate limits of one token, to `on_done(Completion<RateLimit>)`.
    template <class F, detail::IfCallback<F, RateLimit> = 0>
    Request rate_limit_async(F &&on_done) const {
        return start_callback<RateLimit>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_rate_limit_async(handle_.get(), c...);
        });
    }

    // -- refresh_rate_limits: every pooled token's figures from GET /rate_limit, keyed by
    //    fingerprint; no quota used.

    /// Refreshes every pooled token.
    Result<std::map<std::string, TokenRateLimit>> refresh_rate_limits() const {
        return call<std::map<std::string, TokenRateLimit>>([&](char **out, gf_error **err) {
            return gf_client_refresh_rate_limits(handle_.get(), out, err);
        });
    }
    /// Refreshes every pooled token, as a future.
    std::future<Result<std::map<std::string, TokenRateLimit>>>
    refresh_rate_limits_async(Request *request = nullptr) const {
        return start_future<std::map<std::string, TokenRateLimit>>(request, [&](auto... c) {
            return gf_client_refresh_rate_limits_async(handle_.get(), c...);
        });
    }
    /// Refreshes every pooled token, to `on_done`.
    template <class F, detail::IfCallback<F, std::map<std::string, TokenRateLimit>> = 0>
    Request refresh_rate_limits_async(F &&on_done) const {
        return start_callback<std::map<std::string, TokenRateLimit>>(
            std::forward<F>(on_done),
            [&](auto... c) { return gf_client_refresh_rate_limits_async(handle_.get(), c...); });
    }

    // -- authenticated_user: GET /user with the token used.

    /// The account of the token used.
    Result<User> authenticated_user() const {
        return call<User>([&](char **out, gf_error **err) {
            return gf_client_authenticated_user(handle_.get(), out, err);
        });
    }
    /// The account of the token used, as a future.
    std::future<Result<User>> authenticated_user_async(Request *request = nullptr) const {
        return start_future<User>(request, [&](auto... c) {
            return gf_client_authenticated_user_async(handle_.get(), c...);
        });
    }
    /// The account of the token used, to `on_done`.
    template <class F, detail::IfCallback<F, User> = 0>
    Request authenticated_user_async(F &&on_done) const {
        return start_callback<User>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_authenticated_user_async(handle_.get(), c...);
        });
    }

    // -- user: GET /users/{login}.

    /// A user or organisation by login.
    Result<User> user(StringRef login) const {
        return call<User>([&](char **out, gf_error **err) {
            return gf_client_user(handle_.get(), login.c_str(), out, err);
        });
    }
    /// A user or organisation by login, as a future.
    std::future<Result<User>> user_async(StringRef login, Request *request = nullptr) const {
        return start_future<User>(request, [&](auto... c) {
            return gf_client_user_async(handle_.get(), login.c_str(), c...);
        });
    }
    /// A user or organisation by login, to `on_done`.
    template <class F, detail::IfCallback<F, User> = 0>
    Request user_async(StringRef login, F &&on_done) const {
        return start_callback<User>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_user_async(handle_.get(), login.c_str(), c...);
        });
    }

    // -- owner_repositories: every repository of a user or organisation, all pages.

    /// Every repository of `owner`.
    Result<std::vector<Repository>> owner_repositories(StringRef owner) const {
        return call<std::vector<Repository>>([&](char **out, gf_error **err) {
            return gf_client_owner_repositories(handle_.get(), owner.c_str(), out, err);
        });
    }
    /// Every repository of `owner`, as a future.
    std::future<Result<std::vector<Repository>>>
    owner_repositories_async(StringRef owner, Request *request = nullptr) const {
        return start_future<std::vector<Repository>>(request, [&](auto... c) {
            return gf_client_owner_repositories_async(handle_.get(), owner.c_str(), c...);
        });
    }
    /// Every repository of `owner`, to `on_done`.
    template <class F, detail::IfCallback<F, std::vector<Repository>> = 0>
    Request owner_repositories_async(StringRef owner, F &&on_done) const {
        return start_callback<std::vector<Repository>>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_owner_repositories_async(handle_.get(), owner.c_str(), c...);
        });
    }

    // -- repository: GET /repos/{owner}/{repo}.

    /// One repository in full.
    Result<RepositoryDetails> repository(StringRef owner, StringRef repo) const {
        return call<RepositoryDetails>([&](char **out, gf_error **err) {
            return gf_client_repository(handle_.get(), owner.c_str(), repo.c_str(), out, err);
        });
    }
    /// One repository in full, as a future.
    std::future<Result<RepositoryDetails>> repository_async(StringRef owner, StringRef repo,
                                                            Request *request = nullptr) const {
        return start_future<RepositoryDetails>(request, [&](auto... c) {
            return gf_client_repository_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }
    /// One repository in full, to `on_done`.
    template <class F, detail::IfCallback<F, RepositoryDetails> = 0>
    Request repository_async(StringRef owner, StringRef repo, F &&on_done) const {
        return start_callback<RepositoryDetails>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_repository_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }

    // -- contributors: every contributor of a repository, all pages (empty for an empty one).

    /// Every contributor of `owner`/`repo`.
    Result<std::vector<Contributor>> contributors(StringRef owner, StringRef repo) const {
        return call<std::vector<Contributor>>([&](char **out, gf_error **err) {
            return gf_client_contributors(handle_.get(), owner.c_str(), repo.c_str(), out, err);
        });
    }
    /// Every contributor of `owner`/`repo`, as a future.
    std::future<Result<std::vector<Contributor>>>
    contributors_async(StringRef owner, StringRef repo, Request *request = nullptr) const {
        return start_future<std::vector<Contributor>>(request, [&](auto... c) {
            return gf_client_contributors_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }
    /// Every contributor of `owner`/`repo`, to `on_done`.
    template <class F, detail::IfCallback<F, std::vector<Contributor>> = 0>
    Request contributors_async(StringRef owner, StringRef repo, F &&on_done) const {
        return start_callback<std::vector<Contributor>>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_contributors_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }

    // -- branches: every branch of a repository, all pages.

    /// Every branch of `owner`/`repo`.
    Result<std::vector<Branch>> branches(StringRef owner, StringRef repo) const {
        return call<std::vector<Branch>>([&](char **out, gf_error **err) {
            return gf_client_branches(handle_.get(), owner.c_str(), repo.c_str(), out, err);
        });
    }
    /// Every branch of `owner`/`repo`, as a future.
    std::future<Result<std::vector<Branch>>> branches_async(StringRef owner, StringRef repo,
                                                            Request *request = nullptr) const {
        return start_future<std::vector<Branch>>(request, [&](auto... c) {
            return gf_client_branches_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }
    /// Every branch of `owner`/`repo`, to `on_done`.
    template <class F, detail::IfCallback<F, std::vector<Branch>> = 0>
    Request branches_async(StringRef owner, StringRef repo, F &&on_done) const {
        return start_callback<std::vector<Branch>>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_branches_async(handle_.get(), owner.c_str(), repo.c_str(), c...);
        });
    }

    // -- validate_token: checks one token (a secret, not added to the pool) against GET /user;
    //    only a 401 makes it invalid.

    /// Checks `token`.
    Result<TokenValidation> validate_token(StringRef token) const {
        return call<TokenValidation>([&](char **out, gf_error **err) {
            return gf_client_validate_token(handle_.get(), token.c_str(), out, err);
        });
    }
    /// Checks `token`, as a future.
    std::future<Result<TokenValidation>> validate_token_async(StringRef token,
                                                              Request *request = nullptr) const {
        return start_future<TokenValidation>(request, [&](auto... c) {
            return gf_client_validate_token_async(handle_.get(), token.c_str(), c...);
        });
    }
    /// Checks `token`, to `on_done`.
    template <class F, detail::IfCallback<F, TokenValidation> = 0>
    Request validate_token_async(StringRef token, F &&on_done) const {
        return start_callback<TokenValidation>(std::forward<F>(on_done), [&](auto... c) {
            return gf_client_validate_token_async(handle_.get(), token.c_str(), c...);
        });
    }

    // -- validate_pool: checks every pooled token, keyed by fingerprint; refused tokens are
    //    marked invalid in the pool.

    /// Checks every pooled token.
    Result<std::map<std::string, TokenValidation>> validate_pool() const {
        return call<std::map<std::string, TokenValidation>>([&](char **out, gf_error **err) {
            return gf_client_validate_pool(handle_.get(), out, err);
        });
    }
    /// Checks every pooled token, as a future.
    std::future<Result<std::map<std::string, TokenValidation>>>
    validate_pool_async(Request *request = nullptr) const {
        return start_future<std::map<std::string, TokenValidation>>(
            request, [&](auto... c) { return gf_client_validate_pool_async(handle_.get(), c...); });
    }
    /// Checks every pooled token, to `on_done`.
    template <class F, detail::IfCallback<F, std::map<std::string, TokenValidation>> = 0>
    Request validate_pool_async(F &&on_done) const {
        return start_callback<std::map<std::string, TokenValidation>>(
            std::forward<F>(on_done),
            [&](auto... c) { return gf_client_validate_pool_async(handle_.get(), c...); });
    }

    /// True when it holds a handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The handle, still owned by this object (for direct C calls).
    gf_client *get() const noexcept { return handle_.get(); }
    /// Gives up the handle: the caller frees it with gf_client_free.
    gf_client *release() noexcept { return handle_.release(); }

  private:
    // A blocking call: `start(&out, &err)` is the C call.
    template <class T, class Start>
    static Result<T> call(Start &&start) {
        char *json = nullptr;
        detail::ErrorSlot err;
        err.check(start(&json, err.out()));
        const detail::OwnedString owned(json);
        return detail::make_result<T>(owned.get());
    }

    // An async call completing `holder`: `start(callback, user_data, out_request, err)` is
    // the C call. On acceptance the holder belongs to the C callback; on refusal it is still
    // ours and the status is returned.
    template <class Holder, class Start>
    static gf_status launch(std::unique_ptr<Holder> &holder, Start &&start,
                            gf_request **out_request, detail::ErrorSlot &err) {
        holder->publish();
        const gf_status status =
            start(&Holder::trampoline, static_cast<void *>(holder.get()), out_request, err.out());
        if (status == GF_STATUS_OK) {
            (void)holder.release(); // the trampoline frees it, maybe already has
        }
        return status;
    }

    template <class T, class Start>
    static std::future<Result<T>> start_future(Request *request, Start &&start) {
        using Holder = detail::CallbackHolder<T, detail::PromiseSink<T>>;
        auto holder = std::make_unique<Holder>(detail::PromiseSink<T>{});
        std::future<Result<T>> future = holder->callable().promise.get_future();
        gf_request *handle = nullptr;
        detail::ErrorSlot err;
        const gf_status status = launch(holder, start, request != nullptr ? &handle : nullptr, err);
        if (status != GF_STATUS_OK) {
            holder->callable().promise.set_exception(detail::error_ptr(status, err.get()));
        } else if (request != nullptr) {
            *request = Request(handle);
        }
        return future;
    }

    template <class T, class F, class Start>
    static Request start_callback(F &&on_done, Start &&start) {
        using Holder = detail::CallbackHolder<T, std::decay_t<F>>;
        auto holder = std::make_unique<Holder>(std::forward<F>(on_done));
        gf_request *handle = nullptr;
        detail::ErrorSlot err;
        err.check(launch(holder, start, &handle, err));
        return Request(handle);
    }

    std::unique_ptr<gf_client, detail::ClientFree> handle_;
};

/// Stops the library's internal runtime (gf_runtime_shutdown), for a program that wants no
/// library thread left, e.g. before unloading the library or forking. Every async call still
/// pending completes with ShutDownError; then waits up to `timeout` for the library's threads
/// to end. Throws TimeoutError when some are still finishing a request on the wire (call again
/// to wait for them), InvalidArgument from inside a completion. Clients and pools stay
/// valid: the next async call starts a fresh runtime. Thread-safe.
inline void shutdown_runtime(std::chrono::milliseconds timeout) {
    const auto ms = timeout.count() < 0 ? 0 : static_cast<std::uint64_t>(timeout.count());
    detail::ErrorSlot err;
    err.check(gf_runtime_shutdown(ms, err.out()));
}

} // namespace gitfleet

#endif // GITFLEET_HPP
