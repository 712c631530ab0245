// Package images builds the Docker images of the end-to-end test cluster
// without pulling anything: a Debian root file system made with debootstrap
// and imported as the base image, then the host (sshd), database (MariaDB)
// and dbgpt-sim images built FROM it. Each image is tagged with a hash of its
// build inputs and rebuilt only when they change. The package mirror is read
// from this machine's apt sources at run time and never stored in the repo.
//
// It owns image building only; starting containers is test/e2e/testcluster's
// job (and the compose provider's).
package images
