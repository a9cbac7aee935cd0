// Command mapserver is the baseline healthcoded's lookup is measured
// against: net/http answering {"id": ...} from a plain Go map loaded from a
// demo-people.csv, with nothing else (no keying, cache, limits, metrics or
// token). It prints "mapserver listening on http://ADDR" when ready.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "mapserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	people := flag.String("people", "", "demo-people.csv (doc_number first, colour fifth)")
	flag.Parse()
	colours := map[string]string{}
	if *people != "" {
		f, err := os.Open(*people)
		if err != nil {
			return err
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return err
		}
		for _, r := range rows[1:] {
			colours[r[0]] = r[4]
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("mapserver listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: &loadgen.MapServer{Colours: colours}}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
