package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"
)

// target is what every request of a run shares: the address and the
// request head up to the Content-Length value.
type target struct {
	addr string
	head []byte // "METHOD path HTTP/1.1\r\nHost: ...\r\n<headers>"
}

func newTarget(cfg Config) (*target, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: Config.URL: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("loadgen: Config.URL: scheme %q, want http (loopback only)", u.Scheme)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	head := fmt.Appendf(nil, "%s %s HTTP/1.1\r\nHost: %s\r\n", cfg.Method, u.RequestURI(), u.Host)
	for k, vs := range cfg.Header {
		for _, v := range vs {
			head = fmt.Appendf(head, "%s: %s\r\n", k, v)
		}
	}
	return &target{addr: addr, head: head}, nil
}

// conn is one keep-alive connection, used by one worker at a time.
type conn struct {
	*target
	c   net.Conn
	r   *bufio.Reader
	req []byte
	out []byte
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c, c.r = nil, nil
	}
}

// dial connects c unless it is connected.
func (c *conn) dial(ctx context.Context) error {
	if c.c != nil {
		return nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	return nil
}

// do sends request i and reads the answer; the body it returns is valid
// until the next call. A failed exchange closes the connection, and the
// next call dials a new one.
func (c *conn) do(ctx context.Context, cfg Config, i int) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if err := c.dial(ctx); err != nil {
		return 0, nil, err
	}
	var body []byte
	if cfg.Body != nil {
		body = cfg.Body(i)
	}
	c.req = append(c.req[:0], c.head...)
	c.req = append(c.req, "Content-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if err := c.c.SetDeadline(time.Now().Add(cfg.Timeout)); err != nil {
		c.close()
		return 0, nil, err
	}
	if _, err := c.c.Write(c.req); err != nil {
		c.close()
		return 0, nil, err
	}
	st, keep, err := c.readResponse()
	if err != nil {
		c.close()
		return 0, nil, err
	}
	if !keep {
		c.close()
	}
	return st, c.out, nil
}

var errMalformed = errors.New("loadgen: malformed response")

// readResponse reads one HTTP/1.1 response into c.out and reports its
// status and whether the connection stays open.
func (c *conn) readResponse() (status int, keep bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("%w: status line %.40q", errMalformed, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("%w: status line %.40q", errMalformed, line)
	}
	length, chunked := -1, false
	keep = true
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("%w: header %.40q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("%w: Content-Length %.40q", errMalformed, value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			keep = !asciiEqualFold(value, "close")
		}
	}
	c.out = c.out[:0]
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified || status/100 == 1:
	case chunked:
		w := bytes.NewBuffer(c.out)
		if _, err := io.Copy(w, httputil.NewChunkedReader(c.r)); err != nil {
			return 0, false, err
		}
		c.out = w.Bytes()
		for { // the chunked reader stops at the last chunk: skip the trailer
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		if cap(c.out) < length {
			c.out = make([]byte, 0, length)
		}
		c.out = c.out[:length]
		if _, err := io.ReadFull(c.r, c.out); err != nil {
			return 0, false, err
		}
	default: // no length: the body runs to the end of the connection
		w := bytes.NewBuffer(c.out)
		if _, err := io.Copy(w, c.r); err != nil {
			return 0, false, err
		}
		c.out, keep = w.Bytes(), false
	}
	return status, keep, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
