package registry_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/testdb"
	"github.com/hactl/hactl/registry"
	"github.com/hactl/hactl/schema"
)

// direct dials from this machine; refused never answers.
type direct struct{ name string }

func (d direct) Name() string { return d.name }
func (d direct) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

type refused struct{ name string }

func (r refused) Name() string { return r.name }
func (r refused) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no route to the database from here")
}

// access is the plain Access: places, or an SQLite file.
type access struct {
	places []registry.Place
	file   registry.File
}

func (a access) Places() []registry.Place { return a.places }
func (a access) SQLiteFile() (registry.File, error) {
	if a.file == nil {
		return nil, errors.New("no sqlite here")
	}
	return a.file, nil
}

// cluster has two workers, llm1 at 10.0.0.1:8001 and emb at 10.0.0.2:8002.
func cluster(r *schema.Registry) *schema.Cluster {
	s1 := &schema.Server{Name: "server1", Address: "10.0.0.1"}
	s2 := &schema.Server{Name: "server2", Address: "10.0.0.2"}
	return &schema.Cluster{Name: "t", Servers: []*schema.Server{s1, s2}, Registry: r,
		Controllers: []*schema.Controller{{Name: "ctrl1", Server: s1, Port: 8000}},
		Workers: []*schema.Worker{
			{Name: "llm1", Server: s1, Port: 8001, Model: &schema.Model{Name: "glm", WorkerType: schema.WorkerTypeLLM}},
			{Name: "emb", Server: s2, Port: 8002, Model: &schema.Model{Name: "t2v", WorkerType: schema.WorkerTypeText2Vec}},
		}}
}

// insertRows writes the rows of the cluster's two workers (each a model
// row and a WorkerManager@service row) and two of another cluster's worker
// on the same host but another port.
func insertRows(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, r := range []struct {
		name, host string
		port       int
	}{
		{"glm@llm", "10.0.0.1", 8001}, {"WorkerManager@service", "10.0.0.1", 8001},
		{"t2v@text2vec", "10.0.0.2", 8002}, {"WorkerManager@service", "10.0.0.2", 8002},
		{"other@llm", "10.0.0.1", 9001}, {"WorkerManager@service", "10.0.0.1", 9001},
	} {
		if _, err := db.Exec("INSERT INTO "+dbgpt.RegistryTable+" (model_name, host, port, healthy) VALUES (?, ?, ?, 1)", r.name, r.host, r.port); err != nil {
			t.Fatal(err)
		}
	}
}

func hostPorts(rows []dbgpt.Instance) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s:%d %s", r.Host, r.Port, r.ModelName))
	}
	return out
}

// foreignRows counts the rows of a foreign table of the registry's name.
func foreignRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + dbgpt.RegistryTable).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEmbedded(t *testing.T) {
	ctx := context.Background()
	for _, r := range []*schema.Registry{nil, {Type: schema.RegistryEmbedded}} {
		d := registry.New(cluster(r), access{})
		if err := d.Ensure(ctx); err != nil {
			t.Errorf("Ensure: %v", err)
		}
		if st, err := d.State(ctx); err != nil || st.Type != schema.RegistryEmbedded || !st.Complete() {
			t.Errorf("State: %+v %v", st, err)
		}
		if _, err := d.Rows(ctx); err == nil || !strings.Contains(err.Error(), "embedded") {
			t.Errorf("Rows: %v", err)
		}
		if n, err := d.Purge(ctx); n != 0 || err != nil {
			t.Errorf("Purge: %d %v", n, err)
		}
	}
}

