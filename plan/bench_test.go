package plan

import (
	"fmt"
	"io"
	"testing"

	"github.com/hactl/hactl/schema"
)

// bigCluster is a 3-controller cluster with n workers over 10 servers.
func bigCluster(n int) *schema.Cluster {
	c := &schema.Cluster{Name: "big", Generation: schema.GenerationTOML, Version: "0.7.0", Compose: &schema.Compose{},
		Registry: &schema.Registry{Type: schema.RegistryMySQL, Host: "db", Port: 3306, Database: "dbgpt", User: "u", Password: schema.NewSecret("pw")}}
	for i := 0; i < 10; i++ {
		c.Servers = append(c.Servers, &schema.Server{Name: fmt.Sprintf("s%d", i), Address: fmt.Sprintf("10.0.0.%d", i+1), DeployDir: "/opt/hactl/big", DBGPTCommand: "dbgpt"})
	}
	for i := 0; i < 3; i++ {
		c.Controllers = append(c.Controllers, &schema.Controller{Name: fmt.Sprintf("c%d", i), Server: c.Servers[i], Host: "0.0.0.0", Port: 8000, HeartbeatIntervalSecs: 20, HeartbeatTimeoutSecs: 60})
	}
	for i := 0; i < n; i++ {
		m := &schema.Model{Name: fmt.Sprintf("m%d", i), WorkerType: schema.WorkerTypeLLM, Path: fmt.Sprintf("/models/m%d", i), Params: map[string]string{"temperature": "0.7", "trust_remote_code": "true"}}
		c.Models = append(c.Models, m)
		c.Workers = append(c.Workers, &schema.Worker{Name: fmt.Sprintf("w%d", i), Server: c.Servers[i%10], Model: m, Host: "0.0.0.0", Port: 8001 + i, HeartbeatIntervalSecs: 20})
	}
	c.Webserver = &schema.Webserver{Name: "webserver", Server: c.Servers[0], Host: "0.0.0.0", Port: 5670, Light: true}
	return c
}

// BenchmarkPlan100Workers: render, diff against an identical deployment
// with one change, and print the text plan, for 3 controllers + 100 workers.
func BenchmarkPlan100Workers(b *testing.B) {
	c := bigCluster(100)
	d, err := Desired(c)
	if err != nil {
		b.Fatal(err)
	}
	obs := deployed(d)
	obs[50].Running = false
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := Desired(c)
		if err != nil {
			b.Fatal(err)
		}
		p := Diff(c, d, obs, regPresent())
		Renderer{W: io.Discard}.Text(p)
		_ = Fingerprint(p.Observed, p.Registry)
	}
}
