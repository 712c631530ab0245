// Package simlog writes dbgpt-sim's log lines in the shapes DB-GPT's
// processes print: Python logging lines for the application and uvicorn's
// "INFO:     ..." lines for the server, to stderr and an optional log file.
package simlog
