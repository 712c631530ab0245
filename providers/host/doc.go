// Package host reaches one machine: it runs POSIX shell scripts there (over
// SSH, or on this machine for the "local" transport), writes files through
// the command's stdin, and opens network connections as seen from that
// machine. It owns SSH authentication, host key verification, jump hosts,
// sudo and timeouts, and the shell quoting every remote command is built with.
//
// It knows nothing about DB-GPT or components: providers/ssh builds on it.
//
// Why golang.org/x/crypto/ssh and not melbahja/goph (which wraps it): goph
// dials without a context (the connect timeout would not cover the handshake
// of a host that accepts TCP and never speaks SSH), cannot dial through a jump
// host's connection, and its UseAgent never closes the agent socket. Each of
// those is a requirement here, so the transport uses x/crypto/ssh directly.
package host
