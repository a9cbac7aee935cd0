package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/healthcode-sdk/healthcode/examples/internal/serve"
)

// adminRoles are the roles the admin routes require (Routes).
var adminRoles = []string{"transcoder", "auditor", "rules-admin"}

// runToken is `healthcoded token`: it makes an admin token, adds its
// SHA-256 to a token file and prints the token, once, on stdout.
func runToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcoded token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: healthcoded token -file FILE -actor NAME -roles ROLE[,ROLE]\n\n"+
			"Makes a random admin token, adds its SHA-256 to FILE (created with mode 0600 if absent)\n"+
			"and prints the token on stdout, once: the file never holds it. Roles: %s.\n\n", strings.Join(adminRoles, ", "))
		fs.PrintDefaults()
	}
	file := fs.String("file", "", "token file to add to (healthcoded -tokens FILE)")
	actor := fs.String("actor", "", "who holds the token, as the audit log names them")
	roles := fs.String("roles", "", "comma-separated roles: "+strings.Join(adminRoles, ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected arguments %q", fs.Args())
	}
	if *file == "" {
		return errors.New("token: -file is required")
	}
	var rs []string
	if *roles != "" {
		rs = strings.Split(*roles, ",")
	}
	token, err := addToken(*file, *actor, rs, rand.Reader)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "healthcoded: added %s (%s) to %s; keep the token printed on stdout: it is shown this once, and the file holds only its SHA-256\n",
		*actor, strings.Join(rs, ", "), *file)
	return nil
}

// addToken makes a token of 32 bytes from random (base64url, 43
// characters), adds an entry for actor with roles and the token's SHA-256
// to the token file at path, and returns the token. The file is created
// with mode 0600 if absent; an existing one must pass the same checks as
// at start (mode, syntax) and is replaced whole, by rename, so a crash
// leaves the old file or the new one. On error the file is unchanged.
func addToken(path, actor string, roles []string, random io.Reader) (string, error) {
	if actor == "" || strings.TrimSpace(actor) != actor || strings.ContainsAny(actor, " \t\r\n") {
		return "", fmt.Errorf("token: -actor %q: want a name without spaces", actor)
	}
	if len(roles) == 0 {
		return "", fmt.Errorf("token: -roles is empty: want some of %s", strings.Join(adminRoles, ", "))
	}
	for _, r := range roles {
		if !slices.Contains(adminRoles, r) {
			return "", fmt.Errorf("token: -roles: unknown role %q: want some of %s", r, strings.Join(adminRoles, ", "))
		}
	}

	var f serve.TokenFile
	switch b, err := readTokenFile(path); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("token: %w", err)
	default:
		if _, err := serve.LoadTokens(bytes.NewReader(b)); err != nil {
			return "", fmt.Errorf("token: %s: %w", path, err)
		}
		if err := json.Unmarshal(b, &f); err != nil {
			return "", fmt.Errorf("token: %s: %w", path, err)
		}
	}

	raw := make([]byte, 32)
	if _, err := io.ReadFull(random, raw); err != nil {
		return "", fmt.Errorf("token: random: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	f.Tokens = append(f.Tokens, serve.TokenEntry{Actor: actor, Roles: roles, TokenSHA256: serve.HashToken(token)})

	// One entry a line, as demo-tokens.json.
	var b bytes.Buffer
	b.WriteString("{\"tokens\": [\n")
	for i, e := range f.Tokens {
		line, err := json.Marshal(e)
		if err != nil {
			return "", err
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(f.Tokens)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	if _, err := serve.LoadTokens(bytes.NewReader(b.Bytes())); err != nil {
		return "", fmt.Errorf("token: %w", err) // a duplicate token: 2^-256
	}
	if err := writeFileAtomic(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return token, nil
}

// writeFileAtomic writes b to path with mode 0600 through a temporary file
// in the same directory, synced and renamed over path.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
