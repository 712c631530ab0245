package health

import (
	"context"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
)

// A listing of a controller's registry rows, shared by the checks that
// allow it (ShareSince): many workers waiting at once read one request's
// answer instead of sending one each.
type listing struct {
	began time.Time
	done  chan struct{}
	rows  []dbgpt.Instance
	err   error
}

type shareKey struct{}

// ShareSince returns a context under which a check may use a controller's
// listing of its registry rows fetched by another check, provided that
// listing's request began at or after t: as fresh as the caller asked for,
// fetched once for every caller of the same instant. Without it every
// check sends its own request.
func ShareSince(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, shareKey{}, t)
}

// listModels is dbgpt's ListModels of every row through the controller at
// url, shared as ShareSince allows. A shared request runs to its end
// (bounded by the client's timeout) even when the caller that started it
// gives up, as others may be waiting for it; the rows are read-only.
func (cl *Client) listModels(ctx context.Context, url string) ([]dbgpt.Instance, error) {
	fetch := func(ctx context.Context) ([]dbgpt.Instance, error) {
		return dbgpt.NewClient(cl.HTTP, url).ListModels(ctx, "", false)
	}
	since, ok := ctx.Value(shareKey{}).(time.Time)
	if !ok {
		return fetch(ctx)
	}
	cl.mu.Lock()
	l := cl.listings[url]
	if l == nil || l.began.Before(since) {
		l = &listing{began: time.Now(), done: make(chan struct{})}
		if cl.listings == nil {
			cl.listings = map[string]*listing{}
		}
		cl.listings[url] = l
		cl.mu.Unlock()
		go func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cl.HTTP.Timeout)
			defer cancel()
			l.rows, l.err = fetch(fctx)
			close(l.done)
		}()
	} else {
		cl.mu.Unlock()
	}
	select {
	case <-l.done:
		return l.rows, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
