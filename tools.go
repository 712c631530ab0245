//go:build tools

// Package tools pins the libraries the project builds on while the packages
// that use them are being written. Removed once every one is imported.
package tools

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/fatih/color"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/hashicorp/hcl/v2/gohcl"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/melbahja/goph"
	_ "github.com/spf13/cobra"
	_ "github.com/zclconf/go-cty/cty"
	_ "github.com/zclconf/go-cty/cty/function/stdlib"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "golang.org/x/sync/errgroup"
	_ "modernc.org/sqlite"
)
