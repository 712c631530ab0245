package schema

import _ "embed"

// StarterHA is the commented starter file `hactl init` writes: the HA
// guide's three-server cluster.
//
//go:embed starters/ha.hcl
var StarterHA string

// StarterSingle is the starter file of `hactl init --single`: one machine,
// SQLite registry, local transport.
//
//go:embed starters/single.hcl
var StarterSingle string
