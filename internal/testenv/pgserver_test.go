package testenv_test

import (
	"context"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/jackc/pgx/v5"
)

func TestPGServerRestarts(t *testing.T) {
	s := testenv.StartPGServer(t)
	ctx := context.Background()
	ping := func() error {
		c, err := pgx.Connect(ctx, s.URL())
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return c.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if ping() == nil {
		t.Fatal("connected to a stopped server")
	}
	s.Start()
	if err := ping(); err != nil {
		t.Fatal(err)
	}
}
