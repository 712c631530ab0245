// Package bench is hactl's performance benchmark on the project's own test
// hosts (`make bench-full`): hactl's apply, plan and status on the HA
// guide's topology over SSH at 3 and 100 hosts, against the processes' own
// readiness measured by hand and against an equivalent Ansible playbook
// (bench/ansible), and compose apply against its containers' readiness. It
// holds no code that hactl runs: only the benchmark and what it drives.
package bench
