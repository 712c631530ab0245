package testport

import (
	"net"
	"strconv"
	"testing"
)

func TestPortsAreDistinctAndFree(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := Free(t)
		if p < low || p >= high {
			t.Fatalf("port %d outside [%d, %d)", p, low, high)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		_ = l.Close()
	}
}

func TestSkipsPortsInUse(t *testing.T) {
	p := Free(t)
	// Hold the next port in line: Free must pass over it.
	mu.Lock()
	held := next
	mu.Unlock()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(held))
	if err != nil {
		t.Skipf("port %d already taken by someone else: %v", held, err)
	}
	defer l.Close()
	if q := Free(t); q == held || q == p {
		t.Fatalf("got %d, which is held or was handed out before", q)
	}
}
