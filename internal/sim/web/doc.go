// Package web is dbgpt-sim's webserver and API server: the routes hactl uses
// to check them. The webserver answers /api/health and, in light mode,
// forwards GET /api/controller/models to the first healthy controller
// (otherwise it serves an embedded in-memory controller, as the real one runs
// its own). The API server lists healthy llm models OpenAI-style.
package web
