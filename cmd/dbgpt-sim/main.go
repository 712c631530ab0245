package main

import (
	"os"

	"github.com/hactl/hactl/internal/sim/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
