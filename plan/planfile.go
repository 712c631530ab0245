package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// PlanFileFormat is the version of the saved plan format.
// 2: the observed registry state (Registry) and its part in the fingerprint.
// 3: Terraform's action names ("delete", not "destroy") and the attributes
// under the cluster file's names.
const PlanFileFormat = 3

// File is a saved plan (`hactl plan -out FILE`). It holds no secret: only
// displayed attributes (secrets as "(sensitive)") and digests. `apply FILE`
// renders the components again from the cluster file and applies the plan
// only when the file, the rendered settings and the observed cluster are all
// what they were when the plan was made.
type File struct {
	FormatVersion int    `json:"format_version"`
	Cluster       string `json:"cluster"`
	// ClusterFile is the cluster file's absolute path, ClusterFileHash the
	// sha256 of its bytes when the plan was made.
	ClusterFile     string `json:"cluster_file"`
	ClusterFileHash string `json:"cluster_file_hash"`
	// DesiredHashes are the settings hashes of every wanted component: they
	// catch a change of variables or of files the cluster file reads.
	DesiredHashes map[string]string `json:"desired_hashes"`
	// Variables are a salted PBKDF2 digest of every variable's value (never
	// the value), by name, so apply can say which variables differ before it
	// contacts anything. VariablesSalt is random per plan.
	VariablesSalt string            `json:"variables_salt,omitempty"`
	Variables     map[string]string `json:"variables,omitempty"`
	// ObservedFingerprint digests Observed and Registry.
	ObservedFingerprint string         `json:"observed_fingerprint"`
	Observed            []Observed     `json:"observed"`
	Registry            *RegistryState `json:"registry,omitempty"`
	Plan                *Plan          `json:"plan"`
}

// HashFile returns the sha256 of a file's content.
func HashFile(path string) (string, error) {
	b, err := schema.ReadSource(path, schema.MaxSourceSize)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// NewFile describes plan p, made from clusterFile, for saving.
func NewFile(clusterName, clusterFile string, p *Plan) (*File, error) {
	abs, err := filepath.Abs(clusterFile)
	if err != nil {
		return nil, err
	}
	h, err := HashFile(abs)
	if err != nil {
		return nil, fmt.Errorf("hashing the cluster file: %w", err)
	}
	f := &File{
		FormatVersion: PlanFileFormat, Cluster: clusterName,
		ClusterFile: abs, ClusterFileHash: h,
		DesiredHashes:       map[string]string{},
		ObservedFingerprint: Fingerprint(p.Observed, p.Registry),
		Registry:            p.Registry,
		Plan:                p,
	}
	for _, d := range p.Desired {
		f.DesiredHashes[d.Address] = d.Hash
	}
	for _, o := range p.Observed {
		o.Attributes = nil // the fingerprint covers them through the hash
		f.Observed = append(f.Observed, o)
	}
	sort.Slice(f.Observed, func(i, j int) bool { return observedLine(f.Observed[i]) < observedLine(f.Observed[j]) })
	return f, nil
}

// Save writes the plan file with mode 0600, replacing it atomically.
func (f *File) Save(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hactl-plan-*")
	if err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	return nil
}

// MaxPlanFileSize is the largest plan file read: a plan of a hundred
// components is about 100 kB.
const MaxPlanFileSize = 16 << 20

// ReadFile reads a saved plan.
func ReadFile(path string) (*File, error) {
	b, err := schema.ReadSource(path, MaxPlanFileSize)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a hactl plan file: %w", path, err)
	}
	if f.FormatVersion > 0 && f.FormatVersion < PlanFileFormat {
		return nil, fmt.Errorf("%s is a plan file of an older hactl (format %d, this hactl reads %d); run `hactl plan -out %s` again", path, f.FormatVersion, PlanFileFormat, path)
	}
	if f.FormatVersion != PlanFileFormat || f.Plan == nil {
		return nil, fmt.Errorf("%s is not a hactl plan file of format %d", path, PlanFileFormat)
	}
	return &f, nil
}

// StaleError says why a saved plan can no longer be applied.
type StaleError struct {
	Path    string
	Reasons []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("saved plan %s can no longer be applied:\n  - %s\nRun `hactl plan -out %s` again, review it, then apply it.",
		e.Path, strings.Join(e.Reasons, "\n  - "), e.Path)
}

