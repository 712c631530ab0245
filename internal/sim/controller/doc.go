// Package controller serves the model controller's HTTP API exactly as DB-GPT
// (FastAPI) answers it: routes, JSON shapes, 422 validation details, 500
// "Internal Server Error" on a database error, uvicorn-style access log.
//
// It owns request decoding and answer encoding; the registry semantics live
// in package registry.
package controller
