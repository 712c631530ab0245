// Package plan owns the desired components rendered from a Cluster, the diff
// between them and what a provider observed, the ordered actions, their text
// and JSON rendering, and saved plan files. It changes nothing on any host.
//
// Components are addressed controller.<name>, worker.<name>, webserver and
// apiserver, at dependency levels 1 (controllers), 2 (workers) and 3
// (webserver, apiserver). A component's Hash covers everything whose change
// needs a restart: server, port, DB-GPT command, deploy directory and the
// whole rendered Launch; secrets enter it only through a salted PBKDF2
// digest. Attributes are what a plan shows, named as the cluster file
// spells them, secrets as "(sensitive)"; they are strings (as manifests
// store them) and KindOf says which are numbers and booleans, shown bare as
// Terraform does. Attributes are not hashed, so renaming one changes no
// plan; currentNames reads a manifest of an older hactl under today's names.
//
// Diff rules (see the Action constants):
//   - create: wanted, deployed nowhere;
//   - update in place: deployed on its server with another hash (settings,
//     port, version, a secret), or not running, or (apply.CheckUnchanged)
//     running but failing its health check: redeployed and restarted there;
//   - replace: deployed on another server than the file names: created on
//     the new server, healthy, then the old copy removed (Terraform's
//     create_before_destroy, shown +/-; no action destroys first); or
//     deployed as wanted and running but with a Defect the provider found
//     in its log (a controller whose heartbeat checker thread died): its
//     process is replaced where it is (redeployed, restarted, gated), the
//     defect shown as the reason;
//   - destroy: deployed but no longer in the file (frontends first,
//     controllers last), or a stray second copy on another server.
//
// The registry (address "registry", level 0) is a resource of its own:
// the provider observes it before the diff (RegistryState). A database (or
// SQLite file) or registry table that is absent is a counted create, shown
// with its attributes (the password as "(sensitive)") and what will be made.
// A database service the provider runs itself (compose's managed database,
// RegistryState.Service) whose container was made with other settings than
// the file's (image, volume, database, user, root or user password; secrets
// compared through salted digests, shown "(sensitive)") is a counted
// update of the registry: apply has the provider recreate the service with
// the file's settings (its volume keeps the data) and then runs every gate.
// A complete table is no change. A table lacking DB-GPT's columns is a
// foreign table hactl will not alter: CheckRegistry fails the plan. A
// registry that could not be checked is shown with the reason and not
// counted; apply prepares it anyway before starting controllers. A destroy
// never lists the registry. A replace counts as one add and one destroy, as
// in Terraform.
//
// Plan files (`hactl plan --out FILE`, mode 0600) are JSON: format_version,
// cluster, the cluster file's absolute path and sha256, the hash of every
// wanted component, the observed components (address, server, role, port,
// hash, running, defect) and registry state with their fingerprint, and the
// changes with their shown attributes. No secret is stored: apply renders the components again from
// the cluster file and refuses the plan when the file's bytes, any
// component's hash or the observed fingerprint (components and registry)
// differ.
package plan
