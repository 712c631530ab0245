package schema

import (
	"errors"
	"fmt"
	"strings"
)

// splitCommand splits a dbgpt_command into words as a POSIX shell would
// quote them (single quotes, double quotes, backslashes), never expanding
// anything: the words are passed to the program as they are, so every
// character a shell would read as an operator or an expansion outside
// single quotes is refused rather than silently taken literally.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	const (
		plain = iota
		single
		double
	)
	state := plain
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch state {
		case single:
			if r == '\'' {
				state = plain
			} else {
				cur.WriteRune(r)
			}
		case double:
			switch r {
			case '"':
				state = plain
			case '\\':
				if i+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[i+1]) {
					i++
					cur.WriteRune(rs[i])
				} else {
					cur.WriteRune(r)
				}
			case '$', '`':
				return nil, fmt.Errorf("%q inside double quotes would be expanded by a shell; hactl runs the command without one (use single quotes for a literal %c)", r, r)
			default:
				cur.WriteRune(r)
			}
		default:
			switch {
			case r == ' ' || r == '\t':
				if inWord {
					words = append(words, cur.String())
					cur.Reset()
					inWord = false
				}
				continue
			case r == '\'':
				state = single
			case r == '"':
				state = double
			case r == '\\':
				if i+1 == len(rs) {
					return nil, errors.New("it ends with a backslash")
				}
				i++
				cur.WriteRune(rs[i])
			case strings.ContainsRune("$`|;&<>()*?[]{}~#!", r):
				return nil, fmt.Errorf("%q is a shell operator or expansion; hactl runs the command without a shell, so it would not mean what it does in one (quote it with single quotes to pass it literally)", r)
			default:
				cur.WriteRune(r)
			}
			inWord = true
		}
	}
	switch state {
	case single:
		return nil, errors.New("a single quote is not closed")
	case double:
		return nil, errors.New("a double quote is not closed")
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("it is empty")
	}
	if words[0] == "" {
		return nil, errors.New("the program name is empty")
	}
	return words, nil
}
