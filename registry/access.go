package registry

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/hactl/hactl/plan"
)

// Access is how a provider reaches the registry database of one cluster.
type Access interface {
	// Places are where a MySQL registry is reached from, in the order they
	// are tried (ssh: each controller's host; compose: its network).
	Places() []Place
	// SQLiteFile is where an SQLite registry lives, or why this provider
	// has none.
	SQLiteFile() (File, error)
}

// Place is somewhere MySQL is dialled from. A providers/host.Host is one.
type Place interface {
	// Name is for messages: "from <Name>".
	Name() string
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// File is an SQLite registry file where it lives.
type File interface {
	// Server names where the file is, for messages: "on <Server>".
	Server() string
	// Exists reports whether the file exists.
	Exists(ctx context.Context) (bool, error)
	// Local returns a path on this machine that holds the database: the
	// file itself (inPlace) or a copy of it and its WAL (a path to a new
	// file when it does not exist). done releases the copy.
	Local(ctx context.Context) (path string, inPlace bool, done func(), err error)
	// WriteBack replaces the file by the copy at path, with mode 0600,
	// creating its directory and removing a stale WAL. Not called in place.
	WriteBack(ctx context.Context, path string) error
}

// Optional capabilities of an Access, for a database the provider runs
// itself (compose's managed database service).
type (
	// Starter starts the database before Ensure; Start returns once it
	// answers.
	Starter interface {
		Start(ctx context.Context) error
	}
	// Admin is a login that may create the database and the registry user:
	// Ensure creates both with it, whatever create_database says, and State
	// observes with it (the registry user may not exist yet).
	Admin interface {
		Admin() (user, password string)
	}
	// Stoppable is a database that may not run, which State must not
	// start: Running tells, and fresh says that nothing of it exists yet
	// (apply creates database and table). What names it in messages, e.g.
	// "the database service registry-db".
	Stoppable interface {
		Running(ctx context.Context) (running, fresh bool, err error)
		What() string
	}
	// Discarder drops the whole database with its data when that is what
	// purging means (compose: no component left, so the volume goes).
	// done: there is nothing left to delete row by row.
	Discarder interface {
		Discard(ctx context.Context) (done bool, err error)
	}
	// Service is a database the provider runs as a service of its own:
	// ServiceState says which settings the file wants for it and which its
	// container has (also when it does not run), so a plan shows a change
	// of them as an update of the registry. Ensure (Start) applies them.
	Service interface {
		ServiceState(ctx context.Context) (*plan.ServiceState, error)
	}
	// Retrier is a database that may still be starting: a failed first
	// connection is retried for ConnectRetry.
	Retrier interface {
		ConnectRetry() time.Duration
	}
)

// LocalFile is an SQLite file on this machine, opened in place. server
// names the machine for messages.
func LocalFile(server, path string) File { return localFile{server, path} }

type localFile struct{ server, path string }

func (f localFile) Server() string { return f.server }

func (f localFile) Exists(context.Context) (bool, error) {
	_, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (f localFile) Local(context.Context) (string, bool, func(), error) {
	return f.path, true, func() {}, nil
}

func (f localFile) WriteBack(context.Context, string) error { return nil }
