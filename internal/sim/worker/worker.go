package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/sim/controller"
	"github.com/hactl/hactl/internal/sim/simlog"
	"github.com/hactl/hactl/internal/sim/upstream"
)

// Config is a worker's resolved settings, whichever generation gave them.
type Config struct {
	ModelName         string // registered name (model_alias wins over model_name)
	WorkerType        string // llm, text2vec, reranker
	ModelPath         string // must exist unless NoPath
	NoPath            bool   // a proxy/API model without a local path
	Host              string // bind address
	Port              int
	ControllerAddr    []string
	RegisterHost      string // empty: the machine's outbound address
	Register          bool
	SendHeartbeat     bool
	HeartbeatInterval time.Duration // model row
	PromptTemplate    *string

	LoadDelay        time.Duration // DBGPT_SIM_LOAD_DELAY
	RegisterDelay    time.Duration // port open → register, ~1 s
	ProbeInterval    time.Duration // controller health probes, 5 s
	ManagerHeartbeat time.Duration // WorkerManager@service row, 20 s
	Log              *simlog.Logger
}

// Shards is the number of "checkpoint shards" a load reports.
const Shards = 4

// ShardsProgress starts each load progress line ("... 1/4").
const ShardsProgress = "Loading checkpoint shards:"

// ErrModelPath is returned when the model path does not exist.
var ErrModelPath = errors.New("model path does not exist")

// Check validates what the real worker checks before loading.
func (c *Config) Check() error {
	if c.ModelName == "" {
		return errors.New("model_name is required")
	}
	if !c.NoPath {
		if c.ModelPath == "" {
			return fmt.Errorf("%w: model %s has no model_path", ErrModelPath, c.ModelName)
		}
		if _, err := os.Stat(c.ModelPath); err != nil {
			return fmt.Errorf("%w: %s (model %s): %v", ErrModelPath, c.ModelPath, c.ModelName, err)
		}
	}
	return nil
}

// OutboundIP is the address DB-GPT registers without worker_register_host:
// the source address of a UDP "connection" towards 10.254.254.254:1, as
// DB-GPT's _get_ip_address does (no packet is sent), else 127.0.0.1. On a
// multi-homed host this is whatever the default route picks.
func OutboundIP() string {
	conn, err := net.Dial("udp", "10.254.254.254:1")
	if err != nil {
		return "127.0.0.1"
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).IP.String()
}

// Run runs the worker until ctx ends (SIGTERM), then deregisters and returns
// nil. It returns an error when the model path is missing, the port cannot be
// opened, or registration fails.
func Run(ctx context.Context, c Config) error {
	log := c.Log
	if err := c.Check(); err != nil {
		return err
	}
	if c.RegisterHost == "" {
		c.RegisterHost = OutboundIP()
	}
	log.Infof("Begin load model, model_name: %s, worker_type: %s, model_path: %s", c.ModelName, c.WorkerType, c.ModelPath)
	// The load: progress lines as transformers prints them, spread over
	// LoadDelay; the port opens only after.
	for i := 1; i <= Shards; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.LoadDelay / Shards):
		}
		log.Raw(fmt.Sprintf("%s %d/%d", ShardsProgress, i, Shards))
	}
	log.Infof("Model %s loaded", c.ModelName)

	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Uvicorn("ERROR", "[Errno 98] error while attempting to bind on address ('%s', %d): address already in use", c.Host, c.Port)
		return fmt.Errorf("worker: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	srv := &http.Server{Handler: controller.AccessLog(log, controller.NotFound(mux))}
	go srv.Serve(ln)
	defer srv.Close()
	log.Uvicorn("INFO", "Started server process [%d]", log.Pid())
	log.Uvicorn("INFO", "Waiting for application startup.")
	log.Uvicorn("INFO", "Uvicorn running on http://%s (Press CTRL+C to quit)", addr)

	picker := upstream.New(c.ControllerAddr, c.ProbeInterval)
	pctx, stopProbes := context.WithCancel(context.Background())
	defer stopProbes()
	picker.Start(pctx)

	select {
	case <-ctx.Done():
		return nil
	case <-time.After(c.RegisterDelay):
	}

	rows := []dbgpt.Instance{
		dbgpt.NewInstance(dbgpt.JoinModelName(c.ModelName, c.WorkerType), c.RegisterHost, c.Port),
		dbgpt.NewInstance(dbgpt.WorkerManagerModelName, c.RegisterHost, c.Port),
	}
	rows[0].PromptTemplate = c.PromptTemplate
	hc := &http.Client{Timeout: 10 * time.Second}
	if c.Register {
		for _, inst := range rows {
			url := picker.Pick(ctx)
			cl := dbgpt.NewClient(hc, url)
			if err := cl.Register(ctx, inst); err != nil {
				return fmt.Errorf("worker: registering %s at %s:%d with controller %s failed: %w", inst.ModelName, inst.Host, inst.Port, url, err)
			}
			if err := cl.Heartbeat(ctx, inst); err != nil {
				return fmt.Errorf("worker: first heartbeat of %s with controller %s failed: %w", inst.ModelName, url, err)
			}
			log.Infof("Register instance %s at %s:%d to controller %s", inst.ModelName, inst.Host, inst.Port, url)
		}
		log.Uvicorn("INFO", "Application startup complete.")
		if c.SendHeartbeat {
			go beat(ctx, picker, hc, rows[0], c.HeartbeatInterval, log)
			go beat(ctx, picker, hc, rows[1], c.ManagerHeartbeat, log)
		}
	} else {
		log.Uvicorn("INFO", "Application startup complete.")
	}

	<-ctx.Done()
	log.Uvicorn("INFO", "Shutting down")
	if c.Register {
		dctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for _, inst := range rows {
			url := picker.Pick(dctx)
			if err := dbgpt.NewClient(hc, url).Deregister(dctx, inst); err != nil {
				log.Warnf("Deregister %s from %s failed: %v", inst.ModelName, url, err)
			} else {
				log.Infof("Deregister instance %s at %s:%d from controller %s", inst.ModelName, inst.Host, inst.Port, url)
			}
		}
	}
	log.Uvicorn("INFO", "Finished server process [%d]", log.Pid())
	return nil
}

func beat(ctx context.Context, p *upstream.Picker, hc *http.Client, inst dbgpt.Instance, every time.Duration, log *simlog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		url := p.Pick(ctx)
		if ctx.Err() != nil {
			return
		}
		if err := dbgpt.NewClient(hc, url).Heartbeat(ctx, inst); err != nil && ctx.Err() == nil {
			log.Warnf("Send heartbeat of %s to %s failed: %v", inst.ModelName, url, err)
		}
	}
}