// Check compares the saved plan with a plan made now from the same cluster
// file (fresh: Desired and Observed read again) and refuses it when anything
// it was made from changed.
func (f *File) Check(path string, fresh *Plan) error {
	var reasons []string
	h, err := HashFile(f.ClusterFile)
	switch {
	case err != nil:
		reasons = append(reasons, fmt.Sprintf("the cluster file %s cannot be read: %v", f.ClusterFile, err))
	case h != f.ClusterFileHash:
		reasons = append(reasons, fmt.Sprintf("the cluster file %s changed since the plan was made", f.ClusterFile))
	}
	now := map[string]string{}
	for _, d := range fresh.Desired {
		now[d.Address] = d.Hash
		if old, ok := f.DesiredHashes[d.Address]; !ok {
			reasons = append(reasons, d.Address+" is new in the configuration")
		} else if old != d.Hash {
			reasons = append(reasons, d.Address+"'s settings differ from the plan's (a variable or a file the cluster file reads changed; pass the same --var values as to plan)")
		}
	}
	for a := range f.DesiredHashes {
		if _, ok := now[a]; !ok {
			reasons = append(reasons, a+" is no longer in the configuration")
		}
	}
	if then, now := serviceWant(f.Registry), serviceWant(fresh.Registry); then != now {
		reasons = append(reasons, "the registry database service's settings differ from the plan's (a variable the cluster file reads changed; pass the same --var values as to plan)")
	}
	if fp := Fingerprint(fresh.Observed, fresh.Registry); fp != f.ObservedFingerprint {
		if registryLine(f.Registry) != registryLine(fresh.Registry) {
			reasons = append(reasons, "the registry changed since the plan was made: "+describeRegistry(f.Registry)+" then, "+describeRegistry(fresh.Registry)+" now")
		}
		if Fingerprint(f.Observed, nil) != Fingerprint(fresh.Observed, nil) {
			reasons = append(reasons, "the cluster changed since the plan was made: "+describeDrift(f.Observed, fresh.Observed))
		}
	}
	if len(reasons) > 0 {
		return &StaleError{Path: path, Reasons: reasons}
	}
	return nil
}

// serviceWant is the hash of the settings the file wants for the registry's
// database service, "" when there is none.
func serviceWant(s *RegistryState) string {
	if s == nil || s.Service == nil {
		return ""
	}
	return s.Service.Want.Hash
}

func describeRegistry(s *RegistryState) string {
	d := describeRegistryTable(s)
	if s != nil && s.Service != nil {
		if s.Service.Have == nil {
			d += ", no container of the database service " + s.Service.Name
		} else {
			d += ", database service " + s.Service.Name + " with settings " + shortHash(s.Service.Have.Hash)
		}
	}
	return d
}

func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	if h == "" {
		return "(not recorded)"
	}
	return h
}

func describeRegistryTable(s *RegistryState) string {
	switch {
	case s == nil:
		return "not observed"
	case !dbgpt.HasDatabase(s.Type):
		return "embedded"
	case !s.Reachable:
		return "could not be checked"
	case !s.DatabaseExists:
		return "database absent"
	case !s.TableExists:
		return "table absent"
	case len(s.MissingColumns) > 0:
		return "table lacking columns " + strings.Join(s.MissingColumns, ", ")
	}
	return "table present"
}

func describeDrift(before, after []Observed) string {
	key := func(o Observed) string { return o.Address + " on " + o.Server }
	b := map[string]Observed{}
	for _, o := range before {
		b[key(o)] = o
	}
	var out []string
	seen := map[string]bool{}
	for _, o := range after {
		k := key(o)
		seen[k] = true
		old, ok := b[k]
		switch {
		case !ok:
			out = append(out, k+" appeared")
		case old.Running && !o.Running:
			out = append(out, k+" stopped running")
		case !old.Running && o.Running:
			out = append(out, k+" started running")
		case old.Hash != o.Hash || old.Port != o.Port:
			out = append(out, k+" was redeployed with other settings")
		case old.Defect == "" && o.Defect != "":
			out = append(out, k+": "+o.Defect)
		case old.Defect != "" && o.Defect == "":
			out = append(out, k+" was restarted (its defect is gone)")
		}
	}
	for k := range b {
		if !seen[k] {
			out = append(out, k+" disappeared")
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "the deployed components differ"
	}
	return strings.Join(out, "; ")
}
