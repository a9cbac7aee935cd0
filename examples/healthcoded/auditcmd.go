package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/healthcode-sdk/healthcode/codes"
)

// errAuditBroken is returned by `healthcoded audit verify` when the trail
// does not verify; the message names the first broken record.
var errAuditBroken = errors.New("audit trail does not verify")

// runAudit is `healthcoded audit verify`: it reads the whole audit trail
// of a store (the embedded file in -data, or -store) and verifies its hash
// chain, naming the first broken record. Exit status 0: it verifies; 1: it
// does not, or the store could not be read.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: healthcoded audit verify [-data DIR | -store URL]")
		return errors.New("audit: want the verify command")
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("healthcoded audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory of the embedded store (stop the server first: the file is locked while it runs)")
	fs.StringVar(&cfg.Store, "store", os.Getenv("HEALTHCODE_STORE"), "a shared store's URL instead (default $HEALTHCODE_STORE)")
	fs.DurationVar(&cfg.StoreTimeout, "store-timeout", cfg.StoreTimeout, "longest a database statement may take")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit verify: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Store == "" {
		if _, err := os.Stat(cfg.DataDir); err != nil {
			return fmt.Errorf("audit verify: -data: %w", err)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	defer st.Close()
	n, err := codes.VerifyAudit(ctx, st)
	if ce := (*codes.AuditChainError)(nil); errors.As(err, &ce) {
		fmt.Fprintf(stdout, "BROKEN at record %d: %s (%d records before it verify)\n", ce.Seq, ce.Reason, n)
		return fmt.Errorf("%w: first broken record %d: %s", errAuditBroken, ce.Seq, ce.Reason)
	}
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(stdout, "audit trail verified: %d records\n", n)
	return nil
}
