package schema

import (
	"strings"
	"testing"
)

const variableValuesSrc = `
variable "port" {
  type = number
}

variable "token" {
  sensitive = true
}

cluster {
  name = "x"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c" {
  server = server.s1
  port   = var.port
}
`

func TestVariablesDigest(t *testing.T) {
	digests := func(opts LoadOptions, salt string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, v := range mustDecode(t, variableValuesSrc, opts).Variables() {
			out[v.Name] = v.Digest(salt)
			if v.Sensitive != (v.Name == "token") {
				t.Errorf("%s: Sensitive %v", v.Name, v.Sensitive)
			}
		}
		return out
	}
	a := digests(LoadOptions{Vars: []string{"port=8000", "token=s3cret"}}, "salt")
	if len(a) != 2 || !strings.HasPrefix(a["port"], "pbkdf2-sha256:") || strings.Contains(a["token"], "s3cret") {
		t.Fatalf("digests %v", a)
	}
	// The same values from another source give the same digests.
	b := digests(LoadOptions{Vars: []string{"token=s3cret"}, Environ: []string{"HACTL_VAR_port=8000"}}, "salt")
	if a["port"] != b["port"] || a["token"] != b["token"] {
		t.Errorf("same values, other digests: %v %v", a, b)
	}
	c := digests(LoadOptions{Vars: []string{"port=8001", "token=other"}}, "salt")
	if a["port"] == c["port"] || a["token"] == c["token"] {
		t.Errorf("other values, same digests: %v %v", a, c)
	}
	if d := digests(LoadOptions{Vars: []string{"port=8000", "token=s3cret"}}, "pepper"); d["port"] == a["port"] {
		t.Errorf("the salt does not change the digest")
	}
	if u := digests(LoadOptions{AllowUnsetVariables: true}, "salt"); u["port"] != "" || len(u) != 2 {
		t.Errorf("unset variables: %v", u)
	}
}
