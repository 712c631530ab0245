// Package cli is dbgpt-sim's command line: the `dbgpt` command tree with
// click's parsing, help and error conventions, in both generations (every
// setting a flag with environment fallbacks before 0.7.0; `-c FILE` TOML with
// ${env:...} placeholders from 0.7.0), and `dbgpt model list`.
//
// It turns a command line into a role's settings and runs the role; the roles
// themselves live in the controller, worker and web packages.
package cli
