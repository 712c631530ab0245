package providers

import (
	"bufio"
	"io"
	"strings"
)

// DB-GPT's controller runs its heartbeat checker (which marks rows whose
// heartbeat is older than the timeout unhealthy) in a thread that dies on
// its first database error, a registry database that is down for a
// moment, say (dbgpt-sim copies this: internal/sim/controller.CheckerDied).
// Python prints
//
//	Exception in thread Thread-1 (_heartbeat_checker):
//	Traceback (most recent call last):
//	  File "…/registry.py", line …, in _heartbeat_checker
//	    …
//	sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, …)
//
// and the thread never restarts. CheckerScan finds that traceback in a
// controller's log (Python before 3.10 names the thread "Thread-1" only:
// then a frame "in _heartbeat_checker" tells it from other threads').

// checkerMark is the word that identifies the checker's traceback.
const checkerMark = "_heartbeat_checker"

// maxTraceback bounds the lines read of one traceback.
const maxTraceback = 200

// maxErrorLine bounds the error line returned.
const maxErrorLine = 300

// CheckerScan finds the first heartbeat checker traceback in log lines fed
// to it one by one (those written since the controller's process started).
type CheckerScan struct {
	in       bool // inside an "Exception in thread" block
	checker  bool // the block is the checker's
	n        int
	found    bool
	errLine  string
	sawTrace bool
}

// Line feeds the next log line.
func (s *CheckerScan) Line(l string) {
	if s.found {
		return
	}
	l = strings.TrimRight(l, "\r\n")
	if strings.HasPrefix(l, "Exception in thread ") {
		s.in, s.n, s.sawTrace = true, 0, false
		s.checker = strings.Contains(l, checkerMark)
		return
	}
	if !s.in {
		return
	}
	s.n++
	switch {
	case strings.HasPrefix(l, "Traceback "):
		s.sawTrace = true
	case l == "" || l[0] == ' ' || l[0] == '\t':
		if strings.Contains(l, checkerMark) {
			s.checker = true
		}
	default:
		// The first line that is not part of the stack: the exception.
		s.in = false
		if s.checker && s.sawTrace {
			s.found = true
			s.errLine = clip(strings.TrimSpace(l), maxErrorLine)
		}
		return
	}
	if s.n >= maxTraceback {
		s.in = false
	}
}

// Found reports whether the checker's traceback was seen, and its error
// line (the exception, e.g. "sqlalchemy.exc.OperationalError: …").
func (s *CheckerScan) Found() (errLine string, ok bool) { return s.errLine, s.found }

// CheckerError reads a controller's log (the lines since its process
// started) and reports whether its heartbeat checker thread died, and the
// error line it died of. It stops reading at the traceback.
func CheckerError(r io.Reader) (errLine string, died bool, err error) {
	var s CheckerScan
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		s.Line(sc.Text())
		if s.found {
			break
		}
	}
	errLine, died = s.Found()
	if died {
		return errLine, true, nil
	}
	return "", false, sc.Err()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Do not cut a UTF-8 sequence.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
