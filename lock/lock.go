package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"syscall"
	"time"
)

// Info is what a lock says about the run holding it.
type Info struct {
	ID        string `json:"id"`
	Cluster   string `json:"cluster"`
	Operation string `json:"operation"` // apply, destroy, drill
	User      string `json:"user"`      // who ran hactl, on Host
	Host      string `json:"host"`      // the machine hactl ran on
	// Machine and Boot identify that machine (/etc/machine-id) and its boot
	// (the kernel's boot_id) beyond its host name, which two machines may
	// share; empty where unknown.
	Machine string    `json:"machine,omitempty"`
	Boot    string    `json:"boot,omitempty"`
	PID     int       `json:"pid"`
	Command string    `json:"command"` // hactl's command line
	Started time.Time `json:"started"`
}

// NewInfo describes this process taking the lock of cluster for operation.
func NewInfo(cluster, operation string) Info {
	var b [8]byte
	_, _ = rand.Read(b[:])
	who := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
	}
	hostname, _ := os.Hostname()
	return Info{
		ID: hex.EncodeToString(b[:]), Cluster: cluster, Operation: operation,
		User: who, Host: hostname, Machine: machineID(), Boot: bootID(), PID: os.Getpid(),
		Command: strings.Join(os.Args, " "), Started: time.Now().UTC().Truncate(time.Second),
	}
}

// String is one line for people: "apply by alice@laptop since
// 2026-12-07 10:02:03 UTC (pid 1234, lock ID 0a1b…)".
func (i Info) String() string {
	op := i.Operation
	if op == "" {
		op = "a change"
	}
	return fmt.Sprintf("%s by %s@%s since %s (pid %d, lock ID %s)",
		op, i.User, i.Host, i.Started.UTC().Format("2006-01-02 15:04:05 UTC"), i.PID, i.ID)
}

// Dead reports whether the holder is known to be gone: it ran on this
// machine (same host name and machine id) and the machine has rebooted
// since, or its process no longer exists. A holder on another machine, or
// on one whose machine id is unknown, is never known dead.
func (i Info) Dead() bool {
	hostname, err := os.Hostname()
	if err != nil || hostname != i.Host || i.PID <= 0 || i.Machine == "" || i.Machine != machineID() {
		return false
	}
	if b := bootID(); i.Boot != "" && b != "" && b != i.Boot {
		return true
	}
	err = syscall.Kill(i.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}

func machineID() string { return readID("/etc/machine-id") }
func bootID() string    { return readID("/proc/sys/kernel/random/boot_id") }

func readID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 128 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Encode is the lock's stored form.
func (i Info) Encode() []byte {
	b, _ := json.Marshal(i)
	return append(b, '\n')
}

// Decode reads a stored lock.
func Decode(b []byte) (*Info, error) {
	var i Info
	if err := json.Unmarshal(b, &i); err != nil {
		return nil, fmt.Errorf("the lock is not valid JSON: %w", err)
	}
	if i.ID == "" {
		return nil, errors.New("the lock has no id")
	}
	return &i, nil
}

// Store is where one cluster's lock is kept. Providers implement it; each
// method must be atomic on its own.
type Store interface {
	// Where names the lock's place for messages ("server s1: /opt/…").
	Where() string
	// Create stores info unless a lock exists; then it returns that
	// lock's holder and changes nothing.
	Create(ctx context.Context, info Info) (holder *Info, err error)
	// Read returns the holder, nil when there is no lock.
	Read(ctx context.Context) (*Info, error)
	// Delete removes the lock when its id is id (not someone else's lock
	// taken since); no lock is not an error.
	Delete(ctx context.Context, id string) error
}

// HeldError is returned when another run holds the lock.
type HeldError struct {
	Holder Info
	Where  string
}

func (e *HeldError) Error() string {
	msg := fmt.Sprintf("cluster %q is locked: %s is in progress (lock at %s)", e.Holder.Cluster, e.Holder, e.Where)
	if e.Holder.Dead() {
		return msg + fmt.Sprintf("; that run is gone (no process %d on this machine): if nothing else is changing the cluster, run 'hactl force-unlock %s'", e.Holder.PID, e.Holder.ID)
	}
	return msg + fmt.Sprintf("; wait for it to finish (if it is certainly gone, 'hactl force-unlock %s' breaks the lock)", e.Holder.ID)
}

// ReleaseTimeout bounds releasing a lock; it is done with a context of its
// own, so a cancelled run (Ctrl-C) still releases.
const ReleaseTimeout = 30 * time.Second

// Acquire takes the lock for info, or returns a *HeldError naming the
// holder. release removes it (only if it is still ours) with a fresh
// context, so it works after ctx was cancelled.
func Acquire(ctx context.Context, st Store, info Info) (release func() error, err error) {
	holder, err := st.Create(ctx, info)
	if err != nil {
		return nil, fmt.Errorf("taking the cluster lock at %s: %w", st.Where(), err)
	}
	if holder != nil {
		return nil, &HeldError{Holder: *holder, Where: st.Where()}
	}
	return func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReleaseTimeout)
		defer cancel()
		if err := st.Delete(rctx, info.ID); err != nil {
			return fmt.Errorf("releasing the cluster lock at %s (ID %s): %w", st.Where(), info.ID, err)
		}
		return nil
	}, nil
}

// Take is Acquire, except that a lock whose holder is certainly gone (see
// Dead: a run on this machine that was killed, or whose link to the lock's
// server was cut so it could not release) is broken first. broken is that
// holder, for a notice; a live holder, or one on another machine, is a
// *HeldError as with Acquire.
func Take(ctx context.Context, st Store, info Info) (release func() error, broken *Info, err error) {
	release, err = Acquire(ctx, st, info)
	var he *HeldError
	if !errors.As(err, &he) || !he.Holder.Dead() {
		return release, nil, err
	}
	if err := st.Delete(ctx, he.Holder.ID); err != nil {
		return nil, nil, fmt.Errorf("breaking the lock of a run that is gone (%s) at %s: %w", he.Holder, st.Where(), err)
	}
	release, err = Acquire(ctx, st, info)
	if err != nil {
		return nil, nil, err
	}
	return release, &he.Holder, nil
}

// ErrNotLocked is returned by ForceUnlock when there is no lock.
var ErrNotLocked = errors.New("the cluster is not locked")

// ForceUnlock removes the lock when its id is id, and returns what it said.
func ForceUnlock(ctx context.Context, st Store, id string) (Info, error) {
	holder, err := st.Read(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("reading the cluster lock at %s: %w", st.Where(), err)
	}
	if holder == nil {
		return Info{}, ErrNotLocked
	}
	if holder.ID != id {
		return *holder, fmt.Errorf("the lock at %s has ID %s, not %s: it is held by %s", st.Where(), holder.ID, id, holder)
	}
	if err := st.Delete(ctx, id); err != nil {
		return *holder, fmt.Errorf("removing the cluster lock at %s: %w", st.Where(), err)
	}
	return *holder, nil
}
