package gitfleet

import (
	"runtime/cgo"
	"sync/atomic"
)

// counters tracks what this package holds of the C library and of the
// runtime, so that tests can check that nothing leaks and that every call
// is completed exactly once. Atomic adds: a few nanoseconds a call.
var counters struct {
	handles   atomic.Int64 // cgo.Handles not yet deleted
	requests  atomic.Int64 // gf_request handles not yet freed
	clients   atomic.Int64 // gf_client not yet freed
	managers  atomic.Int64 // gf_token_manager not yet freed
	leases    atomic.Int64 // gf_lease not yet freed
	stores    atomic.Int64 // gf_store not yet freed
	started   atomic.Int64 // async calls the library accepted
	callbacks atomic.Int64 // callbacks received for them
	strays    atomic.Int64 // callbacks for an unknown handle, or undeliverable
}

// newHandle makes the cgo.Handle that travels as a call's user data.
func newHandle(p *pending) cgo.Handle {
	counters.handles.Add(1)
	return cgo.NewHandle(p)
}

// deleteHandle deletes a handle made by newHandle (exactly once).
func deleteHandle(h cgo.Handle) {
	h.Delete()
	counters.handles.Add(-1)
}

// liveCounts is what the package holds now, for tests.
type liveCounts struct {
	Handles, Requests, Clients, Managers, Leases, Stores int64
}

func currentLiveCounts() liveCounts {
	return liveCounts{
		Handles:  counters.handles.Load(),
		Requests: counters.requests.Load(),
		Clients:  counters.clients.Load(),
		Managers: counters.managers.Load(),
		Leases:   counters.leases.Load(),
		Stores:   counters.stores.Load(),
	}
}
