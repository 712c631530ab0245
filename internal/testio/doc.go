// Package testio holds small I/O helpers for tests: a buffer that collects
// a child process's or a goroutine's output while the test reads it. It
// must not be imported by non-test code.
package testio
