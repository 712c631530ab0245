package ssh

import (
	"bufio"
	"strconv"
	"strings"
)

// listener is one listening TCP socket from /proc/net/tcp or tcp6.
type listener struct {
	Port  int
	Inode string
	Addr  string // local address, hex as the kernel prints it
}

// parseProcNetTCP returns the LISTEN sockets of /proc/net/tcp or
// /proc/net/tcp6 content (header lines and other states are skipped).
func parseProcNetTCP(content string) []listener {
	var out []listener
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		if f[3] != "0A" { // TCP_LISTEN
			continue
		}
		addr, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil {
			continue
		}
		out = append(out, listener{Port: int(port), Inode: f[9], Addr: addr})
	}
	return out
}

// parseSocketInodes picks the socket inodes out of `ls -l /proc/PID/fd`
// lines ("... 3 -> socket:[12345]").
func parseSocketInodes(line string) (string, bool) {
	i := strings.Index(line, "socket:[")
	if i < 0 {
		return "", false
	}
	rest := line[i+len("socket:["):]
	j := strings.IndexByte(rest, ']')
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}
