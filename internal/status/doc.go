// Package status owns what `hactl status` reports: every component as its
// host shows it (state running / down / unhealthy, pid, uptime, restarts) and
// the registry's models as `dbgpt model list` shows them, merged over every
// controller that answers, each row judged by heartbeat age (live, unhealthy,
// stale, stale registration) and duplicates flagged. When no controller
// answers it reads the registry database directly and says so. It renders
// the report as aligned text tables or one JSON document.
//
// It reads only: it never starts, stops or writes anything.
package status
