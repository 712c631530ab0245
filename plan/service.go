package plan

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ServiceState is a registry database that the provider runs as a service
// of its own (compose's managed database): its settings as the file wants
// them and as its container has them. A difference is an update of the
// registry: apply recreates the service with the wanted settings (its data
// volume stays) before any controller is checked.
type ServiceState struct {
	// Name is the service, e.g. "registry-db".
	Name string          `json:"name"`
	Want ServiceSettings `json:"want"`
	// Have is nil when the service has no container (nothing to update:
	// apply creates it).
	Have *ServiceSettings `json:"have,omitempty"`
}

// ServiceSettings are a database service's settings: the displayed
// attributes (every secret as "(sensitive)"), a digest of each secret
// (SecretDigest; never the value) and a hash of both. Hash "" means the
// settings are not recorded (a container made by an older hactl):
// Attributes then hold only what could be read from the container.
type ServiceSettings struct {
	Hash       string            `json:"hash,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Digests are by attribute name; kept out of plan files and JSON (the
	// hash covers them).
	Digests map[string]string `json:"-"`
}

// NewServiceSettings digests a service's settings: attrs are shown as they
// are, each secret (by attribute name) is shown "(sensitive)" and enters the
// hash only through SecretDigest salted with salt and its name. An empty
// secret is left out.
func NewServiceSettings(salt string, attrs, secrets map[string]string) ServiceSettings {
	s := ServiceSettings{Attributes: map[string]string{}, Digests: map[string]string{}}
	for k, v := range attrs {
		s.Attributes[k] = v
	}
	for k, v := range secrets {
		if v == "" {
			continue
		}
		s.Attributes[k] = Sensitive
		s.Digests[k] = SecretDigest(salt+"|"+k, map[string]string{k: v})
	}
	s.Hash = s.hash()
	return s
}

// hash digests the attributes and digests, each length-prefixed.
func (s ServiceSettings) hash() string {
	h := sha256.New()
	put := func(v string) { fmt.Fprintf(h, "%d:%s", len(v), v) }
	put("hactl-service-v1")
	for _, m := range []map[string]string{s.Attributes, s.Digests} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		put(strconv.Itoa(len(keys)))
		for _, k := range keys {
			put(k)
			put(m[k])
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Verify reports whether Hash is the hash of Attributes and Digests (a
// label read back from a container may have been edited by hand).
func (s ServiceSettings) Verify() bool { return s.Hash != "" && s.Hash == s.hash() }

// SecretDigest digests secret values (by name) through PBKDF2 salted with
// salt, so a digest stored where others read it (a settings hash, a
// container label, a plan file) is no quick way to test guesses of a weak
// password. The same inputs always give the same digest.
func SecretDigest(salt string, secrets map[string]string) string {
	if len(secrets) == 0 {
		return ""
	}
	var b strings.Builder
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := secrets[k]
		fmt.Fprintf(&b, "%d:%s%d:%s", len(k), k, len(v), v)
	}
	dk, err := pbkdf2.Key(sha256.New, b.String(), []byte(salt), secretIterations, 32)
	if err != nil {
		panic(err) // only for an invalid key length
	}
	return hex.EncodeToString(dk)
}

// serviceAttrOrder lists the attributes whose change is named first in a
// registry update's reason.
var serviceAttrOrder = []string{"database_image", "database_volume"}

// registryUpdate is the update of a database service whose container has
// other settings than the file wants; nil when there is none (no service,
// no container yet, the same settings, or a registry create already
// planned: its preparation starts the service with the wanted settings).
func registryUpdate(s *RegistryState, create *Change) *Change {
	if s == nil || s.Service == nil || s.Service.Have == nil || create != nil {
		return nil
	}
	want, have := s.Service.Want, *s.Service.Have
	if have.Hash != "" && have.Hash == want.Hash {
		return nil
	}
	ch := &Change{
		Address: RegistryAddress, Role: "registry", Name: s.Type, Action: Update, Level: LevelRegistry,
		Server: s.Service.Name, Before: have.Attributes, After: want.Attributes,
		DesiredHash: want.Hash, ObservedHash: have.Hash, order: -1,
	}
	if have.Hash == "" {
		// Unrecorded settings: only what was read from the container is
		// compared (and shown as changed).
		before := map[string]string{}
		for k, v := range want.Attributes {
			before[k] = v
		}
		for k, v := range have.Attributes {
			before[k] = v
		}
		ch.Before = before
	}
	var reasons []string
	changed := map[string]bool{}
	for _, k := range serviceAttrOrder {
		if o, n := ch.Before[k], want.Attributes[k]; o != n && n != "" {
			changed[k] = true
			reasons = append(reasons, fmt.Sprintf("%s changed: %q -> %q", strings.ReplaceAll(k, "_", " "), o, n))
		}
	}
	var others, secrets []string
	for _, k := range unionKeys(ch.Before, want.Attributes) {
		o, hadOld := ch.Before[k]
		n, hasNew := want.Attributes[k]
		switch {
		case changed[k]:
		case o == Sensitive && n == Sensitive:
			if have.Hash != "" && have.Digests[k] != want.Digests[k] {
				ch.SensitiveChanged = append(ch.SensitiveChanged, k)
				secrets = append(secrets, strings.ReplaceAll(k, "_", " "))
			}
		case hadOld != hasNew || o != n:
			others = append(others, k)
		}
	}
	if len(others) > 0 {
		reasons = append(reasons, "database "+strings.Join(others, ", ")+" changed")
	}
	if len(secrets) > 0 {
		reasons = append(reasons, strings.Join(secrets, " and ")+" changed")
	}
	switch {
	case have.Hash == "":
		if len(reasons) == 0 {
			reasons = append(reasons, "settings of the database service "+s.Service.Name+" not recorded")
		}
		ch.Note = "the database service was made by an older hactl, which did not record its settings: it is recreated with the file's settings; its volume keeps the data"
	case len(reasons) == 0:
		reasons = append(reasons, "database settings changed")
	}
	ch.Reason = strings.Join(reasons, "; ")
	if ch.Note == "" {
		ch.Note = "the database service " + s.Service.Name + " is recreated with these settings; its volume keeps the data, the controllers reconnect"
	}
	if changed["database_volume"] {
		ch.Note = fmt.Sprintf("the database service %s is recreated on volume %s, which starts without the rows of %s; hactl creates the database and table there",
			s.Service.Name, want.Attributes["database_volume"], ch.Before["database_volume"])
	}
	for _, k := range ch.SensitiveChanged {
		if k == "root_password" {
			ch.Note += "; the mysql and mariadb images set the root password only when they initialise an empty volume: change it in the database too (ALTER USER), or hactl cannot log in as root"
		}
	}
	return ch
}

// changedSensitive reports whether ch names k among the secrets that
// changed behind "(sensitive)".
func (ch *Change) changedSensitive(k string) bool {
	for _, s := range ch.SensitiveChanged {
		if s == k {
			return true
		}
	}
	return false
}
