package gitfleet

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests run against the repository's GitHub API emulator, started as a
// subprocess per test with the tokens and window the test needs.

// defaultEmulator is where `cargo build -p gitfleet-emulator` puts it.
const defaultEmulator = "../../target/debug/gitfleet-emulator"

// emulatorPath is $GITFLEET_EMULATOR_BIN, else the default.
func emulatorPath(tb testing.TB) string {
	path := os.Getenv("GITFLEET_EMULATOR_BIN")
	if path == "" {
		path = defaultEmulator
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		tb.Fatalf("emulator path %q: %v", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		tb.Fatalf("no GitHub API emulator at %s: build it with "+
			"`cargo build -p gitfleet-emulator` at the repository root, or set "+
			"GITFLEET_EMULATOR_BIN to its path (%v)", abs, err)
	}
	return abs
}

// startEmulator runs the emulator with args (e.g. "--token", "a:10") and
// returns its URL. It stops when the test ends, when its stdin closes (the
// test binary died), or after its lifetime at the latest.
func startEmulator(tb testing.TB, args ...string) string {
	tb.Helper()
	args = append([]string{"--port", "0", "--lifetime", "600", "--exit-on-stdin-eof"}, args...)
	cmd := exec.Command(emulatorPath(tb), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting the emulator: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})

	const prefix = "gitfleet-emulator listening on "
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, prefix) {
			tb.Fatalf("the emulator printed %q, not its URL", line)
		}
		return strings.TrimPrefix(line, prefix)
	case <-time.After(20 * time.Second):
		tb.Fatal("the emulator printed no URL within 20 s")
	}
	return ""
}
