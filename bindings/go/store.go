package gitfleet

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Store is an encrypted credential store: a file of tokens, encrypted
// with a key derived from a password (Argon2id) or with a raw 32-byte
// key. Programs save their tokens once and later fill a pool from the
// store instead of the environment. It is safe for concurrent use, and
// several stores (in one process or many) may share a file: every change
// is made under a file lock. Close it when done; its key is then wiped.
//
// Its methods work on a local file (Argon2id makes opening one take a
// noticeable fraction of a second) and cannot be cancelled: the C API has
// no async form for them, so they take no context.
type Store struct {
	mu      sync.RWMutex // read-held by calls, write-held by Close
	ptr     *C.gf_store
	cleanup runtime.Cleanup
}

// StoredCredential is what [Store.List] shows of a stored token:
// everything but the token.
type StoredCredential struct {
	// Fingerprint names the token (see [Fingerprint]).
	Fingerprint string `json:"fingerprint"`
	// Provider is the token's provider.
	Provider Provider `json:"provider"`
	// Username is the one saved with the token.
	Username string `json:"username"`
	// Host is the one saved with the token (e.g. a GitHub Enterprise host).
	Host string `json:"host"`
	// AddedAt is when the token was first saved, Unix seconds.
	AddedAt int64 `json:"added_at"`
}

// AddedTime is AddedAt as a time.Time.
func (c StoredCredential) AddedTime() time.Time { return time.Unix(c.AddedAt, 0) }

// StoreOption configures a store made by [CreateStore].
type StoreOption func(*storeSettings)

type storeSettings struct {
	params                       bool
	memoryKiB, iterations, lanes uint32
}

// WithArgon2Params sets the key derivation's parameters (memory in KiB,
// passes, lanes) instead of the default (64 MiB, 3 passes, 1 lane);
// parameters too weak or too large are refused.
func WithArgon2Params(memoryKiB, iterations, lanes uint32) StoreOption {
	return func(s *storeSettings) {
		s.params, s.memoryKiB, s.iterations, s.lanes = true, memoryKiB, iterations, lanes
	}
}

// CreateStore creates an empty store at path (which must not exist),
// encrypted with a key derived from password.
func CreateStore(path, password string, opts ...StoreOption) (*Store, error) {
	var settings storeSettings
	for _, opt := range opts {
		if opt != nil {
			opt(&settings)
		}
	}
	return withPassword(path, password, func(p, pw *C.char, out **C.gf_store,
		cerr **C.gf_error) C.gf_status {
		if settings.params {
			return C.gf_store_create_with_params(p, pw, C.uint32_t(settings.memoryKiB),
				C.uint32_t(settings.iterations), C.uint32_t(settings.lanes), out, cerr)
		}
		return C.gf_store_create(p, pw, out, cerr)
	})
}

// OpenStore opens the store at path with its password. A wrong password
// or a changed file gives an error matching [ErrCrypto]; a file that is
// not a store [ErrFormat]; a missing or unreadable file [ErrIO].
func OpenStore(path, password string) (*Store, error) {
	return withPassword(path, password, func(p, pw *C.char, out **C.gf_store,
		cerr **C.gf_error) C.gf_status {
		return C.gf_store_open(p, pw, out, cerr)
	})
}

// CreateStoreWithKey creates an empty store at path (which must not
// exist), encrypted with a raw 32-byte key.
func CreateStoreWithKey(path string, key []byte) (*Store, error) {
	return withKey(path, key, func(p *C.char, k *C.uint8_t, n C.size_t, out **C.gf_store,
		cerr **C.gf_error) C.gf_status {
		return C.gf_store_create_with_key(p, k, n, out, cerr)
	})
}

// OpenStoreWithKey opens the store at path with its raw 32-byte key.
func OpenStoreWithKey(path string, key []byte) (*Store, error) {
	return withKey(path, key, func(p *C.char, k *C.uint8_t, n C.size_t, out **C.gf_store,
		cerr **C.gf_error) C.gf_status {
		return C.gf_store_open_with_key(p, k, n, out, cerr)
	})
}

// withPassword makes a store with a C call taking the path and password.
func withPassword(path, password string,
	call func(p, pw *C.char, out **C.gf_store, cerr **C.gf_error) C.gf_status) (*Store, error) {
	cpath, err := cString(path, "the path")
	if err != nil {
		return nil, err
	}
	defer freeCString(cpath)
	cpassword, err := cString(password, "the password")
	if err != nil {
		return nil, err
	}
	defer freeCString(cpassword) // wiped
	var out *C.gf_store
	var cerr *C.gf_error
	if err := takeError(call(cpath, cpassword, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newStore(out), nil
}

// withKey makes a store with a C call taking the path and a raw key.
func withKey(path string, key []byte, call func(p *C.char, k *C.uint8_t, n C.size_t,
	out **C.gf_store, cerr **C.gf_error) C.gf_status) (*Store, error) {
	cpath, err := cString(path, "the path")
	if err != nil {
		return nil, err
	}
	defer freeCString(cpath)
	var keyPtr *C.uint8_t
	if len(key) > 0 {
		keyPtr = (*C.uint8_t)(unsafe.Pointer(&key[0])) // copied before the call returns
	}
	var out *C.gf_store
	var cerr *C.gf_error
	status := call(cpath, keyPtr, C.size_t(len(key)), &out, &cerr)
	runtime.KeepAlive(key)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return newStore(out), nil
}

func newStore(ptr *C.gf_store) *Store {
	s := &Store{ptr: ptr}
	counters.stores.Add(1)
	s.cleanup = runtime.AddCleanup(s, freeStore, ptr)
	return s
}

func freeStore(ptr *C.gf_store) {
	C.gf_store_free(ptr)
	counters.stores.Add(-1)
}

// Close frees the store handle (the file stays) and wipes its key. Close
// is idempotent and always returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		s.cleanup.Stop()
		freeStore(s.ptr)
		s.ptr = nil
	}
	return nil
}

