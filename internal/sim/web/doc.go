// Package web is dbgpt-sim's webserver and API server: the routes hactl uses
// to check them. The webserver answers /api/health and, in light mode,
// forwards GET /api/controller/models to the first healthy controller
// (otherwise it serves an embedded in-memory controller, as the real one runs
// its own). With a metadata database it serves a minimal chat history:
// POST /api/v1/chat/dialogue/new and GET /api/v1/chat/dialogue/list in
// DB-GPT's Result shape, over a chat_history table. The API server lists
// healthy llm models OpenAI-style.
package web
