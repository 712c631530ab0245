package controller

import (
	"encoding/json"
	"testing"
)

func TestDecodeInstanceLax(t *testing.T) {
	inst, errs := decodeInstance([]byte(`{"model_name":"m@llm","host":"h","port":8001.0,"weight":"0.5","check_healthy":"no","enabled":0,"healthy":"yes","prompt_template":null,"last_heartbeat":"2026-11-26T14:21:31","remove_from_registry":1}`))
	if len(errs) != 0 {
		t.Fatalf("errors: %+v", errs)
	}
	if inst.Port != 8001 || inst.Weight != 0.5 || inst.CheckHealthy || inst.Enabled || !inst.Healthy || inst.PromptTemplate != nil || inst.LastHeartbeat == nil || !inst.RemoveFromRegistry {
		t.Errorf("decoded %+v", inst)
	}
	defaults, errs := decodeInstance([]byte(`{"model_name":"m","host":"h","port":1}`))
	if len(errs) != 0 || defaults.Weight != 1 || !defaults.CheckHealthy || !defaults.Enabled || defaults.Healthy {
		t.Errorf("defaults %+v %v", defaults, errs)
	}
	for body, want := range map[string]string{
		`{"model_name":"m","host":"h","port":1.5}`:                  "int_from_float",
		`{"model_name":"m","host":"h","port":true}`:                 "int_type",
		`{"model_name":"m","host":"h","port":null}`:                 "int_type",
		`{"model_name":null,"host":"h","port":1}`:                   "string_type",
		`{"model_name":"m","host":"h","port":1,"enabled":2}`:        "bool_parsing",
		`{"model_name":"m","host":"h","port":1,"weight":true}`:      "float_type",
		`{"model_name":"m","host":"h","port":1,"last_heartbeat":1}`: "datetime_type",
		`[1,2]`: "dataclass_type",
		`{} {}`: "json_invalid",
	} {
		_, errs := decodeInstance([]byte(body))
		if len(errs) != 1 || errs[0].Type != want {
			b, _ := json.Marshal(errs)
			t.Errorf("%s: %s, want one %s", body, b, want)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{1: "1.0", 0.5: "0.5", 2.25: "2.25", 1e21: "1e+21"} {
		b, _ := pyFloat(f).MarshalJSON()
		if string(b) != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, b, want)
		}
	}
}