// String names the type; a store shows no token and no key.
func (s *Store) String() string { return "gitfleet.Store" }

// GoString is String.
func (s *Store) GoString() string { return s.String() }

// do runs one C call on the live store, under the read lock Close waits
// for, and turns its status into an error.
func (s *Store) do(call func(*C.gf_store, **C.gf_error) C.gf_status) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		return closedError("the store")
	}
	var cerr *C.gf_error
	status := call(s.ptr, &cerr)
	runtime.KeepAlive(s)
	return takeError(status, cerr)
}

// Save stores a token of provider, with an optional username and host
// ("" for none). Saving a token already stored for the provider updates
// its username and host.
func (s *Store) Save(provider Provider, token, username, host string) error {
	ctoken, err := cString(token, "the token")
	if err != nil {
		return err
	}
	defer freeCString(ctoken)
	cusername, err := optionalCString(username, "the username")
	if err != nil {
		return err
	}
	defer freeCString(cusername)
	chost, err := optionalCString(host, "the host")
	if err != nil {
		return err
	}
	defer freeCString(chost)
	return s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_save(p, C.int32_t(provider), ctoken, cusername, chost, cerr)
	})
}

// ListJSON is every stored credential as the library's JSON document,
// never a token.
func (s *Store) ListJSON() ([]byte, error) {
	var out *C.char
	err := s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_list_json(p, &out, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.gf_string_free(out)
	return []byte(C.GoString(out)), nil
}

// List is every stored credential, never a token.
func (s *Store) List() ([]StoredCredential, error) {
	doc, err := s.ListJSON()
	if err != nil {
		return nil, err
	}
	credentials := []StoredCredential{}
	if err := json.Unmarshal(doc, &credentials); err != nil {
		return nil, decodeError(err)
	}
	return credentials, nil
}

// Token is the stored token with this fingerprint; an error matching
// [ErrNotFound] when there is none. The library's copy is wiped; the
// returned Go string cannot be.
func (s *Store) Token(fingerprint string) (string, error) {
	cfingerprint, err := cString(fingerprint, "the fingerprint")
	if err != nil {
		return "", err
	}
	defer freeCString(cfingerprint)
	var out *C.char
	err = s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_get_token(p, cfingerprint, &out, cerr)
	})
	if err != nil {
		return "", err
	}
	defer C.gf_secret_free(out)
	return C.GoString(out), nil
}

// Remove removes the credential with this fingerprint; removed says
// whether there was one.
func (s *Store) Remove(fingerprint string) (removed bool, err error) {
	cfingerprint, err := cString(fingerprint, "the fingerprint")
	if err != nil {
		return false, err
	}
	defer freeCString(cfingerprint)
	var out C.bool
	err = s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_remove(p, cfingerprint, &out, cerr)
	})
	return bool(out), err
}

// Clear removes every credential.
func (s *Store) Clear() error {
	return s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_clear(p, cerr)
	})
}

// ChangePassword re-encrypts the store under newPassword (a new salt, the
// default Argon2id parameters). Other handles on the same file must be
// opened again afterwards (they fail with [ErrCrypto] until then).
func (s *Store) ChangePassword(newPassword string) error {
	cpassword, err := cString(newPassword, "the password")
	if err != nil {
		return err
	}
	defer freeCString(cpassword)
	return s.do(func(p *C.gf_store, cerr **C.gf_error) C.gf_status {
		return C.gf_store_change_password(p, cpassword, cerr)
	})
}

// LoadInto adds every stored token to the pool m and returns how many
// there were.
func (s *Store) LoadInto(m *TokenManager) (int, error) {
	if m == nil {
		return 0, invalidArgument("the token manager is nil")
	}
	var count C.size_t
	var loadErr error // the pool's lock is taken inside the store's
	err := s.do(func(p *C.gf_store, _ **C.gf_error) C.gf_status {
		loadErr = m.do(func(mp *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
			return C.gf_store_load_into(p, mp, &count, cerr)
		})
		return C.GF_STATUS_OK
	})
	if err == nil {
		err = loadErr
	}
	return int(count), err
}
