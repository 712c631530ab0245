// Command hactl is the command line over package engine. Each file holds
// one command: a constructor (newXCmd) that declares its flags, then one
// call into engine (or schema) and a view that prints the result. The tree
// is built afresh for every run (newRootCmd), so no flag value leaks from
// one in-process run to the next. What several commands share has its own
// file: load.go (cluster-file flags, the one-dash spellings), provider.go,
// savedplan.go (plan -out's apply command, apply's check of a saved plan)
// and completion.go (dynamic shell completion).
package main
