package compose

import (
	"strings"
	"testing"

	"github.com/hactl/hactl/schema"
)

// The database service carries its settings as labels: the hash, the shown
// attributes and a digest of each secret, never a secret; read back from
// the container they are the settings the file wants.
func TestDatabaseSettingsLabels(t *testing.T) {
	c := adaptedHA(t, func(c *schema.Cluster) { c.Compose.DatabaseImage = "mariadb:11" })
	p, err := Build(c, fakeComponents(c), BuildOptions{NoPull: true})
	if err != nil {
		t.Fatal(err)
	}
	labels := p.Compose.Services["db"].Labels
	for k, v := range labels {
		for _, secret := range []string{"root$pw", "root$$pw", c.Registry.Password.Reveal(), strings.ReplaceAll(c.Registry.Password.Reveal(), "$", "$$")} {
			if strings.Contains(v, secret) {
				t.Errorf("label %s holds a secret: %s", k, v)
			}
		}
	}
	want := databaseSettings(c, p.Name)
	if labels[LabelHash] != want.Hash || want.Hash == "" {
		t.Errorf("hash label %q, want %q", labels[LabelHash], want.Hash)
	}
	for k, v := range map[string]string{"database_image": "mariadb:11", "database_volume": p.Name + "_" + DefaultDatabaseVolume,
		"database": "dbgpt", "user": "dbgpt", "root_password": "(sensitive)", "password": "(sensitive)"} {
		if want.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, want.Attributes[k], v)
		}
	}
	if len(want.Digests) != 2 || want.Digests["root_password"] == want.Digests["password"] {
		t.Errorf("digests %v", want.Digests)
	}

	// Read back as Docker shows the labels (compose turned $$ into $).
	var ct container
	ct.Config.Image = "mariadb:11"
	ct.Config.Labels = map[string]string{}
	for k, v := range labels {
		ct.Config.Labels[k] = strings.ReplaceAll(v, "$$", "$")
	}
	have := observedSettings(ct)
	if have.Hash != want.Hash || have.Attributes["database_image"] != "mariadb:11" || have.Digests["root_password"] != want.Digests["root_password"] {
		t.Errorf("read back %+v, want %+v", have, want)
	}

	// Another image, volume or root password: another hash.
	for name, mutate := range map[string]func(*schema.Cluster){
		"image":         func(c *schema.Cluster) { c.Compose.DatabaseImage = "mariadb:11.4" },
		"volume":        func(c *schema.Cluster) { c.Compose.DatabaseVolume = "other" },
		"root password": func(c *schema.Cluster) { c.Compose.RootPassword = schema.NewSecret("other") },
		"user password": func(c *schema.Cluster) { c.Registry.Password = schema.NewSecret("other") },
	} {
		c2 := adaptedHA(t, func(c *schema.Cluster) { c.Compose.DatabaseImage = "mariadb:11"; mutate(c) })
		if databaseSettings(c2, p.Name).Hash == want.Hash {
			t.Errorf("%s changed, same hash", name)
		}
	}

	// A container of an older hactl (no settings labels): only its image.
	var old container
	old.Config.Image = "mysql:8.0"
	old.Config.Labels = map[string]string{LabelRole: RoleDatabase}
	if h := observedSettings(old); h.Hash != "" || len(h.Attributes) != 1 || h.Attributes["database_image"] != "mysql:8.0" {
		t.Errorf("unlabelled container read as %+v", h)
	}
}
