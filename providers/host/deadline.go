package host

import (
	"net"
	"os"
	"sync"
	"time"
)

// deadlineConn adds deadlines to an SSH direct-tcpip channel, which has
// none ("tcpChan: deadline not supported"): when a deadline passes the
// channel is closed and reads and writes fail with os.ErrDeadlineExceeded.
// Clients such as the MySQL driver treat that as a dead connection anyway.
type deadlineConn struct {
	net.Conn
	mu      sync.Mutex
	timer   *time.Timer
	expired bool
}

func (c *deadlineConn) set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.expired || t.IsZero() {
		return nil
	}
	d := time.Until(t)
	if d <= 0 {
		c.expired = true
		return c.Conn.Close()
	}
	c.timer = time.AfterFunc(d, func() {
		c.mu.Lock()
		c.expired = true
		c.mu.Unlock()
		_ = c.Conn.Close()
	})
	return nil
}

func (c *deadlineConn) SetDeadline(t time.Time) error      { return c.set(t) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error  { return c.set(t) }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error { return c.set(t) }

func (c *deadlineConn) wrap(err error) error {
	if err == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expired {
		return os.ErrDeadlineExceeded
	}
	return err
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	return n, c.wrap(err)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	return n, c.wrap(err)
}

func (c *deadlineConn) Close() error {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}
