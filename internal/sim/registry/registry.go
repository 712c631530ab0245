package registry

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
)

// Registry is what a controller keeps. Every method answers like DB-GPT's
// registries; an error is a database error (the controller answers 500).
type Registry interface {
	// Register upserts by model_name+host+port: a new row keeps the sent
	// weight, check_healthy, enabled and prompt_template; an existing row gets
	// only weight, prompt_template, healthy=true and last_heartbeat=now.
	Register(ctx context.Context, inst dbgpt.Instance) error
	// Deregister marks the row unhealthy; the row stays, whatever
	// inst.RemoveFromRegistry says (0.6.3 has no such parameter). An unknown
	// row is no error.
	Deregister(ctx context.Context, inst dbgpt.Instance) error
	// Heartbeat sets healthy and last_heartbeat=now, registering an unknown
	// instance.
	Heartbeat(ctx context.Context, inst dbgpt.Instance) error
	// List returns the instances of modelName (all models when empty).
	List(ctx context.Context, modelName string, healthyOnly bool) ([]dbgpt.Instance, error)
	// Check marks unhealthy every check_healthy row whose last heartbeat is
	// older than timeout. It fails on a row without a heartbeat, as DB-GPT's
	// checker does (datetime minus None).
	Check(ctx context.Context, timeout time.Duration) error
}

// Now is the controller's clock: local time, as Python's datetime.now().
var Now = time.Now

// Memory is DB-GPT's EmbeddedModelRegistry: per model name, a list of
// instances in registration order.
type Memory struct {
	mu     sync.Mutex
	order  []string
	models map[string][]*dbgpt.Instance
}

// NewMemory returns an empty in-memory registry.
func NewMemory() *Memory { return &Memory{models: map[string][]*dbgpt.Instance{}} }

func (m *Memory) find(name, host string, port int) (int, *dbgpt.Instance) {
	for i, ins := range m.models[name] {
		if ins.Host == host && ins.Port == port {
			return i, ins
		}
	}
	return -1, nil
}

func (m *Memory) register(inst dbgpt.Instance) {
	name, host := strings.TrimSpace(inst.ModelName), strings.TrimSpace(inst.Host)
	now := dbgpt.NewTime(Now())
	if _, ins := m.find(name, host, inst.Port); ins != nil {
		ins.Weight = inst.Weight
		ins.Healthy = true
		ins.PromptTemplate = inst.PromptTemplate
		ins.LastHeartbeat = now
		return
	}
	n := inst
	n.ModelName, n.Host = name, host
	n.Healthy, n.LastHeartbeat = true, now
	if _, ok := m.models[name]; !ok {
		m.order = append(m.order, name)
	}
	m.models[name] = append(m.models[name], &n)
}

func (m *Memory) Register(_ context.Context, inst dbgpt.Instance) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.register(inst)
	return nil
}

func (m *Memory) Deregister(_ context.Context, inst dbgpt.Instance) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name := strings.TrimSpace(inst.ModelName)
	_, ins := m.find(name, strings.TrimSpace(inst.Host), inst.Port)
	if ins == nil {
		return nil
	}
	ins.Healthy = false
	return nil
}

func (m *Memory) Heartbeat(_ context.Context, inst dbgpt.Instance) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ins := m.find(strings.TrimSpace(inst.ModelName), strings.TrimSpace(inst.Host), inst.Port)
	if ins == nil {
		m.register(inst)
		return nil
	}
	ins.LastHeartbeat = dbgpt.NewTime(Now())
	ins.Healthy = true
	return nil
}

func (m *Memory) List(_ context.Context, modelName string, healthyOnly bool) ([]dbgpt.Instance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := m.order
	if modelName != "" {
		names = []string{modelName}
	}
	out := []dbgpt.Instance{}
	for _, n := range names {
		for _, ins := range m.models[n] {
			if !healthyOnly || ins.Healthy {
				c := *ins
				c.RemoveFromRegistry = false
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func (m *Memory) Check(_ context.Context, timeout time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := Now()
	for _, n := range m.order {
		for _, ins := range m.models[n] {
			if !ins.CheckHealthy {
				continue
			}
			if ins.LastHeartbeat == nil {
				return errNoHeartbeat
			}
			if now.Sub(ins.LastHeartbeat.Time) > timeout {
				ins.Healthy = false
			}
		}
	}
	return nil
}

type pyError string

func (e pyError) Error() string { return string(e) }

var errNoHeartbeat = pyError("TypeError: unsupported operand type(s) for -: 'datetime.datetime' and 'NoneType'")
