package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/engine"
	"github.com/hactl/hactl/lock"
)

// releaseLock gives the cluster lock back; failing to is said on stderr
// with the way out, not turned into the command's error.
func releaseLock(cmd *cobra.Command, release func() error) {
	if err := release(); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %v\n  The next apply or destroy from this machine breaks it (this run is over); from another machine, remove it with 'hactl force-unlock ID'.\n", err)
	}
}

// noteBrokenLock says, on stderr, that the lock of a run that is gone was
// broken to take it.
func noteBrokenLock(cmd *cobra.Command, broken *lock.Info) {
	if broken != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Note: broke the cluster lock of a run that is gone: %s.\n", broken)
	}
}

// noteChangeInProgress reads the cluster's lock while the caller goes on
// (plan and status take no lock, so they may see a half-done change) and
// returns the function that waits for it and tells, on stderr, that
// another run is changing the cluster. A lock that cannot be read is not
// worth failing for.
func noteChangeInProgress(ctx context.Context, cmd *cobra.Command, sess *engine.Session) (tell func()) {
	var (
		holder *lock.Info
		err    error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		holder, err = sess.LockHolder(ctx)
	}()
	return func() {
		<-done
		if err != nil || holder == nil {
			return
		}
		gone := ""
		if holder.Dead() {
			gone = " (that run is gone: the next apply or destroy breaks its lock)"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Note: a change is in progress: %s%s. What is shown may change when it ends.\n", holder, gone)
	}
}

func newForceUnlockCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "force-unlock [-f FILE] [--var NAME=VALUE ...] [--force] LOCK_ID",
		Short: "Remove the cluster's lock left by a run that is gone",
		Long: `apply and destroy hold a lock on the cluster while they run (over SSH a file
.hactl-lock-<cluster>.json in the deploy directory of the file's first server
by name; for compose a file beside the project's work directory), so that
one operator changes the cluster at a time: a second apply or destroy exits
1 at once, naming the run that holds the lock (user, machine, pid, command,
start time) and its lock ID. The lock is released when the run ends, also on
Ctrl-C. A run killed outright (kill -9, a lost laptop) or cut off from the
lock's server when it ended leaves it behind. When that run was on this
machine (same host name and /etc/machine-id) and its process is gone, the
next apply or destroy breaks the lock itself and says so; a lock of another
machine's run is only removed by force-unlock.

force-unlock removes the lock when its ID is LOCK_ID, after asking on a
terminal (type "yes") unless --force. Do this only when the holder is
certainly not running: two runs at once can leave duplicate processes.

Exit status: 0 removed, 1 error (no lock, another ID, not confirmed).`,
		Args: cobra.ExactArgs(1),
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "do not ask for confirmation")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id := args[0]
		stdout := cmd.OutOrStdout()
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, sess, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		holder, err := sess.LockHolder(ctx)
		switch {
		case err != nil:
			return fmt.Errorf("reading the cluster lock: %w", err)
		case holder == nil:
			return fmt.Errorf("cluster %q is not locked: nothing to unlock", c.Name)
		case holder.ID != id:
			return fmt.Errorf("the lock of cluster %q has ID %s, not %s: it is held by %s", c.Name, holder.ID, id, holder)
		}
		if !force {
			fmt.Fprintf(stdout, "The lock of cluster %q is held by %s.\n", c.Name, holder)
			if !holder.Dead() {
				fmt.Fprintln(stdout, "hactl cannot tell whether that run is still going: make sure it is not.")
			}
			ok, err := approve(os.Stdin, stdout, "Do you really want to force-unlock?",
				"hactl will remove the lock. Another run may then change the cluster while the holder does.")
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(stdout, "\nforce-unlock cancelled.")
				return exitCodeError{code: exitError}
			}
		}
		if _, err := sess.ForceUnlock(ctx, id); err != nil {
			if errors.Is(err, lock.ErrNotLocked) {
				return fmt.Errorf("cluster %q is not locked any more: nothing to unlock", c.Name)
			}
			return err
		}
		fmt.Fprintf(stdout, "The lock of cluster %q (ID %s) was removed.\n", c.Name, id)
		return nil
	}
	return cmd
}
