package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestAcquireOneAtATime(t *testing.T) {
	st := FileStore{Path: filepath.Join(t.TempDir(), "work", "lock.json")}
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []func() error
	var held []*HeldError
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info := NewInfo("c1", "apply")
			info.ID += string(rune('a' + i))
			rel, err := Acquire(ctx, st, info)
			mu.Lock()
			defer mu.Unlock()
			var he *HeldError
			switch {
			case err == nil:
				won = append(won, rel)
			case errors.As(err, &he):
				held = append(held, he)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || len(held) != n-1 {
		t.Fatalf("%d took the lock, %d were refused; want 1 and %d", len(won), len(held), n-1)
	}
	msg := held[0].Error()
	for _, want := range []string{`cluster "c1" is locked: apply by `, "(pid ", "lock ID ", st.Path, "wait for it to finish"} {
		if !strings.Contains(msg, want) {
			t.Errorf("held message lacks %q: %s", want, msg)
		}
	}
	if err := won[0](); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.Path); !os.IsNotExist(err) {
		t.Fatalf("lock left after release: %v", err)
	}
}

// A lock of a process that is gone, on this machine, is said to be stale;
// force-unlock needs its ID; release after Ctrl-C (a cancelled context)
// still releases.
func TestStaleForceUnlockAndCancelledRelease(t *testing.T) {
	st := FileStore{Path: filepath.Join(t.TempDir(), "lock.json")}
	ctx := context.Background()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := NewInfo("c1", "destroy")
	dead.PID = cmd.Process.Pid
	if _, err := Acquire(ctx, st, dead); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(ctx, st, NewInfo("c1", "apply"))
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.ID != dead.ID || !strings.Contains(err.Error(), "that run is gone") ||
		!strings.Contains(err.Error(), "hactl force-unlock "+dead.ID) {
		t.Fatalf("stale lock: %v", err)
	}
	if _, err := ForceUnlock(ctx, st, "nope"); err == nil || !strings.Contains(err.Error(), "has ID "+dead.ID) {
		t.Fatalf("force-unlock with a wrong ID: %v", err)
	}
	if got, err := ForceUnlock(ctx, st, dead.ID); err != nil || got.ID != dead.ID {
		t.Fatalf("force-unlock: %+v %v", got, err)
	}
	if _, err := ForceUnlock(ctx, st, dead.ID); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("force-unlock of nothing: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	mine := NewInfo("c1", "apply")
	rel, err := Acquire(cctx, st, mine)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := st.Read(ctx); h == nil || h.Dead() {
		t.Fatalf("own lock %+v read back as dead or missing", h)
	}
	cancel()
	if err := rel(); err != nil {
		t.Fatal(err)
	}
	if h, err := st.Read(ctx); h != nil || err != nil {
		t.Fatalf("after release: %+v %v", h, err)
	}
	// Release removes only its own lock.
	other := NewInfo("c1", "apply")
	if _, err := Acquire(ctx, st, other); err != nil {
		t.Fatal(err)
	}
	if err := rel(); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.Read(ctx); h == nil || h.ID != other.ID {
		t.Fatalf("a late release removed another run's lock: %+v", h)
	}
}

// Take breaks the lock of a run that is certainly gone (this machine, its
// process gone; or this machine rebooted since) and says whose it was; a
// run on another machine, or one whose machine is unknown, is never broken.
func TestTakeBreaksOnlyADeadRunsLock(t *testing.T) {
	if machineID() == "" {
		t.Skip("no /etc/machine-id: no run is ever judged gone here")
	}
	ctx := context.Background()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		holder func(*Info)
		broken bool
	}{
		{"process gone", func(i *Info) { i.PID = gone.Process.Pid }, true},
		{"rebooted since", func(i *Info) { i.Boot = "an-earlier-boot" }, true},
		{"alive", func(*Info) {}, false},
		{"another machine, same name", func(i *Info) { i.PID, i.Machine = gone.Process.Pid, "another-machine" }, false},
		{"machine unknown", func(i *Info) { i.PID, i.Machine = gone.Process.Pid, "" }, false},
		{"another host", func(i *Info) { i.PID, i.Host = gone.Process.Pid, "elsewhere" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := FileStore{Path: filepath.Join(t.TempDir(), "lock.json")}
			old := NewInfo("c1", "destroy")
			tc.holder(&old)
			if _, err := Acquire(ctx, st, old); err != nil {
				t.Fatal(err)
			}
			rel, broken, err := Take(ctx, st, NewInfo("c1", "apply"))
			if !tc.broken {
				var he *HeldError
				if !errors.As(err, &he) || he.Holder.ID != old.ID || broken != nil {
					t.Fatalf("Take over a live or unknown holder: broken %v, err %v", broken, err)
				}
				return
			}
			if err != nil || broken == nil || broken.ID != old.ID {
				t.Fatalf("Take over a dead holder: broken %v, err %v", broken, err)
			}
			if h, _ := st.Read(ctx); h == nil || h.ID == old.ID || h.Operation != "apply" {
				t.Fatalf("after Take the lock is %+v", h)
			}
			if err := rel(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
