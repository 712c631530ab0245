// Package version owns what hactl says about itself: its version (set at
// build time), the commit it was built from (read from the Go build
// information) and the DB-GPT generations it can deploy.
package version
