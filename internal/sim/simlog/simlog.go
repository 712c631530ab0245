package simlog

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Logger writes to stderr and, when opened with a file, to that file too.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	file   *os.File
	host   string
	module string
	pid    int
	level  int // Python logging level: lines below it are dropped
}

// Python's logging levels.
var levels = map[string]int{"NOTSET": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "FATAL": 50, "CRITICAL": 50}

// ParseLevel returns the Python level of a name (any case); ok is false for
// an unknown name.
func ParseLevel(name string) (int, bool) {
	l, ok := levels[strings.ToUpper(strings.TrimSpace(name))]
	return l, ok
}

// SetLevel sets the level below which app lines are dropped.
func (l *Logger) SetLevel(level int) { l.level = level }

// New returns a logger for a Python module name such as
// "dbgpt.model.cluster.controller.controller". A non-empty logFile is opened
// for appending.
func New(module, logFile string) (*Logger, error) {
	host, _ := os.Hostname()
	l := &Logger{w: os.Stderr, host: host, module: module, pid: os.Getpid(), level: 20}
	if logFile != "" {
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return nil, fmt.Errorf("creating log directory: %w", err)
		}
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening log file %s: %w", logFile, err)
		}
		l.file = f
		l.w = io.MultiWriter(os.Stderr, f)
	}
	return l, nil
}

// Discard returns a logger that writes nothing (for tests of packages).
func Discard() *Logger { return &Logger{w: io.Discard} }

// Close closes the log file.
func (l *Logger) Close() error {
	if l.file != nil {
		return l.file.Close()
	}
	return nil
}

func (l *Logger) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	io.WriteString(l.w, s)
}

func (l *Logger) app(level, format string, args []any) {
	if n := levels[level]; n < l.level {
		return
	}
	l.write(fmt.Sprintf("%s %s %s[%d] %s %s", time.Now().Format("2006-01-02 15:04:05"), l.host, l.module, l.pid, level,
		fmt.Sprintf(format, args...)))
}

// Debugf, Infof, Warnf and Errorf write Python logging lines.
func (l *Logger) Debugf(format string, args ...any) { l.app("DEBUG", format, args) }
func (l *Logger) Infof(format string, args ...any)  { l.app("INFO", format, args) }
func (l *Logger) Warnf(format string, args ...any)  { l.app("WARNING", format, args) }
func (l *Logger) Errorf(format string, args ...any) { l.app("ERROR", format, args) }

// Uvicorn writes a uvicorn line such as "INFO:     Started server process [42]".
func (l *Logger) Uvicorn(level, format string, args ...any) {
	l.write(fmt.Sprintf("%-9s %s", level+":", fmt.Sprintf(format, args...)))
}

// Raw writes lines as they are (tracebacks).
func (l *Logger) Raw(s string) { l.write(s) }

// Traceback writes a Python-style traceback ending in the given exception line.
func (l *Logger) Traceback(header, where, exc string) {
	l.write(header + "\nTraceback (most recent call last):\n  File \"" + where + "\"\n" + exc)
}

// Pid is the process id shown in the log lines.
func (l *Logger) Pid() int { return l.pid }
