package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SudoError is a server whose sudo = true commands cannot run because sudo
// refuses them without a password: the user may not use sudo there at all
// (NoRights), or sudo would ask for a password that hactl cannot type.
// Every command on such a server fails the same way, so pre-flight
// reports it as the server's one problem (What, Fix).
type SudoError struct {
	Host     string
	User     string
	NoRights bool
	Missing  bool   // sudo is not installed
	Said     string // sudo -n's error, e.g. "sudo: a password is required"
	Verify   string // sudo -n -v's answer, which tells the two cases apart
}

func (e *SudoError) What() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("sudo is not installed (the server has sudo = true): %q", e.Said)
	case e.NoRights:
		return fmt.Sprintf("user %s may not use sudo here (sudo -n: %q; sudo -n -v: %q)", e.User, e.Said, e.Verify)
	}
	return fmt.Sprintf("sudo asks user %s for a password, which hactl cannot type (sudo -n: %q)", e.User, e.Said)
}

func (e *SudoError) Fix() string {
	rule := fmt.Sprintf("%q in /etc/sudoers.d/%s, written with visudo -f", e.User+" ALL=(ALL) NOPASSWD: ALL", e.User)
	switch {
	case e.Missing:
		return "install sudo there, or connect as root (user = \"root\", sudo = false)"
	case e.NoRights:
		return "give " + e.User + " password-less sudo, e.g. " + rule + ", or connect as a user who has it, or as root"
	}
	return "let " + e.User + " use sudo without a password (NOPASSWD), e.g. " + rule + ", or connect as root"
}

func (e *SudoError) Error() string { return e.Host + ": " + e.What() + ": " + e.Fix() }

// sudoRefused tells whether a failed `sudo -n sh -c` was sudo refusing to
// run it (not the script failing), from its status and error output.
func sudoRefused(status int, stderr string) (refused, missing bool) {
	s := strings.TrimSpace(stderr)
	switch {
	case status == 127 && strings.Contains(s, "sudo") && strings.Contains(s, "not found"):
		return true, true
	case status == 1 && strings.HasPrefix(lastLines(s, 1), "sudo: ") && strings.Contains(s, "password"):
		return true, false
	}
	return false, false
}

// sudoError classifies sudo's refusal: `sudo -n -v` says "Sorry, user X
// may not run sudo on HOST." to a user without any sudo rights, and "a
// password is required" to one whose sudo asks for a password (sudo -n
// alone says the latter to both). run runs a plain (not sudo) sh script.
func sudoError(ctx context.Context, hostName, user string, status int, stderr string, run func(context.Context, string) ([]byte, error)) error {
	refused, missing := sudoRefused(status, stderr)
	if !refused {
		return nil
	}
	e := &SudoError{Host: hostName, User: user, Missing: missing, Said: lastLines(strings.TrimSpace(stderr), 1)}
	if !missing {
		out, err := run(ctx, "LC_ALL=C sudo -n -v 2>&1 </dev/null; exit 0")
		if err == nil {
			e.Verify = strings.TrimSpace(lastLines(strings.TrimSpace(string(out)), 1))
			e.NoRights = strings.Contains(e.Verify, "may not run sudo")
		}
	}
	return e
}

// IsSudo reports whether err is (or wraps) a *SudoError.
func IsSudo(err error) (*SudoError, bool) {
	var se *SudoError
	ok := errors.As(err, &se)
	return se, ok
}
