// test_store.cpp — the encrypted credential store through the wrapper: round trip, secrets
// handed back as wiped Secrets, the error classes of its failures, and moves.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "gitfleet.hpp"
#include "test_support.hpp"

using namespace gitfleet;
using gitfleet_test::contains_secret;

namespace {

// The cheapest Argon2id the library accepts: these tests are about the wrapper, not the KDF.
constexpr KdfParams kCheap{19 * 1024, 2, 1};

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
  public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "gitfleet-cpp-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const char *name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

} // namespace

TEST(Store, SavesListsHandsBackAndLoadsTokens) {
    TempDir dir;
    const std::string path = dir.file("tokens.gfs");
    Store store = Store::create(path, "cpp password", kCheap);
    ASSERT_TRUE(store);
    store.save("cpp_store_one");
    store.save("cpp_store_two", Provider::GitHub, "octocat", "ghe.example.com");
    store.save("cpp_store_two", Provider::GitHub, "hubot"); // same token: updated

    const auto listed = store.list();
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_FALSE(contains_secret(listed.json)) << listed.json;
    const StoredCredential &two = listed.value[1];
    EXPECT_EQ(two.fingerprint.size(), 12u);
    EXPECT_EQ(two.provider, Provider::GitHub);
    EXPECT_EQ(two.username, "hubot");
    EXPECT_FALSE(two.host.has_value());
    EXPECT_GT(two.added_at, 1600000000u);

    const Secret secret = store.get_token(two.fingerprint);
    EXPECT_EQ(secret.view(), "cpp_store_two");
    EXPECT_THROW((void)store.get_token("000000000000"), NotFoundError);

    // A second handle on the same file sees the same credentials; load_into fills a pool whose
    // fingerprints are the store's.
    const Store reopened = Store::open(path, "cpp password");
    TokenManager pool;
    EXPECT_EQ(reopened.load_into(pool), 2u);
    const auto snapshot = pool.snapshot();
    ASSERT_EQ(snapshot->size(), 2u);
    EXPECT_EQ(snapshot.value[0].fingerprint, listed.value[0].fingerprint);
    EXPECT_EQ(snapshot.value[1].fingerprint, two.fingerprint);

    // A Secret is a StringRef: it goes into a pool without a copy.
    TokenManager other;
    other.add_token(store.get_token(listed.value[0].fingerprint));
    EXPECT_EQ(other.snapshot().value[0].fingerprint, listed.value[0].fingerprint);

    EXPECT_TRUE(store.remove(two.fingerprint));
    EXPECT_FALSE(store.remove(two.fingerprint));
    EXPECT_EQ(store.list()->size(), 1u);
    store.clear();
    EXPECT_TRUE(store.list()->empty());
}

TEST(Store, FailuresHaveTheirOwnErrorClasses) {
    TempDir dir;
    const std::string path = dir.file("tokens.gfs");
    { Store::create(path, "right", kCheap).save("cpp_store_secret"); }

    try {
        (void)Store::open(path, "wrong");
        FAIL() << "opened with a wrong password";
    } catch (const CryptoError &e) {
        EXPECT_EQ(e.status(), Status::Crypto);
        EXPECT_STREQ(e.status_name(), "GF_STATUS_CRYPTO");
        EXPECT_FALSE(contains_secret(e.what()));
    }
    const std::string foreign = dir.file("foreign.txt");
    std::ofstream(foreign) << "this is not a credential store, just text long enough to read"
                           << std::string(200, 'x');
    EXPECT_THROW((void)Store::open(foreign, "right"), FormatError);
    try {
        (void)Store::open(dir.file("missing.gfs"), "right");
        FAIL() << "opened a missing file";
    } catch (const IoError &e) {
        EXPECT_EQ(e.status(), Status::Io);
    }
    EXPECT_THROW((void)Store::create(path, "again", kCheap), Error); // exists already
    EXPECT_THROW((void)Store::create(dir.file("weak.gfs"), "pw", KdfParams{1, 1, 1}),
                 InvalidArgument);
    EXPECT_THROW((void)Store::open(static_cast<const char *>(nullptr), "pw"), InvalidArgument);
}

TEST(Store, RawKeysAndChangedPasswords) {
    TempDir dir;
    std::uint8_t key[32];
    for (std::size_t i = 0; i < sizeof key; ++i) {
        key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }
    const std::string keyed = dir.file("keyed.gfs");
    Store::create_with_key(keyed, key, sizeof key).save("cpp_store_keyed");
    EXPECT_EQ(Store::open_with_key(keyed, key, sizeof key).list()->size(), 1u);
    EXPECT_THROW((void)Store::open_with_key(keyed, key, 16), InvalidArgument);
    key[0] ^= 1;
    EXPECT_THROW((void)Store::open_with_key(keyed, key, sizeof key), CryptoError);

    const std::string path = dir.file("pw.gfs");
    Store store = Store::create(path, "old", kCheap);
    store.save("cpp_store_pw");
    Store stale = Store::open(path, "old");
    store.change_password("new");
    EXPECT_THROW((void)Store::open(path, "old"), CryptoError);
    EXPECT_EQ(Store::open(path, "new").list()->size(), 1u);
    EXPECT_THROW((void)stale.list(), CryptoError); // other handles must open again
}

TEST(Store, MovesLeaveEmptyObjects) {
    TempDir dir;
    Store store = Store::create(dir.file("m.gfs"), "pw", kCheap);
    store.save("cpp_store_move");
    Store moved = std::move(store);
    EXPECT_FALSE(store); // NOLINT(bugprone-use-after-move)
    EXPECT_THROW((void)store.list(), InvalidArgument);
    const std::string fingerprint = moved.list().value.at(0).fingerprint;

    Secret secret = moved.get_token(fingerprint);
    Secret taken = std::move(secret);
    EXPECT_TRUE(secret.empty()); // NOLINT(bugprone-use-after-move)
    EXPECT_STREQ(secret.c_str(), "");
    EXPECT_EQ(taken.view(), "cpp_store_move");
    taken = moved.get_token(fingerprint); // the old secret is wiped and freed
    EXPECT_FALSE(taken.empty());
    char *raw = taken.release();
    EXPECT_TRUE(taken.empty());
    gf_secret_free(raw);
}
