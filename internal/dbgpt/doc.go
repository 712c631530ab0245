// Package dbgpt owns what hactl knows about DB-GPT itself: the command lines and
// TOML settings of each generation, the controller's HTTP API (client and
// instance JSON), and the registry table (DDL, queries, liveness rules).
//
// It must not know how hosts are reached: callers hand it an http.Client or a
// *sql.DB that already reaches the right place.
package dbgpt
