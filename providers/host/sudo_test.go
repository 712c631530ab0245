package host

import (
	"context"
	"strings"
	"testing"
)

// The answers of Debian bookworm's sudo 1.9.13 (measured in the e2e host
// image): sudo -n says the same to a user without sudo rights and to one
// whose sudo asks for a password; sudo -n -v tells them apart.
func TestSudoErrorClassifies(t *testing.T) {
	const said = "sudo: a password is required\n"
	for _, tc := range []struct {
		verify   string
		noRights bool
		want     []string
	}{
		{"Sorry, user nosudo may not run sudo on 5f0c2d.\n", true, []string{
			`server1: user nosudo may not use sudo here (sudo -n: "sudo: a password is required"; sudo -n -v: "Sorry, user nosudo may not run sudo on 5f0c2d.")`,
			`give nosudo password-less sudo, e.g. "nosudo ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/nosudo`}},
		{"sudo: a password is required\n", false, []string{
			`server1: sudo asks user nosudo for a password, which hactl cannot type (sudo -n: "sudo: a password is required")`,
			"let nosudo use sudo without a password (NOPASSWD)"}},
	} {
		var ran string
		run := func(_ context.Context, script string) ([]byte, error) { ran = script; return []byte(tc.verify), nil }
		err := sudoError(context.Background(), "server1", "nosudo", 1, said, run)
		se, ok := IsSudo(err)
		if !ok || se.NoRights != tc.noRights || !strings.Contains(ran, "sudo -n -v") {
			t.Fatalf("%v (ran %q)", err, ran)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q\nlacks %q", err, w)
			}
		}
	}
	// A script that fails on its own is not sudo's refusal.
	for _, tc := range []struct {
		status int
		stderr string
	}{{1, "cat: x: No such file"}, {2, "sudo: a password is required"}, {1, "enter the password: no"}} {
		if err := sudoError(context.Background(), "s", "u", tc.status, tc.stderr, nil); err != nil {
			t.Errorf("%d %q: %v", tc.status, tc.stderr, err)
		}
	}
	err := sudoError(context.Background(), "s", "u", 127, "sh: 1: sudo: not found", nil)
	if se, ok := IsSudo(err); !ok || !se.Missing || !strings.Contains(err.Error(), "sudo is not installed") {
		t.Errorf("missing sudo: %v", err)
	}
}
