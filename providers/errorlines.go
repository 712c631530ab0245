package providers

import "strings"

// MaxErrorLines bounds what ErrorLines returns.
const MaxErrorLines = 20

// maxTracebackLines bounds a traceback (its newest lines are kept: the
// exception is at the end).
const maxTracebackLines = 40

// ErrorLines picks the lines telling why one attempt of a process failed,
// from that attempt's output (supervisor lines already left out): a Python
// traceback (from its first "Traceback (most recent call last):" line to the
// end), else the lines that look like errors (starting with "Error:", or
// holding "Error" or "Exception"), else the attempt's last lines.
func ErrorLines(attempt []string) []string {
	var lines []string
	for _, l := range attempt {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Traceback (most recent call last):") {
			return last(lines[i:], maxTracebackLines)
		}
	}
	var errs []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Error:") || strings.Contains(l, "Error") || strings.Contains(l, "Exception") {
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		return last(errs, MaxErrorLines)
	}
	return last(lines, MaxErrorLines)
}

func last(xs []string, n int) []string {
	if len(xs) > n {
		xs = xs[len(xs)-n:]
	}
	return append([]string(nil), xs...)
}