func TestSQLiteLocal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data dir", "registry.db")
	c := cluster(&schema.Registry{Type: schema.RegistrySQLite, Path: path})
	d := registry.New(c, access{file: registry.LocalFile("server1", path)})

	// Observed before: no file, and looking creates none.
	st, err := d.State(ctx)
	if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists || st.Where != "sqlite "+path+" on server1" {
		t.Fatalf("state before: %+v %v", st, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("State created the directory: %v", err)
	}
	if _, err := d.Rows(ctx); err == nil {
		t.Error("Rows of a missing file: no error")
	}
	if n, err := d.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("Purge of a missing file: %d %v", n, err)
	}
	if err := d.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := d.State(ctx); err != nil || !st.Complete() || !st.DatabaseExists || !st.TableExists {
		t.Fatalf("state after: %+v %v", st, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v %v", fi, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insertRows(t, db)
	// Idempotent: an existing registry keeps its rows.
	if err := d.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := d.Rows(ctx)
	if err != nil || len(rows) != 6 || rows[0].ModelName != "glm@llm" || rows[0].Port != 8001 {
		t.Fatalf("rows %+v %v", rows, err)
	}
	// Purge deletes the cluster's workers' rows only.
	if n, err := d.Purge(ctx); n != 4 || err != nil {
		t.Fatalf("Purge: %d %v", n, err)
	}
	rows, err = d.Rows(ctx)
	if got := hostPorts(rows); err != nil || !slices.Equal(got, []string{"10.0.0.1:9001 other@llm", "10.0.0.1:9001 WorkerManager@service"}) {
		t.Fatalf("after purge: %v %v", got, err)
	}

	// A file without the table: observed as such, nothing to purge, and
	// Ensure (in place) adds the table.
	if _, err := db.Exec("DROP TABLE " + dbgpt.RegistryTable); err != nil {
		t.Fatal(err)
	}
	if st, err := d.State(ctx); err != nil || !st.Reachable || !st.DatabaseExists || st.TableExists {
		t.Fatalf("state without the table: %+v %v", st, err)
	}
	if n, err := d.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("Purge without the table: %d %v", n, err)
	}
	if err := d.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := d.State(ctx); !st.Complete() {
		t.Fatalf("Ensure did not add the table: %+v", st)
	}

	// A foreign table of the same name: observed, refused, never emptied.
	if _, err := db.Exec("DROP TABLE " + dbgpt.RegistryTable); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE " + dbgpt.RegistryTable + " (id INTEGER PRIMARY KEY, host TEXT, port INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " (host, port) VALUES ('10.0.0.1', 8001), ('x', 1)"); err != nil {
		t.Fatal(err)
	}
	testForeign(t, d, db)
}

// testForeign: with a foreign table of the registry's name in d, State
// names the missing columns, Ensure and Purge refuse, and its rows stay.
func testForeign(t *testing.T, d *registry.DB, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	if st, err := d.State(ctx); err != nil || !st.TableExists || !slices.Contains(st.MissingColumns, "model_name") {
		t.Fatalf("state with a foreign table: %+v %v", st, err)
	}
	if err := d.Ensure(ctx); err == nil || !strings.Contains(err.Error(), "not DB-GPT's registry table") || !strings.Contains(err.Error(), "model_name") {
		t.Fatalf("Ensure with a foreign table: %v", err)
	}
	n, err := d.Purge(ctx)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "not DB-GPT's registry table") {
		t.Fatalf("Purge with a foreign table: %d %v", n, err)
	}
	if n := foreignRows(t, db); n != 2 {
		t.Errorf("the foreign table holds %d rows, want its 2", n)
	}
}

