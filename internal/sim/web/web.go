package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/sim/controller"
	"github.com/hactl/hactl/internal/sim/registry"
	"github.com/hactl/hactl/internal/sim/simlog"
	"github.com/hactl/hactl/internal/sim/upstream"
)

// WebConfig is the webserver's resolved settings.
type WebConfig struct {
	Host           string
	Port           int
	Light          bool
	ControllerAddr []string
	ProbeInterval  time.Duration
	Log            *simlog.Logger
	// Meta is the webserver's metadata database; nil: no chat-history routes.
	Meta *MetaDB
}

// APIConfig is the API server's resolved settings.
type APIConfig struct {
	Host           string
	Port           int
	ControllerAddr []string
	APIKeys        []string
	ProbeInterval  time.Duration
	Log            *simlog.Logger
}

// Serve listens on host:port and serves h until ctx ends.
func Serve(ctx context.Context, log *simlog.Logger, host string, port int, h http.Handler) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Uvicorn("ERROR", "[Errno 98] error while attempting to bind on address ('%s', %d): address already in use", host, port)
		return fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: controller.AccessLog(log, h)}
	log.Uvicorn("INFO", "Started server process [%d]", log.Pid())
	log.Uvicorn("INFO", "Waiting for application startup.")
	log.Uvicorn("INFO", "Application startup complete.")
	log.Uvicorn("INFO", "Uvicorn running on http://%s (Press CTRL+C to quit)", addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Uvicorn("INFO", "Shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		log.Uvicorn("INFO", "Finished server process [%d]", log.Pid())
		return nil
	case err := <-errc:
		return err
	}
}

// RunWebserver runs the webserver until ctx ends.
func RunWebserver(ctx context.Context, c WebConfig) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/health", controller.Health)
	if c.Meta != nil {
		registerDialogue(mux, c.Meta, c.Log)
	}
	if c.Light {
		p := upstream.New(c.ControllerAddr, c.ProbeInterval)
		p.Start(ctx)
		c.Log.Infof("Light mode: using remote controllers %s", strings.Join(c.ControllerAddr, ","))
		mux.HandleFunc("/api/controller/models", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				controller.MethodNotAllowed(w)
				return
			}
			forward(w, r, p.Pick(r.Context()), c.Log)
		})
	} else {
		api := &controller.API{Reg: registry.NewMemory(), Log: c.Log}
		m := http.NewServeMux()
		api.Register(m)
		mux.Handle("/api/controller/", m)
	}
	return Serve(ctx, c.Log, c.Host, c.Port, controller.NotFound(mux))
}

// Failed writes the webserver's error answer: HTTP 400 with DB-GPT's Result
// shape. E0001: the request failed validation; E0003: anything else (e.g.
// the controller is down).
func Failed(w http.ResponseWriter, code, msg string) {
	controller.WriteJSON(w, http.StatusBadRequest, struct {
		Success bool   `json:"success"`
		ErrCode string `json:"err_code"`
		ErrMsg  string `json:"err_msg"`
		Data    any    `json:"data"`
	}{false, code, msg, nil})
}

func forward(w http.ResponseWriter, r *http.Request, base string, log *simlog.Logger) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+r.URL.RequestURI(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Errorf("Request to controller %s failed: %v", base, err)
		Failed(w, "E0003", fmt.Sprintf("Cannot connect to host %s ssl:default [Connect call failed]", strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")))
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnprocessableEntity:
		Failed(w, "E0001", validationMessage(body))
		return
	case resp.StatusCode != http.StatusOK:
		log.Errorf("Request to controller %s: HTTP %d", base, resp.StatusCode)
		Failed(w, "E0003", fmt.Sprintf("%d, message='%s', url='%s'", resp.StatusCode, http.StatusText(resp.StatusCode), req.URL))
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// validationMessage turns FastAPI's 422 detail into the one-line message of
// DB-GPT's validation handler: "loc: msg" for each error.
func validationMessage(body []byte) string {
	var d struct {
		Detail []struct {
			Loc []any  `json:"loc"`
			Msg string `json:"msg"`
		} `json:"detail"`
	}
	if json.Unmarshal(body, &d) != nil || len(d.Detail) == 0 {
		return "request validation failed"
	}
	var parts []string
	for _, e := range d.Detail {
		loc := make([]string, len(e.Loc))
		for i, l := range e.Loc {
			loc[i] = fmt.Sprint(l)
		}
		parts = append(parts, strings.Join(loc, ".")+": "+e.Msg)
	}
	return strings.Join(parts, "; ")
}

// RunAPIServer runs the API server until ctx ends.
func RunAPIServer(ctx context.Context, c APIConfig) error {
	p := upstream.New(c.ControllerAddr, c.ProbeInterval)
	p.Start(ctx)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/models", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			controller.MethodNotAllowed(w)
			return
		}
		if !authorized(r, c.APIKeys) {
			controller.WriteJSON(w, http.StatusUnauthorized, map[string]any{"detail": map[string]any{"error": map[string]any{
				"message": "", "type": "invalid_request_error", "param": nil, "code": "invalid_api_key"}}})
			return
		}
		base := p.Pick(r.Context())
		list, err := dbgpt.NewClient(&http.Client{Timeout: 30 * time.Second}, base).ListModels(r.Context(), "", true)
		if err != nil {
			c.Log.Errorf("List models from controller %s failed: %v", base, err)
			controller.InternalServerError(w)
			return
		}
		controller.WriteJSON(w, http.StatusOK, ModelList(list, time.Now()))
	})
	return Serve(ctx, c.Log, c.Host, c.Port, controller.NotFound(mux))
}

func authorized(r *http.Request, keys []string) bool {
	if len(keys) == 0 {
		return true
	}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	for _, k := range keys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(tok)) == 1 {
			return true
		}
	}
	return false
}

// ModelList is the OpenAI-style answer of GET /api/v1/models: one card per
// distinct healthy llm model, sorted by name as DB-GPT's API server does.
func ModelList(list []dbgpt.Instance, now time.Time) map[string]any {
	seen := map[string]bool{}
	var names []string
	for _, i := range list {
		name, typ := i.Split()
		if typ != "llm" || !i.Healthy || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	data := []map[string]any{}
	for _, name := range names {
		data = append(data, map[string]any{
			"id": name, "object": "model", "created": now.Unix(), "owned_by": "DB-GPT",
			"root": name, "parent": nil,
			"permission": []map[string]any{{
				"id": "modelperm-" + name, "object": "model_permission", "created": now.Unix(),
				"allow_create_engine": false, "allow_sampling": true, "allow_logprobs": true,
				"allow_search_indices": true, "allow_view": true, "allow_fine_tuning": false,
				"organization": "*", "group": nil, "is_blocking": false,
			}},
		})
	}
	return map[string]any{"object": "list", "data": data}
}
