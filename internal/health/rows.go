package health

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// Liveness is what a registry row really says about its instance. The
// `healthy` column alone cannot be trusted: a controller's checker thread dies
// on its first database error and never clears it again, so the heartbeat's
// age decides.
type Liveness string

const (
	// Live: healthy and the last heartbeat is within the heartbeat timeout.
	Live Liveness = "live"
	// Unhealthy: the heartbeat is recent but the row is marked unhealthy
	// (deregistered, or marked by a checker).
	Unhealthy Liveness = "unhealthy"
	// Stale: no heartbeat within the timeout (or none at all), whatever the
	// healthy column says.
	Stale Liveness = "stale"
)

// Row is one registry row judged.
type Row struct {
	dbgpt.Instance
	// Age of the last heartbeat; negative when the row has none.
	Age      time.Duration
	Liveness Liveness
	// Duplicate: the same model_name, host and port appear more than once
	// (sys_code is always NULL, so the unique key does not prevent it).
	Duplicate bool
	// StaleRegistration: no worker of the cluster file lives at the row's
	// host and port.
	StaleRegistration bool
	// Future: the last heartbeat lies more than FutureSlack after the
	// controller's clock. Heartbeats cannot come from the future: the
	// controller's host is not in the zone hactl read the time in (a host
	// east of UTC), so the age is unknown and only the healthy column
	// decides (Age is then 0).
	Future bool
}

// FutureSlack is how far a last heartbeat may lie ahead of the controller's
// clock (truncation, clock resolution) before the zone is suspect.
const FutureSlack = 2 * time.Minute

// Live reports whether the row counts as a serving instance.
func (r Row) Live() bool {
	return r.Liveness == Live && !r.StaleRegistration
}

// State is the one word shown for the row: "live", "unhealthy", "stale" or
// "stale registration", with ", duplicate" appended for duplicates.
func (r Row) State() string {
	s := string(r.Liveness)
	if r.StaleRegistration {
		s = "stale registration"
	}
	if r.Duplicate {
		s += ", duplicate"
	}
	return s
}

// Key identifies a registry entry: model_name, host, port.
func Key(i dbgpt.Instance) string {
	return i.ModelName + "|" + net.JoinHostPort(i.Host, strconv.Itoa(i.Port))
}

// JudgeRows applies the liveness rules to rows as one controller (or the
// database) listed them. now is the controller host's clock; hbTime converts
// a last_heartbeat to an instant (Client.HeartbeatTime; nil = WallUTC).
// declared, when not nil, holds the "address:port" endpoints where the
// cluster file puts a worker; rows elsewhere are stale registrations.
func JudgeRows(rows []dbgpt.Instance, now time.Time, timeout time.Duration, hbTime func(time.Time) time.Time, declared map[string]bool) []Row {
	if hbTime == nil {
		hbTime = WallUTC
	}
	count := map[string]int{}
	for _, i := range rows {
		count[Key(i)]++
	}
	out := make([]Row, 0, len(rows))
	for _, i := range rows {
		r := Row{Instance: i, Age: -1}
		if i.LastHeartbeat != nil && !i.LastHeartbeat.IsZero() {
			r.Age = now.Sub(hbTime(i.LastHeartbeat.Time))
			r.Future = r.Age < -FutureSlack
			if r.Age < 0 {
				r.Age = 0 // truncation and clock resolution
			}
		}
		switch {
		case r.Future:
			// The age cannot be known: fall back to the healthy column.
			r.Liveness = Unhealthy
			if i.Healthy {
				r.Liveness = Live
			}
		case r.Age < 0 || r.Age > timeout:
			r.Liveness = Stale
		case !i.Healthy:
			r.Liveness = Unhealthy
		default:
			r.Liveness = Live
		}
		r.Duplicate = count[Key(i)] > 1
		if declared != nil && !declared[net.JoinHostPort(i.Host, strconv.Itoa(i.Port))] {
			r.StaleRegistration = true
		}
		out = append(out, r)
	}
	return out
}

// DeclaredWorkerEndpoints returns "address:port" of every worker in c.
func DeclaredWorkerEndpoints(c *schema.Cluster) map[string]bool {
	m := map[string]bool{}
	for _, w := range c.Workers {
		m[WorkerEndpoint(w)] = true
	}
	return m
}

// WorkerEndpoint is the address and port a worker registers at.
func WorkerEndpoint(w *schema.Worker) string {
	return net.JoinHostPort(w.Server.Address, strconv.Itoa(w.Port))
}

// WorkerRowsProblem says what is wrong with a worker's two rows in rows
// (judged through one controller), or returns nil when both have a live row.
func WorkerRowsProblem(rows []Row, w *schema.Worker, timeout time.Duration) error {
	for _, name := range []string{w.RegistryModelName(), dbgpt.WorkerManagerModelName} {
		var found []Row
		for _, r := range rows {
			if r.ModelName == name && r.Host == w.Server.Address && r.Port == w.Port {
				found = append(found, r)
			}
		}
		if len(found) == 0 {
			return fmt.Errorf("%s at %s: %w", name, WorkerEndpoint(w), ErrNotRegistered)
		}
		live := false
		for _, r := range found {
			if r.Liveness == Live {
				live = true
			}
		}
		if live {
			continue
		}
		r := found[0]
		switch r.Liveness {
		case Stale:
			if r.Age < 0 {
				return fmt.Errorf("%s at %s: %w", name, WorkerEndpoint(w), ErrNoHeartbeatYet)
			}
			return fmt.Errorf("%s at %s: stale: last heartbeat %s ago (timeout %s)", name, WorkerEndpoint(w), r.Age.Round(time.Second), timeout)
		default:
			return fmt.Errorf("%s at %s: marked unhealthy (last heartbeat %s ago)", name, WorkerEndpoint(w), r.Age.Round(time.Second))
		}
	}
	return nil
}
