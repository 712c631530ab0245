package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hactl/hactl/internal/testport"
)

// DB is a running private MariaDB server.
type DB struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // root, reachable over TCP with Password
	Password string
	Socket   string
	Dir      string // data directory and logs

	cmd  *exec.Cmd
	done chan struct{}
}

// DSN returns a go-sql-driver/mysql DSN for database (may be empty) with
// parseTime off, as a DB-GPT-like client would read DATETIME as text.
func (d *DB) DSN(database string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd = d.User, d.Password
	c.Net, c.Addr = "tcp", net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	c.DBName = database
	return c.FormatDSN()
}

// Open opens database (may be empty) and closes it when the test ends.
func (d *DB) Open(t testing.TB, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", d.DSN(database))
	if err != nil {
		t.Fatalf("testdb: open %s: %v", database, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var seq struct {
	sync.Mutex
	n int
}

// NewDatabase creates an empty database whose name starts with name and is
// unique on this server, and returns its name.
func (d *DB) NewDatabase(t testing.TB, name string) string {
	t.Helper()
	seq.Lock()
	seq.n++
	full := fmt.Sprintf("%s_%d", sanitize(name), seq.n)
	seq.Unlock()
	db := d.Open(t, "")
	if _, err := db.Exec("CREATE DATABASE `" + full + "` DEFAULT CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("testdb: create database %s: %v", full, err)
	}
	return full
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || b.Len() > 48 {
		return "t"
	}
	return b.String()
}

// Start starts a private MariaDB server for t and stops it when t ends.
func Start(t testing.TB) *DB {
	t.Helper()
	d, err := StartServer()
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv("HACTL_E2E") == "skip" {
			t.Skipf("testdb: %v (HACTL_E2E=skip)", err)
		}
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(d.Stop)
	return d
}

// ErrNotInstalled means the MariaDB server binaries were not found.
var ErrNotInstalled = errors.New("mariadbd/mysqld or mariadb-install-db not found; install mariadb-server (apt-get install mariadb-server)")

func find(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			p := filepath.Join(dir, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p
			}
		}
	}
	return ""
}

// StartServer starts a server without a testing.T (for TestMain or a
// harness); the caller must call Stop.
func StartServer() (*DB, error) {
	server := find("mariadbd", "mysqld")
	install := find("mariadb-install-db", "mysql_install_db")
	if server == "" || install == "" {
		return nil, ErrNotInstalled
	}
	dir, err := os.MkdirTemp("", "testdb-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	data := filepath.Join(dir, "data")
	// As root the server must be told to stay root; otherwise it runs as the
	// calling user and --user would only warn.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"--user=root"}
	}
	out, err := exec.Command(install, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}, asUser...)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s --datadir=%s: %v\n%s", install, data, err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &DB{Host: "127.0.0.1", Port: port, User: "root", Password: randomHex(12),
		Socket: filepath.Join(dir, "mysql.sock"), Dir: dir, done: make(chan struct{})}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command(server, append([]string{"--no-defaults", "--datadir=" + data,
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port), "--socket=" + d.Socket,
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"), "--tmpdir=" + dir,
		"--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=32M",
		"--innodb-log-file-size=16M", "--max-connections=200", "--log-error=" + filepath.Join(dir, "error.log")}, asUser...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// The server dies with the test binary even when cleanup never runs.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", server, err)
	}
	go func() { d.cmd.Wait(); logf.Close(); close(d.done) }()
	if err := d.setup(); err != nil {
		d.Stop()
		ok = true // Stop removed dir
		return nil, err
	}
	ok = true
	return d, nil
}

// setup waits for the socket and gives root a password for TCP logins.
func (d *DB) setup() error {
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr = "root", "unix", d.Socket
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(d.Dir, "error.log"))
			return fmt.Errorf("mariadbd exited during start-up:\n%s", tail(string(log), 2000))
		default:
		}
		db, err := sql.Open("mysql", c.FormatDSN())
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = db.PingContext(ctx)
			if err == nil {
				for _, host := range []string{"127.0.0.1", "%"} {
					u := "'root'@'" + host + "'"
					for _, s := range []string{
						"CREATE USER IF NOT EXISTS " + u,
						"ALTER USER " + u + " IDENTIFIED BY '" + d.Password + "'",
						"GRANT ALL PRIVILEGES ON *.* TO " + u + " WITH GRANT OPTION",
					} {
						if _, err = db.ExecContext(ctx, s); err != nil {
							cancel()
							db.Close()
							return fmt.Errorf("setting up root login: %s: %w", s, err)
						}
					}
				}
			}
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("mariadbd on %s did not answer within 60 s: %v", d.Socket, last)
}

// Stop kills the server and removes its files.
func (d *DB) Stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		<-d.done
	}
	os.RemoveAll(d.Dir)
}

func freePort() (int, error) { return testport.Next() }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
