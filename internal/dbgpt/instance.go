package dbgpt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Instance is one registry entry as the controller's HTTP API carries it
// (DB-GPT's ModelInstance). PromptTemplate and LastHeartbeat are JSON null
// when unset.
type Instance struct {
	ModelName      string  `json:"model_name"`
	Host           string  `json:"host"`
	Port           int     `json:"port"`
	Weight         float64 `json:"weight"`
	CheckHealthy   bool    `json:"check_healthy"`
	Healthy        bool    `json:"healthy"`
	Enabled        bool    `json:"enabled"`
	PromptTemplate *string `json:"prompt_template"`
	LastHeartbeat  *Time   `json:"last_heartbeat"`
	// RemoveFromRegistry only matters on deregister; the controller's list
	// answers leave it out, so it is omitted when false.
	RemoveFromRegistry bool `json:"remove_from_registry,omitempty"`
}

// NewInstance returns an instance with DB-GPT's defaults: weight 1.0,
// check_healthy and enabled true, not yet healthy, no heartbeat.
func NewInstance(modelName, host string, port int) Instance {
	return Instance{ModelName: modelName, Host: host, Port: port, Weight: 1.0, CheckHealthy: true, Enabled: true}
}

// Split returns the model name and the model type of a registry model_name
// ("glm-4-9b-chat@llm" → "glm-4-9b-chat", "llm"). A name without '@' has an
// empty type.
func (i Instance) Split() (name, typ string) { return SplitModelName(i.ModelName) }

// SplitModelName splits a registry model_name at its last '@'.
func SplitModelName(modelName string) (name, typ string) {
	at := strings.LastIndexByte(modelName, '@')
	if at < 0 {
		return modelName, ""
	}
	return modelName[:at], modelName[at+1:]
}

// JoinModelName builds the registry model_name of a model and its worker type.
func JoinModelName(name, typ string) string { return name + "@" + typ }

// Endpoint is "host:port" of the instance.
func (i Instance) Endpoint() string { return fmt.Sprintf("%s:%d", i.Host, i.Port) }

// WorkerManagerModelName is the row every worker process registers besides
// its model.
const WorkerManagerModelName = "WorkerManager@service"

// Time is a last_heartbeat: Python's datetime.isoformat() of a naive local
// time, "2026-11-26T14:21:31" (with ".123456" when it has microseconds, as
// SQLite and the in-memory registry keep them; MySQL's datetime column drops
// them). Parsing accepts a zone suffix and a space separator too; times
// without a zone are read as local time, which is what the controller wrote.
type Time struct{ time.Time }

const (
	isoSeconds = "2006-01-02T15:04:05"
	isoMicros  = "2006-01-02T15:04:05.000000"
)

// NewTime returns t as a Time.
func NewTime(t time.Time) *Time { return &Time{t} }

// String formats like Python's isoformat of a naive datetime.
func (t Time) String() string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format(isoSeconds)
	}
	return t.Format(isoMicros)
}

// MarshalJSON writes the isoformat string.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads an ISO-8601 date-time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("last_heartbeat: %w", err)
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads a date-time as the controller or a database writes it.
// Without a zone it is local time.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a date-time", s)
}
