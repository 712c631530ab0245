// Package testcluster starts the end-to-end test cluster: containers server1,
// server2 and server3 (sshd, dbgpt-sim installed as `dbgpt`) and db (MariaDB)
// on a private Docker network of their own, with an SSH key and a
// known_hosts file made for the run. It offers the fault levers tests need
// (kill, pause, disconnect, stop a host), command runners (docker exec and
// real SSH) and the registry database, and tears everything down when the
// test ends, fails or is interrupted.
//
//	c := testcluster.Start(t, testcluster.Options{Generation: schema.GenerationTOML})
//	c.IP(testcluster.Server1)            // reachable from this machine
//	c.KeyPath, c.KnownHostsPath          // for hactl's cluster file (user root, or deploy with sudo)
//	c.SSH(testcluster.Server3, "dbgpt --version", nil)
//	c.Exec(testcluster.Server3, "ls /app/models") // docker exec, no SSH
//	c.Kill / StopHost / StartHost / RestartHost / Pause / Unpause / Disconnect / Reconnect (host)
//	c.DB()                               // *sql.DB on the registry database "dbgpt"
//	c.HTTPClient().Get(c.URL(testcluster.Server1, 8000) + "/api/controller/models")
//	c.WriteClusterFile(c.HAParams())     // the HA guide's cluster file for this cluster
//	c.ContainerLog(testcluster.Bastion)  // docker logs, or a systemd host's journal
//
// Options.Systemd puts server1–3 on the systemd image (systemd PID 1, sshd
// as ssh.service; RestartHost is a reboot). Options.Bastion adds the host
// "bastion" and an iptables OUTPUT rule (comment "hactl-e2e run=<id>
// pid=<pid>") that refuses this machine's connections to the rest of the
// cluster's subnet; the harness then reaches server1–3 and db through one
// SSH connection to the bastion (as deploy, so root logins in the bastion's
// log are hactl's), for SSH, the database (DSN names a dial function
// registered in this process) and HTTPClient. HAParams then has the jump
// block, and known_hosts the bastion's key.
//
// Each host keeps its address and host key through Kill/StartHost and
// Disconnect/Reconnect. `dbgpt` on a host is a wrapper that sets
// DBGPT_SIM_VERSION (and Options.SimEnv) unless the caller's environment
// does, then execs the sim at SimPath, so non-interactive SSH commands see
// the right version.
//
// Images come from test/images. Every container and network carries the
// label hactl-e2e=1, its cluster's ID and the creating process's id, so
// leftovers of a dead test process (and its iptables rule) are swept when
// the next cluster starts.
//
// Tests using it skip when HACTL_E2E=skip and fail when Docker is unusable.
package testcluster
