package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// With Options.Bastion this machine may reach only the bastion of the
// cluster network: one OUTPUT rule rejects the rest of the subnet. The
// rule leaves out this machine's own addresses (the bridge's gateway),
// else the ICMP error the rejection sends back to the gateway would itself
// be rejected and a connect would hang instead of being refused.
// Containers reach each other through the bridge, not OUTPUT, so the
// cluster's own traffic is untouched.

// rulePrefix starts every rule's comment: "hactl-e2e run=<id> pid=<pid>".
const rulePrefix = "hactl-e2e"

func ruleComment(runID string, pid int) string {
	return fmt.Sprintf("%s run=%s pid=%d", rulePrefix, runID, pid)
}

// isolationRule is the rule's specification after -I/-D OUTPUT.
func isolationRule(subnet netip.Prefix, bastion netip.Addr, comment string) []string {
	return []string{"-d", subnet.String(), "-m", "addrtype", "!", "--dst-type", "LOCAL",
		"-m", "iprange", "!", "--dst-range", bastion.String() + "-" + bastion.String(),
		"-m", "comment", "--comment", comment, "-j", "REJECT"}
}

func iptablesPath() (string, error) {
	if p, err := exec.LookPath("iptables"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/iptables", "/sbin/iptables"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("iptables not found (Options.Bastion needs it, and root)")
}

func iptables(ctx context.Context, stdout io.Writer, args ...string) error {
	path, err := iptablesPath()
	if err != nil {
		return err
	}
	var errb bytes.Buffer
	// -w: other test processes change the table at the same time.
	cmd := exec.CommandContext(ctx, path, append([]string{"-w", "30"}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// outputRules lists the OUTPUT rules whose comment starts with rulePrefix,
// each as its comment and its specification (for -D OUTPUT).
func outputRules(ctx context.Context) (map[string][][]string, error) {
	var out bytes.Buffer
	if err := iptables(ctx, &out, "-S", "OUTPUT"); err != nil {
		return nil, err
	}
	rules := map[string][][]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		args := splitRule(line)
		if len(args) < 2 || args[0] != "-A" || args[1] != "OUTPUT" {
			continue
		}
		for i, a := range args {
			if a == "--comment" && i+1 < len(args) && strings.HasPrefix(args[i+1], rulePrefix+" ") {
				rules[args[i+1]] = append(rules[args[i+1]], args[2:])
			}
		}
	}
	return rules, nil
}

// splitRule splits a line of `iptables -S` into words; a word in double
// quotes (a comment) may hold spaces and backslash escapes.
func splitRule(line string) []string {
	var words []string
	var w strings.Builder
	in, quoted := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
		case ch == '"':
			quoted, in = !quoted, true
		case !quoted && (ch == ' ' || ch == '\t'):
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// deleteRules deletes the OUTPUT rules of this suite whose comment drop accepts.
func deleteRules(ctx context.Context, drop func(comment string) bool) error {
	rules, err := outputRules(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for comment, specs := range rules {
		if !drop(comment) {
			continue
		}
		for _, spec := range specs {
			if err := iptables(ctx, nil, append([]string{"-D", "OUTPUT"}, spec...)...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// deleteRunRules deletes the rules of run id (any process).
func deleteRunRules(ctx context.Context, id string) error {
	return deleteRules(ctx, func(comment string) bool { return strings.HasPrefix(comment, rulePrefix+" run="+id+" ") })
}

// deleteDeadRules deletes the rules of processes that are no longer alive and
// returns their run IDs.
func deleteDeadRules(ctx context.Context) ([]string, error) {
	var dead []string
	err := deleteRules(ctx, func(comment string) bool {
		var id string
		var pid int
		if _, err := fmt.Sscanf(comment, rulePrefix+" run=%s pid=%d", &id, &pid); err != nil || pid <= 0 {
			return false
		}
		if !processDead(pid) {
			return false
		}
		dead = append(dead, id)
		return true
	})
	return dead, err
}

func processDead(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// hasIptables says whether rules can be listed at all (root, iptables there);
// the sweep stays quiet when not.
func hasIptables() bool {
	_, err := iptablesPath()
	return err == nil && os.Geteuid() == 0
}
