package serve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve runs srv on ln until ctx is done, then shuts down gracefully: it
// stops accepting, lets in-flight requests finish for up to grace, and then
// calls flush (to sync stores) with what is left of the grace period.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, flush func(context.Context) error, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	if flush != nil {
		err = errors.Join(err, flush(sctx))
	}
	return err
}
