// Package e2e holds the end-to-end tests: real SSH hosts, a real MariaDB and
// real Docker, started by test/e2e/testcluster. The first of them,
// TestHAGuideByHand, needs no hactl: it follows DB-GPT's HA deployment guide
// by hand over SSH, in both command-line generations, and checks the guide's
// promise against dbgpt-sim.
//
// The tests skip when HACTL_E2E=skip and fail when Docker is unusable.
package e2e
