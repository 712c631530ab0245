// Package version owns what hactl says about itself: its own version (set
// at build time), the commit it was built from, and the DB-GPT versions it
// can deploy. `hactl version` prints it; the JSON UI stream's version
// message carries it.
package version
