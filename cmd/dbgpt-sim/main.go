// Command dbgpt-sim is the project's stand-in for DB-GPT's `dbgpt` command
// (see /work/shared/DBGPT-PROTOCOL.md): install it as `dbgpt` on a host.
package main

import (
	"os"

	"github.com/hactl/hactl/internal/sim/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
