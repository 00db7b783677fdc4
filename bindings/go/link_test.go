package gitfleet

import (
	"debug/elf"
	"os"
	"strings"
	"testing"
)

// The package links libgitfleet.a statically: the test binary carries the
// C API itself and needs no libgitfleet.so at run time.
func TestLinkedStatically(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Skipf("not an ELF binary (%v): the link line is for Linux", err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range libs {
		if strings.Contains(lib, "gitfleet") {
			t.Fatalf("the binary needs %s at run time: not linked statically", lib)
		}
	}
	if Version() == "" {
		t.Fatal("the linked library has no version")
	}
	t.Logf("run-time libraries: %v", libs)
}
