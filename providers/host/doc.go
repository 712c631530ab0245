// Package host reaches one machine: it runs POSIX shell scripts there (over
// SSH, or on this machine for the "local" transport), writes files through
// the command's stdin, and opens network connections as seen from that
// machine. It owns SSH authentication, host key verification, jump hosts,
// sudo and timeouts, and the shell quoting every remote command is built with.
//
// It knows nothing about DB-GPT or components: providers/ssh builds on it.
package host
