// Package e2e holds the end-to-end tests: real SSH hosts, a real MariaDB and
// real Docker, started by test/e2e/testcluster. The first of them,
// TestHAGuideByHand, needs no hactl: it follows DB-GPT's HA deployment guide
// by hand over SSH, in both command-line generations, and checks the guide's
// promise against dbgpt-sim. The others drive bin/hactl: over SSH
// (ssh_*_test.go; the drill's steps in drill_test.go), on systemd hosts
// behind a bastion as a non-root user (real_servers_test.go), against real
// DB-GPT's behaviours (real_dbgpt_test.go) and on the compose provider
// (compose_*_test.go, drill_test.go).
//
// Tests with a test cluster of their own run in parallel where they can.
// The tests skip when HACTL_E2E=skip and fail when Docker is unusable.
package e2e
