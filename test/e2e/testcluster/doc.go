// Package testcluster starts the end-to-end test cluster: containers server1,
// server2 and server3 (sshd, dbgpt-sim installed as `dbgpt`) and db (MariaDB)
// on a private Docker network of their own, with an SSH key and a
// known_hosts file made for the run. It offers the fault levers tests need
// (kill, pause, disconnect, stop a host), command runners (docker exec and
// real SSH) and the registry database, and tears everything down when the
// test ends, fails or is interrupted.
//
// Images come from test/images. Every container and network carries the
// label hactl-e2e=1 and the creating process's id, so leftovers of a dead
// test process are swept when the next cluster starts.
//
// Tests using it skip when HACTL_E2E=skip and fail when Docker is unusable.
package testcluster
