// Package testport hands tests TCP ports on 127.0.0.1 for processes they
// start (controllers, workers, sshd, MariaDB).
//
// Asking the kernel for port 0 and closing the listener races: until the
// child binds, any outgoing connection on the machine may take that port as
// its ephemeral source port, and under load one does ("address already in
// use"). These ports come from below the kernel's ephemeral range, so no
// outgoing connection takes them, and one test binary never hands out the
// same port twice.
package testport

import (
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
)

// The range handed out: below Linux's default ephemeral range (32768–60999).
const (
	low  = 12000
	high = 32000
)

var (
	mu   sync.Mutex
	next int
)

// Next returns a port no listener holds now and this process has not
// handed out before. Different test binaries start at different offsets.
func Next() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if next == 0 {
		next = low + (os.Getpid()*977)%(high-low)
	}
	for range high - low {
		p := next
		next++
		if next >= high {
			next = low
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return p, nil
	}
	return 0, errors.New("testport: no free port left in the range")
}

// Free is Next for a test: it fails the test when no port is left.
func Free(t testing.TB) int {
	t.Helper()
	p, err := Next()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
