package dbgpt

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/hactl/hactl/schema"
)

// Every setting hactl writes for a worker is a reserved param name, so
// validate refuses a model param that would override it.
func TestReservedParamsCoverRenderedSettings(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		c := testCluster(gen, schema.RegistryMySQL)
		w := c.Workers[0]
		w.LogLevel = "INFO"
		params := w.Model.Params
		w.Model.Params = nil
		l, err := RenderWorker(c, w)
		w.Model.Params = params
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		if gen == schema.GenerationFlags {
			for _, a := range l.Args {
				if k, ok := strings.CutPrefix(a, "--"); ok {
					keys = append(keys, k)
				}
			}
		} else {
			var doc struct {
				Service struct {
					Model struct{ Worker map[string]any }
				}
				Models map[string][]map[string]any
			}
			if _, err := toml.Decode(string(l.Files[TOMLFile].Content), &doc); err != nil {
				t.Fatal(err)
			}
			for k, v := range doc.Service.Model.Worker {
				if _, table := v.(map[string]any); !table { // [service.model.worker.log]
					keys = append(keys, k)
				}
			}
			for _, tables := range doc.Models {
				for _, m := range tables {
					for k := range m {
						keys = append(keys, k)
					}
				}
			}
		}
		if len(keys) < 6 {
			t.Fatalf("%s: found only %v", gen, keys)
		}
		reserved := schema.ReservedParams(gen)
		for _, k := range keys {
			if _, ok := reserved[k]; !ok {
				t.Errorf("DB-GPT %s: hactl writes %q for a worker, but schema.ReservedParams does not list it", gen, k)
			}
		}
	}
}

// DB-GPT 0.7 expands ${env:NAME} in every string of its TOML file and has
// no escape: a value holding one is refused (validate refuses it first).
func TestTOMLStrayEnvRefRefused(t *testing.T) {
	c := testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	c.Workers[0].PromptTemplate = "${env:AWS_SECRET_ACCESS_KEY}"
	if _, err := RenderWorker(c, c.Workers[0]); err == nil || !strings.Contains(err.Error(), "${env:AWS_SECRET_ACCESS_KEY}") {
		t.Fatalf("RenderWorker = %v, want the env reference refused", err)
	}
	c = testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	c.Models[0].Params["backend"] = "a${env:HOME}b"
	if _, err := RenderWorker(c, c.Workers[0]); err == nil {
		t.Fatal("a param holding ${env:HOME} was rendered")
	}
	// hactl's own references to the secrets it passes are fine.
	c = testCluster(schema.GenerationTOML, schema.RegistryMySQL)
	if _, err := RenderController(c, c.Controllers[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := RenderWorker(c, c.Workers[0]); err != nil {
		t.Fatal(err)
	}
}
