package providers

import (
	"strings"
	"testing"
)

// simTraceback is what dbgpt-sim's controller.CheckerDied writes.
const simTraceback = `Exception in thread Thread-1 (_heartbeat_checker):
Traceback (most recent call last):
  File "dbgpt/model/cluster/registry.py", in _heartbeat_checker
sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused
`

// pythonTraceback is CPython 3.10's, with a chained SQLAlchemy error and
// the lines SQLAlchemy appends.
const pythonTraceback = `Exception in thread Thread-1 (_heartbeat_checker):
Traceback (most recent call last):
  File "/usr/lib/python3.10/threading.py", line 1016, in _bootstrap_inner
    self.run()
  File "/usr/lib/python3.10/threading.py", line 953, in run
    self._target(*self._args, **self._kwargs)
  File "/app/dbgpt/model/cluster/registry_impl/storage.py", line 120, in _heartbeat_checker
    for instance in self._storage.list(...):

sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)")
(Background on this error at: https://sqlalche.me/e/20/e3q8)
`

func TestCheckerError(t *testing.T) {
	info := "2026-12-07 15:00:00 ctrl dbgpt.model.cluster.controller[42] INFO registered\n"
	other := `Exception in thread Thread-2 (_serve):
Traceback (most recent call last):
  File "/app/dbgpt/x.py", line 3, in _serve
ValueError: not the checker
`
	py39 := strings.Replace(pythonTraceback, "Thread-1 (_heartbeat_checker)", "Thread-1", 1)
	for _, tc := range []struct {
		name, log, want string
		died            bool
	}{
		{"sim", info + simTraceback + info, "sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused", true},
		{"python", info + pythonTraceback, `sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)")`, true},
		{"python 3.9 thread name", py39, `sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)")`, true},
		{"another thread", info + other + info, "", false},
		{"another thread, then the checker", other + simTraceback, "sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused", true},
		{"clean", info + info, "", false},
		{"the word alone", info + "DEBUG _heartbeat_checker pass 3\n", "", false},
		{"crlf", strings.ReplaceAll(simTraceback, "\n", "\r\n"), "sqlalchemy.exc.OperationalError: dial tcp 172.18.0.2:3306: connect: connection refused", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, died, err := CheckerError(strings.NewReader(tc.log))
			if err != nil || got != tc.want || died != tc.died {
				t.Errorf("CheckerError = %q, %v, %v; want %q, %v", got, died, err, tc.want, tc.died)
			}
		})
	}
}

func TestCheckerErrorClipsTheLine(t *testing.T) {
	long := strings.Replace(simTraceback, "connection refused", strings.Repeat("é", 400), 1)
	got, died, err := CheckerError(strings.NewReader(long))
	if !died || err != nil || len(got) > maxErrorLine+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "sqlalchemy.exc.OperationalError: dial") {
		t.Errorf("CheckerError = %q, %v, %v", got, died, err)
	}
	if strings.ContainsRune(got, '\uFFFD') {
		t.Error("clipped inside a UTF-8 sequence")
	}
}
