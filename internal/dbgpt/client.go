package dbgpt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to one model controller's HTTP API. The caller decides how the
// controller is reached through the *http.Client it hands in.
type Client struct {
	HTTP    *http.Client
	BaseURL string // e.g. "http://server1:8000"
}

// NewClient returns a client of the controller at baseURL; a nil hc means
// http.DefaultClient.
func NewClient(hc *http.Client, baseURL string) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{HTTP: hc, BaseURL: strings.TrimRight(baseURL, "/")}
}

// StatusError is an answer other than 200. A controller whose registry table
// is missing answers 500 "Internal Server Error" to every registry call while
// /api/health still says ok; a malformed request gets 422 with a FastAPI
// "detail" list.
type StatusError struct {
	Method     string
	URL        string
	StatusCode int
	Body       string // first 512 bytes
}

func (e *StatusError) Error() string {
	body := strings.TrimSpace(e.Body)
	if body == "" {
		body = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.StatusCode, body)
}

// HTTPStatus returns the status code of a *StatusError in err's chain, or 0
// when the controller did not answer with a status (unreachable, timeout,
// unreadable body).
func HTTPStatus(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// Health calls GET /api/health and expects {"status":"ok"}. It does not
// touch the registry database: a controller with a missing table passes.
func (c *Client) Health(ctx context.Context) error {
	var got struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/health", nil, nil, &got); err != nil {
		return err
	}
	if got.Status != "ok" {
		return fmt.Errorf("GET %s/api/health: status %q, want \"ok\"", c.BaseURL, got.Status)
	}
	return nil
}

// ListModels calls GET /api/controller/models. An empty modelName lists every
// model. This call reads the registry database, so it is the real health
// check of a controller.
func (c *Client) ListModels(ctx context.Context, modelName string, healthyOnly bool) ([]Instance, error) {
	q := url.Values{}
	if modelName != "" {
		q.Set("model_name", modelName)
	}
	q.Set("healthy_only", strconv.FormatBool(healthyOnly))
	var out []Instance
	if err := c.do(ctx, http.MethodGet, "/api/controller/models", q, nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Instance{}
	}
	return out, nil
}

// Register calls POST /api/controller/models with the instance JSON.
func (c *Client) Register(ctx context.Context, inst Instance) error {
	return c.expectTrue(ctx, http.MethodPost, "/api/controller/models", nil, &inst)
}

// Heartbeat calls POST /api/controller/heartbeat with the instance JSON; the
// controller registers an instance it does not know.
func (c *Client) Heartbeat(ctx context.Context, inst Instance) error {
	return c.expectTrue(ctx, http.MethodPost, "/api/controller/heartbeat", nil, &inst)
}

// Deregister calls DELETE /api/controller/models with the instance as query
// parameters, as DB-GPT's own client does. The controller marks the row
// unhealthy and deletes it only when inst.RemoveFromRegistry is set.
func (c *Client) Deregister(ctx context.Context, inst Instance) error {
	return c.expectTrue(ctx, http.MethodDelete, "/api/controller/models", InstanceQuery(inst), nil)
}

// InstanceQuery renders an instance as the query parameters DB-GPT's client
// sends with DELETE; null fields are left out.
func InstanceQuery(inst Instance) url.Values {
	q := url.Values{}
	q.Set("model_name", inst.ModelName)
	q.Set("host", inst.Host)
	q.Set("port", strconv.Itoa(inst.Port))
	q.Set("weight", strconv.FormatFloat(inst.Weight, 'f', -1, 64))
	q.Set("check_healthy", strconv.FormatBool(inst.CheckHealthy))
	q.Set("healthy", strconv.FormatBool(inst.Healthy))
	q.Set("enabled", strconv.FormatBool(inst.Enabled))
	if inst.PromptTemplate != nil {
		q.Set("prompt_template", *inst.PromptTemplate)
	}
	if inst.LastHeartbeat != nil {
		q.Set("last_heartbeat", inst.LastHeartbeat.String())
	}
	q.Set("remove_from_registry", strconv.FormatBool(inst.RemoveFromRegistry))
	return q
}

func (c *Client) expectTrue(ctx context.Context, method, path string, q url.Values, body any) error {
	var ok bool
	if err := c.do(ctx, method, path, q, body, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s %s%s: controller answered false", method, c.BaseURL, path)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, u, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err // already names method and URL
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", method, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		if len(data) > 512 {
			data = data[:512]
		}
		return &StatusError{Method: method, URL: u, StatusCode: resp.StatusCode, Body: string(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer %.200q: %w", method, u, data, err)
	}
	return nil
}