func TestMySQL(t *testing.T) {
	srv := testdb.Start(t)
	ctx := context.Background()
	reg := func(database string) *schema.Registry {
		return &schema.Registry{Type: schema.RegistryMySQL, Host: srv.Host, Port: srv.Port, Database: database,
			User: srv.User, Password: schema.NewSecret(srv.Password)}
	}
	// The first place cannot reach the server: the second is used.
	places := []registry.Place{refused{"server0"}, direct{"server1"}}

	t.Run("EnsureStateRowsPurge", func(t *testing.T) {
		r := reg("hactl_reg")
		r.CreateDatabase = true
		d := registry.New(cluster(r), access{places: places})
		st, err := d.State(ctx)
		if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists ||
			st.Where != fmt.Sprintf("mysql root@%s:%d/hactl_reg (from server1)", srv.Host, srv.Port) {
			t.Fatalf("state before: %+v %v", st, err)
		}
		for range 2 { // idempotent
			if err := d.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if st, err := d.State(ctx); err != nil || !st.Complete() || !st.DatabaseExists || !st.TableExists {
			t.Fatalf("state after: %+v %v", st, err)
		}
		db := srv.Open(t, r.Database)
		insertRows(t, db)
		rows, err := d.Rows(ctx)
		if err != nil || len(rows) != 6 {
			t.Fatalf("rows %v %v", hostPorts(rows), err)
		}
		// Purge deletes the cluster's workers' rows only; another
		// cluster's worker sharing the table keeps its rows.
		if n, err := d.Purge(ctx); n != 4 || err != nil {
			t.Fatalf("Purge: %d %v", n, err)
		}
		rows, err = d.Rows(ctx)
		if got := hostPorts(rows); err != nil || !slices.Equal(got, []string{"10.0.0.1:9001 other@llm", "10.0.0.1:9001 WorkerManager@service"}) {
			t.Fatalf("after purge: %v %v", got, err)
		}
		// That other cluster's purge leaves nothing of the first behind
		// and keeps what is not its own.
		other := cluster(r)
		other.Workers = other.Workers[:1]
		other.Workers[0].Port = 9001
		if n, err := registry.New(other, access{places: places}).Purge(ctx); n != 2 || err != nil {
			t.Fatalf("other cluster's Purge: %d %v", n, err)
		}
	})

	t.Run("ForeignTable", func(t *testing.T) {
		name := srv.NewDatabase(t, "foreign")
		db := srv.Open(t, name)
		if _, err := db.Exec("CREATE TABLE " + dbgpt.RegistryTable + " (id INT PRIMARY KEY, host TEXT, port INT)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO " + dbgpt.RegistryTable + " VALUES (1, '10.0.0.1', 8001), (2, 'x', 1)"); err != nil {
			t.Fatal(err)
		}
		testForeign(t, registry.New(cluster(reg(name)), access{places: places}), db)
	})

	t.Run("Unreachable", func(t *testing.T) {
		r := reg("x")
		r.Password = schema.NewSecret("wrong-pw")
		d := registry.New(cluster(r), access{places: places})
		st, err := d.State(ctx)
		if err != nil || st.Reachable || !strings.Contains(st.Err, "not reachable") || !strings.Contains(st.Err, "from server0") ||
			!strings.Contains(st.Err, "from server1") || strings.Contains(st.Err, "wrong-pw") {
			t.Fatalf("state with a wrong password: %+v %v", st, err)
		}
		if err := d.Ensure(ctx); err == nil {
			t.Error("Ensure with a wrong password: no error")
		}
		if _, err := d.Rows(ctx); err == nil {
			t.Error("Rows with a wrong password: no error")
		}
		if _, err := registry.New(cluster(reg("x")), access{}).Rows(ctx); err == nil || !strings.Contains(err.Error(), "no place") {
			t.Errorf("no place: %v", err)
		}
	})

	t.Run("Check", func(t *testing.T) {
		r := reg("absent_db")
		if pr := registry.Check(ctx, r, direct{"server1"}, "127.0.0.1"); pr == nil || !strings.Contains(pr.What, `registry database "absent_db" does not exist`) {
			t.Errorf("absent database: %+v", pr)
		}
		r.CreateDatabase = true
		if pr := registry.Check(ctx, r, direct{"server1"}, "127.0.0.1"); pr != nil {
			t.Errorf("database to be created: %+v", pr)
		}
		for _, tc := range []struct {
			reg  *schema.Registry
			pl   registry.Place
			want string
		}{
			{&schema.Registry{Type: schema.RegistryMySQL, Host: srv.Host, Port: srv.Port, Database: "x", User: "u"}, refused{"server0"},
				fmt.Sprintf("registry %s:%d not reachable from server0", srv.Host, srv.Port)},
			{&schema.Registry{Type: schema.RegistryMySQL, Host: srv.Host, Port: srv.Port, Database: "x", User: srv.User, Password: schema.NewSecret("wrong")}, direct{"server1"},
				`login as "root" failed`},
		} {
			pr := registry.Check(ctx, tc.reg, tc.pl, "127.0.0.1")
			if pr == nil || !strings.Contains(pr.What, tc.want) || pr.Fix == "" || strings.Contains(pr.What+pr.Fix, srv.Password) {
				t.Errorf("want %q, got %+v", tc.want, pr)
			}
		}
	})

	t.Run("Managed", func(t *testing.T) { testManaged(t, srv) })
}

// managed is an Access with every optional capability, around a real
// server: Admin is its root login.
type managed struct {
	access
	srv       *testdb.DB
	log       []string
	running   bool
	fresh     bool
	discarded bool // Discard reports done
}

func (m *managed) Start(context.Context) error {
	m.log = append(m.log, "start")
	m.running = true
	return nil
}
func (m *managed) Admin() (string, string) { return m.srv.User, m.srv.Password }
func (m *managed) Running(context.Context) (bool, bool, error) {
	return m.running, m.fresh, nil
}
func (m *managed) What() string { return "the database service db" }
func (m *managed) Discard(context.Context) (bool, error) {
	m.log = append(m.log, "discard")
	return m.discarded, nil
}
func (m *managed) ConnectRetry() time.Duration { return time.Second }

func testManaged(t *testing.T, srv *testdb.DB) {
	ctx := context.Background()
	// The registry user does not exist yet; create_database is not set: the
	// admin login creates both.
	r := &schema.Registry{Type: schema.RegistryMySQL, Host: srv.Host, Port: srv.Port, Database: "hactl_managed",
		User: "hactl_reg", Password: schema.NewSecret("reg'pw")}
	m := &managed{access: access{places: []registry.Place{refused{"the compose network"}}}, srv: srv, fresh: true}
	d := registry.New(cluster(r), m)

	// Not running: nothing there yet, or not checkable; State does not try
	// to connect (the place would refuse).
	if st, err := d.State(ctx); err != nil || !st.Reachable || st.DatabaseExists || st.Err != "" {
		t.Fatalf("fresh: %+v %v", st, err)
	}
	m.fresh = false
	if st, err := d.State(ctx); err != nil || st.Reachable || st.Err != "the database service db is not running (plan does not start it)" {
		t.Fatalf("stopped: %+v %v", st, err)
	}
	m.places = []registry.Place{direct{"the compose network"}}
	if err := d.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.log) != 1 || m.log[0] != "start" {
		t.Errorf("Ensure did not start the database first: %v", m.log)
	}
	// Running: observed as admin.
	if st, err := d.State(ctx); err != nil || !st.Complete() || !st.TableExists {
		t.Fatalf("running: %+v %v", st, err)
	}
	// The registry user exists, with its password, and may use the table.
	userDB, err := sql.Open("mysql", fmt.Sprintf("hactl_reg:reg'pw@tcp(%s:%d)/hactl_managed", srv.Host, srv.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer userDB.Close()
	insertRows(t, userDB)
	if err := d.Ensure(ctx); err != nil { // idempotent, user included
		t.Fatalf("second Ensure: %v", err)
	}
	if rows, err := d.Rows(ctx); err != nil || len(rows) != 6 {
		t.Fatalf("rows as the registry user: %v %v", hostPorts(rows), err)
	}
	// Discard done: no row is touched here (the provider dropped the data).
	m.discarded = true
	if n, err := d.Purge(ctx); n != 0 || err != nil {
		t.Fatalf("discarded Purge: %d %v", n, err)
	}
	if n := foreignRows(t, userDB); n != 6 {
		t.Errorf("discarded Purge deleted rows: %d left", n)
	}
	m.discarded = false
	if n, err := d.Purge(ctx); n != 4 || err != nil {
		t.Fatalf("Purge: %d %v", n, err)
	}
}
