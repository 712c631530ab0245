// Package docs carries hactl's documentation (the *.md files of this
// directory) inside the binary, for `hactl docs`. The files stay plain
// Markdown, read on GitHub as they are.
package docs
