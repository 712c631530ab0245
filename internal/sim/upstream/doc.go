// Package upstream chooses which controller a client of the controllers
// (worker, webserver, apiserver) talks to, as DB-GPT does: probe every listed
// URL's /api/health every few seconds, use the first healthy one in the order
// given, and when none is healthy wait 2 s and use the first URL. A failed
// request is never retried on another controller here.
package upstream
