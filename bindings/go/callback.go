package gitfleet

// The trampoline of every async call. This file's preamble only declares:
// cgo copies it into _cgo_export.h.

/*
#include <stdint.h>
#include <string.h>
#include "gitfleet.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// gitfleetComplete is the callback of every async call this package
// starts (through gfgo_callback in gitfleet_go.h). It runs on a library
// thread, exactly once per accepted call. It only hands the result over:
// it copies the borrowed JSON document or error, deletes the call's handle
// and sends the result on the call's buffered channel, which never blocks.
// No panic may unwind into the library: every step recovers.
//
//export gitfleetComplete
func gitfleetComplete(call C.uintptr_t, status C.gf_status, json *C.char, cerr *C.gf_error) {
	p := claim(cgo.Handle(call))
	if p == nil {
		return
	}
	select {
	case p.done <- settle(status, json, cerr):
	default: // a second result for one call: cannot happen, counted if it does
		counters.strays.Add(1)
	}
}

// claim takes the pending call out of its handle and deletes the handle.
// An unknown handle (a second callback for one call would be one) gives
// nil and is counted, not a panic.
func claim(h cgo.Handle) (p *pending) {
	defer func() {
		if recover() != nil {
			counters.strays.Add(1)
			p = nil
		}
	}()
	p = h.Value().(*pending)
	deleteHandle(h)
	counters.callbacks.Add(1)
	return p
}

// settle copies the outcome of a call out of the library's borrowed
// memory. A panic while copying becomes a StatusInternal error, so that
// the caller still gets its one result.
func settle(status C.gf_status, json *C.char, cerr *C.gf_error) (c completion) {
	defer func() {
		if r := recover(); r != nil {
			c = completion{err: &Error{
				Status:  StatusInternal,
				Message: fmt.Sprintf("gitfleet's Go callback failed: %v", r),
			}}
		}
	}()
	if status != C.GF_STATUS_OK {
		return completion{err: copyError(status, cerr)}
	}
	if json == nil {
		return completion{err: &Error{Status: StatusInternal, Message: "no result document"}}
	}
	return completion{json: C.GoBytes(unsafe.Pointer(json), C.int(C.strlen(json)))}
}
