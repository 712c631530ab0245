// Package plan owns the desired components rendered from a Cluster, the diff
// between them and what a provider observed, the ordered actions, their text
// and JSON rendering, and saved plan files. It changes nothing on any host.
package plan
