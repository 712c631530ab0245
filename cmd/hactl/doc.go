// Command hactl is the command line over package engine. Each file holds
// one command: a constructor (newXCmd) that declares its flags, then one
// call into engine (or schema) and a view that prints the result. The tree
// is built afresh for every run (newRootCmd), so no flag value leaks from
// one in-process run to the next.
package main
