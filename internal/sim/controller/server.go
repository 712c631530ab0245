package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/internal/sim/registry"
	"github.com/hactl/hactl/internal/sim/simlog"
)

// API answers the controller's routes over a registry.
type API struct {
	Reg registry.Registry
	Log *simlog.Logger
	// Where names the registry in tracebacks, e.g. the storage module.
	Where string
}

// Register adds the controller routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("/api/health", Health)
	mux.HandleFunc("/api/controller/models", a.models)
	mux.HandleFunc("/api/controller/heartbeat", a.heartbeat)
}

// Handler is the whole controller application (the caller adds AccessLog).
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	a.Register(mux)
	return NotFound(mux)
}

// Health answers GET /api/health with {"status":"ok"} (static).
func Health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		MethodNotAllowed(w)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) models(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		a.withBody(w, r, a.Reg.Register)
	case http.MethodGet:
		var errs []fieldError
		q := r.URL.Query()
		name, _ := query(q, "model_name", kOptStr, false, &errs)
		healthy, _ := query(q, "healthy_only", kOptBool, false, &errs)
		if len(errs) > 0 {
			Unprocessable(w, errs)
			return
		}
		n, _ := name.(string)
		h, _ := healthy.(bool)
		list, err := a.Reg.List(r.Context(), n, h)
		if err != nil {
			a.serverError(w, err)
			return
		}
		WriteInstances(w, list)
	case http.MethodDelete:
		var errs []fieldError
		q := r.URL.Query()
		name, _ := query(q, "model_name", kStr, true, &errs)
		host, _ := query(q, "host", kStr, true, &errs)
		port, _ := query(q, "port", kInt, true, &errs)
		if len(errs) > 0 {
			Unprocessable(w, errs)
			return
		}
		// 0.6.3 has no remove_from_registry parameter: one that is sent is
		// ignored (FastAPI drops unknown query parameters); the row stays.
		inst := dbgpt.NewInstance(name.(string), host.(string), port.(int))
		if err := a.Reg.Deregister(r.Context(), inst); err != nil {
			a.serverError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, true)
	default:
		MethodNotAllowed(w)
	}
}

func (a *API) heartbeat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		MethodNotAllowed(w)
		return
	}
	a.withBody(w, r, a.Reg.Heartbeat)
}

func (a *API) withBody(w http.ResponseWriter, r *http.Request, op func(context.Context, dbgpt.Instance) error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	inst, errs := decodeInstance(body)
	if len(errs) > 0 {
		Unprocessable(w, errs)
		return
	}
	if err := op(r.Context(), inst); err != nil {
		a.serverError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, true)
}

func (a *API) serverError(w http.ResponseWriter, err error) {
	where := a.Where
	if where == "" {
		where = "dbgpt/model/cluster/registry_impl/storage.py"
	}
	a.Log.Uvicorn("ERROR", "Exception in ASGI application\nTraceback (most recent call last):\n  File %q\n%s", where, pyException(err))
	InternalServerError(w)
}

// pyException renders a Go database error like SQLAlchemy's exception line.
func pyException(err error) string {
	s := err.Error()
	switch {
	case strings.HasPrefix(s, "TypeError"):
		return s
	case dbgpt.IsTableMissing(err):
		return "sqlalchemy.exc.ProgrammingError: (pymysql.err.ProgrammingError) " + s
	default:
		return "sqlalchemy.exc.OperationalError: " + s
	}
}

// CheckerDied logs the death of the heartbeat checker thread as Python does.
func CheckerDied(log *simlog.Logger, err error) {
	log.Raw("Exception in thread Thread-1 (_heartbeat_checker):\nTraceback (most recent call last):\n" +
		"  File \"dbgpt/model/cluster/registry.py\", in _heartbeat_checker\n" + pyException(err))
}

// Unprocessable writes FastAPI's 422 answer.
func Unprocessable(w http.ResponseWriter, errs []fieldError) {
	WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": errs})
}

// InternalServerError writes Starlette's plain 500 answer.
func InternalServerError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "Internal Server Error")
}

// MethodNotAllowed writes FastAPI's 405 answer.
func MethodNotAllowed(w http.ResponseWriter) {
	WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "Method Not Allowed"})
}

// NotFound answers FastAPI's {"detail":"Not Found"} for paths mux lacks.
func NotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// WriteJSON writes v compactly, as Starlette's JSONResponse does.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	b := bytes.TrimRight(buf.Bytes(), "\n")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// pyInstance is an instance as FastAPI encodes the dataclass: weight as a
// Python float (1.0, not 1).
type pyInstance struct {
	ModelName      string      `json:"model_name"`
	Host           string      `json:"host"`
	Port           int         `json:"port"`
	Weight         pyFloat     `json:"weight"`
	CheckHealthy   bool        `json:"check_healthy"`
	Healthy        bool        `json:"healthy"`
	Enabled        bool        `json:"enabled"`
	PromptTemplate *string     `json:"prompt_template"`
	LastHeartbeat  *dbgpt.Time `json:"last_heartbeat"`
}

type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return []byte(s), nil
}

// WriteInstances writes a list answer.
func WriteInstances(w http.ResponseWriter, list []dbgpt.Instance) {
	out := make([]pyInstance, 0, len(list))
	for _, i := range list {
		out = append(out, pyInstance{i.ModelName, i.Host, i.Port, pyFloat(i.Weight), i.CheckHealthy, i.Healthy, i.Enabled, i.PromptTemplate, i.LastHeartbeat})
	}
	WriteJSON(w, http.StatusOK, out)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// AccessLog writes uvicorn's access line for every request.
func AccessLog(log *simlog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		log.Uvicorn("INFO", "%s - \"%s %s HTTP/%d.%d\" %d %s", r.RemoteAddr, r.Method, r.URL.RequestURI(),
			r.ProtoMajor, r.ProtoMinor, rec.status, http.StatusText(rec.status))
	})
}
