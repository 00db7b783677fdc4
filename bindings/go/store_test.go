package gitfleet

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The encrypted credential store, on files in a temporary directory.

// weakKDF keeps the tests fast: the store's default costs 64 MiB and 3
// passes per open.
var weakKDF = WithArgon2Params(19*1024, 2, 1)

func TestStoreRoundTrip(t *testing.T) {
	before := currentLiveCounts()
	path := filepath.Join(t.TempDir(), "tokens.gfs")
	store, err := CreateStore(path, "pw-one", weakKDF)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	err = store.Save(ProviderGitHub, "tok_stored_a", "alice", "github.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ProviderGitLab, "tok_stored_b", "", ""); err != nil {
		t.Fatal(err)
	}
	list, err := store.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v; want 2 credentials", list, err)
	}
	byFingerprint := map[string]StoredCredential{}
	for _, c := range list {
		byFingerprint[c.Fingerprint] = c
	}
	a := byFingerprint[Fingerprint("tok_stored_a")]
	if a.Provider != ProviderGitHub || a.Username != "alice" || a.Host != "github.example.com" ||
		a.AddedTime().Before(start) {
		t.Fatalf("stored credential %+v", a)
	}
	if b := byFingerprint[Fingerprint("tok_stored_b")]; b.Provider != ProviderGitLab {
		t.Fatalf("stored credential %+v", b)
	}
	if token, err := store.Token(a.Fingerprint); err != nil || token != "tok_stored_a" {
		t.Fatalf("Token = %q, %v", token, err)
	}
	_, err = store.Token("000000000000")
	wantStatus(t, err, StatusNotFound, ErrNotFound)
	if removed, err := store.Remove(Fingerprint("tok_stored_b")); err != nil || !removed {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	if removed, _ := store.Remove(Fingerprint("tok_stored_b")); removed {
		t.Fatal("a second Remove removed something")
	}
	store.Close()
	store.Close()
	_, err = store.List()
	wantStatus(t, err, StatusShutDown, ErrClosed)

	// Another handle on the file: wrong password, then the right one.
	_, err = OpenStore(path, "pw-wrong")
	wantStatus(t, err, StatusCrypto, ErrCrypto)
	store, err = OpenStore(path, "pw-one")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pool := newPool(t)
	if n, err := store.LoadInto(pool); err != nil || n != 1 {
		t.Fatalf("LoadInto = %d, %v; want 1", n, err)
	}
	if _, ok := snapshotByFingerprint(t, pool)[Fingerprint("tok_stored_a")]; !ok {
		t.Fatal("the stored token is not in the pool")
	}

	if err := store.ChangePassword("pw-two"); err != nil {
		t.Fatal(err)
	}
	_, err = OpenStore(path, "pw-one")
	wantStatus(t, err, StatusCrypto, ErrCrypto)
	again, err := OpenStore(path, "pw-two")
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Clear(); err != nil {
		t.Fatal(err)
	}
	if list, err := again.List(); err != nil || len(list) != 0 {
		t.Fatalf("List after Clear = %+v, %v", list, err)
	}
	again.Close()
	store.Close()
	if after := currentLiveCounts(); after.Stores != before.Stores {
		t.Fatalf("%d stores live, %d before", after.Stores, before.Stores)
	}
}

func TestStoreWithKeyAndFailures(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	path := filepath.Join(dir, "keyed.gfs")
	store, err := CreateStoreWithKey(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ProviderGitHub, "tok_keyed", "", ""); err != nil {
		t.Fatal(err)
	}
	store.Close()
	_, err = OpenStoreWithKey(path, bytes.Repeat([]byte{8}, 32))
	wantStatus(t, err, StatusCrypto, ErrCrypto)
	store, err = OpenStoreWithKey(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if token, err := store.Token(Fingerprint("tok_keyed")); err != nil || token != "tok_keyed" {
		t.Fatalf("Token = %q, %v", token, err)
	}

	_, err = OpenStoreWithKey(path, key[:31])
	wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
	_, err = CreateStore(path, "pw", weakKDF) // exists already
	if err == nil {
		t.Fatal("CreateStore overwrote an existing store")
	}
	_, err = CreateStore(filepath.Join(dir, "weak.gfs"), "pw", WithArgon2Params(1, 0, 1))
	wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
	_, err = OpenStore(filepath.Join(dir, "missing.gfs"), "pw")
	wantStatus(t, err, StatusIO, ErrIO)
	notAStore := filepath.Join(dir, "not-a-store")
	if err := os.WriteFile(notAStore, bytes.Repeat([]byte("x"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = OpenStore(notAStore, "pw")
	wantStatus(t, err, StatusFormat, ErrFormat)
	wantStatus(t, store.Save(ProviderGitHub, "zz secret", "", ""), StatusInvalidArgument,
		ErrInvalidArgument)

	closedPool, _ := NewTokenManager()
	closedPool.Close()
	_, err = store.LoadInto(closedPool)
	wantStatus(t, err, StatusShutDown, ErrClosed)
}

func TestStoreDefaultKDF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.gfs")
	store, err := CreateStore(path, "pw")
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	store, err = OpenStore(path, "pw")
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
}
