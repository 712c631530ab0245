// Each file of this package holds one cobra command: its flags, then one call
// into the package that does the work. Commands register themselves with
// rootCmd in their init function.
package main
