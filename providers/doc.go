// Package providers defines the one interface through which plan and apply
// reach a cluster's hosts. Its subpackages implement it: ssh (remote servers,
// and the local machine through the same code path) and compose (a docker
// compose project).
package providers
