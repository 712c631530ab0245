package plan

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hactl/hactl/schema"
)

// RecordVariables stores a salted digest of each variable's value.
func (f *File) RecordVariables(vars []schema.VariableValue) error {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	f.VariablesSalt = hex.EncodeToString(salt)
	f.Variables = map[string]string{}
	for _, v := range vars {
		f.Variables[v.Name] = v.Digest(f.VariablesSalt)
	}
	return nil
}

// CheckInputs refuses the saved plan, before anything is contacted, when
// the cluster file or a variable's value differs from when the plan was
// made. Values are compared by digest and never shown.
func (f *File) CheckInputs(path, clusterFile string, vars []schema.VariableValue) error {
	var reasons []string
	abs, err := filepath.Abs(clusterFile)
	if err != nil {
		return err
	}
	h, err := HashFile(abs)
	switch {
	case err != nil:
		return fmt.Errorf("hashing the cluster file: %w", err)
	case h == f.ClusterFileHash:
	case abs != f.ClusterFile:
		reasons = append(reasons, fmt.Sprintf("it was made from the cluster file %s, not %s (whose content differs)", f.ClusterFile, abs))
	default:
		reasons = append(reasons, fmt.Sprintf("the cluster file %s changed since the plan was made", f.ClusterFile))
	}
	if f.Variables != nil {
		var differ []string
		now := map[string]bool{}
		for _, v := range vars {
			now[v.Name] = true
			if old, ok := f.Variables[v.Name]; !ok || old != v.Digest(f.VariablesSalt) {
				differ = append(differ, v.Name)
			}
		}
		for name := range f.Variables {
			if !now[name] {
				differ = append(differ, name)
			}
		}
		if len(differ) > 0 {
			sort.Strings(differ)
			reasons = append(reasons, "the plan was made with other variable values: "+strings.Join(differ, ", ")+
				" (pass the same -var, -var-file and HACTL_VAR_ values as to plan; values are compared by digest and not shown)")
		}
	}
	if len(reasons) > 0 {
		return &StaleError{Path: path, Reasons: reasons}
	}
	return nil
}
