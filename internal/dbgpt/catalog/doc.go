// Package catalog is what each DB-GPT version accepts, as read from its
// source: the 0.6 adapter names a proxy provider maps to, the embedding
// models the 0.6 webserver knows, and the keys each 0.7 provider's parameter
// class has. It is a leaf: schema (for validate) and internal/dbgpt (for
// rendering) both use it, so it imports nothing of hactl's.
package catalog
