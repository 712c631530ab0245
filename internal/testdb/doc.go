// Package testdb starts a private, throwaway MariaDB server for tests: its own
// data directory, socket and loopback port, torn down when the test ends.
//
// It needs mariadbd (or mysqld) and mariadb-install-db on the PATH or in
// /usr/sbin (Debian: apt-get install mariadb-server). Without them a test
// fails with a clear message, unless HACTL_E2E=skip, when it is skipped. It
// must not be imported by non-test code.
package testdb
