package auditexport

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/format.golden")

// parse parses one message strictly (no best effort).
func parse(t testing.TB, msg []byte) *rfc5424.SyslogMessage {
	t.Helper()
	m, err := rfc5424.NewParser().Parse(msg)
	if err != nil {
		t.Fatalf("not RFC 5424: %v\n%s", err, msg)
	}
	return m.(*rfc5424.SyslogMessage)
}

// checkMessage checks that m carries r: header, every SD parameter, and
// a MSG that starts with a BOM.
func checkMessage(t testing.TB, m *rfc5424.SyslogMessage, r *codes.AuditRecord, hostname, app, sdid string, facility int) {
	t.Helper()
	sev := 4
	if r.Outcome == "ok" {
		sev = 5
	}
	if m.Priority == nil || int(*m.Priority) != facility*8+sev {
		t.Errorf("seq %d: priority %v, want %d", r.Seq, m.Priority, facility*8+sev)
	}
	if m.Timestamp == nil || !m.Timestamp.Equal(r.At.Truncate(time.Microsecond)) {
		t.Errorf("seq %d: timestamp %v, want %v", r.Seq, m.Timestamp, r.At.Truncate(time.Microsecond))
	}
	for _, c := range []struct {
		name string
		got  *string
		want string
	}{{"hostname", m.Hostname, hostname}, {"app-name", m.Appname, app}, {"msgid", m.MsgID, r.Action}} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("seq %d: %s %v, want %q", r.Seq, c.name, c.got, c.want)
		}
	}
	if m.StructuredData == nil {
		t.Fatalf("seq %d: no structured data", r.Seq)
	}
	sd := (*m.StructuredData)[sdid]
	want := map[string]string{
		"seq": strconv.FormatUint(r.Seq, 10), "actor": r.Actor, "role": r.Role, "action": r.Action,
		"target": r.Target, "authorisation": r.Authorisation, "reason": r.Reason, "outcome": r.Outcome,
		"detail": r.Detail, "changed": strconv.Itoa(r.Changed), "client": r.Client, "node": r.Node, "hash": hex.EncodeToString(r.Hash[:]), "prev": hex.EncodeToString(r.Prev[:]),
	}
	if len(sd) != len(want) || len(*m.StructuredData) != 1 {
		t.Errorf("seq %d: structured data %v, want only %s with %d parameters", r.Seq, *m.StructuredData, sdid, len(want))
	}
	for k, v := range want {
		if sd[k] != v {
			t.Errorf("seq %d: %s=%q, want %q", r.Seq, k, sd[k], v)
		}
	}
	if m.Message == nil || !strings.HasPrefix(*m.Message, bom) {
		t.Errorf("seq %d: MSG %v does not start with a BOM", r.Seq, m.Message)
	}
}

// chained returns attempts 0..n-1 chained as a store chains them.
func chained(n int) []codes.AuditRecord {
	var tr trail
	for i := range n {
		r := attempt(i)
		tr.AppendAudit(context.Background(), []codes.AuditRecord{r})
	}
	return tr.all()
}

func TestFormatParses(t *testing.T) {
	for _, r := range chained(40) {
		msg := Format(nil, &r, "hc1.example.gov.cn", "healthcoded", 13)
		checkMessage(t, parse(t, msg), &r, "hc1.example.gov.cn", "healthcoded", DefaultSDID, 13)
	}
}

func TestFormatFields(t *testing.T) {
	base := chained(1)[0]
	base.At = time.Date(2022, 4, 1, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	for _, c := range []struct {
		name     string
		edit     func(r *codes.AuditRecord)
		host     string
		facility int
		want     []string // substrings of the message
		not      []string
	}{
		{"ok is notice", func(r *codes.AuditRecord) { r.Outcome = "ok" }, "h", 13, []string{"<109>1 "}, nil},
		{"refused is warning", func(r *codes.AuditRecord) { r.Outcome = "forbidden" }, "h", 13, []string{"<108>1 "}, nil},
		{"error is warning", func(r *codes.AuditRecord) { r.Outcome = "error" }, "h", 10, []string{"<84>1 "}, nil},
		{"timestamp in UTC with microseconds", nil, "h", 13, []string{" 2022-04-01T00:00:00.123456Z "}, nil},
		{"escapes", func(r *codes.AuditRecord) { r.Reason = `a"b\c]d` }, "h", 13, []string{`reason="a\"b\\c\]d"`}, nil},
		{"control characters are spaces", func(r *codes.AuditRecord) { r.Reason = "line1\nline2\x00\x7f\u0085" }, "h", 13,
			[]string{`reason="line1 line2   "`}, []string{"\n", "\x00"}},
		{"invalid UTF-8", func(r *codes.AuditRecord) { r.Reason = "a\xffb" }, "h", 13, []string{"reason=\"a\uFFFDb\""}, nil},
		{"empty header fields", func(r *codes.AuditRecord) { r.Action = "" }, "", 13, []string{"Z - healthcoded - - [audit@32473 "}, nil},
		{"header fields are printable ASCII", func(r *codes.AuditRecord) { r.Action = "sign in" }, "h ost", 13, []string{" h_ost healthcoded - sign_in ["}, nil},
		{"MSGID is cut to 32", func(r *codes.AuditRecord) { r.Action = strings.Repeat("a", 40) }, "h", 13, []string{" - " + strings.Repeat("a", 32) + " ["}, nil},
		{"unauthenticated", func(r *codes.AuditRecord) { r.Actor, r.Role, r.Outcome = "", "", "unauthenticated" },
			"h", 13, []string{bom + "transcode of ", "by an unauthenticated client: unauthenticated"}, nil},
		{"MSG after a BOM", func(r *codes.AuditRecord) { r.Outcome = "ok" }, "h", 13, []string{"] " + bom + "transcode of " + base.Target + " by op000 as admin: ok"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := base
			if c.edit != nil {
				c.edit(&r)
			}
			msg := string(Format([]byte("keep:"), &r, c.host, "healthcoded", c.facility))
			if !strings.HasPrefix(msg, "keep:<") {
				t.Fatalf("Format does not append: %q", msg)
			}
			msg = strings.TrimPrefix(msg, "keep:")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q\nlacks %q", msg, w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(msg, w) {
					t.Errorf("%q\nholds %q", msg, w)
				}
			}
			if !utf8.ValidString(msg) {
				t.Errorf("not UTF-8: %q", msg)
			}
			if _, err := rfc5424.NewParser().Parse([]byte(msg)); err != nil && r.Action != "" {
				t.Errorf("does not parse: %v\n%q", err, msg)
			}
		})
	}
}

// TestFormatGolden compares whole messages with testdata/format.golden,
// one per line (the BOM is in the file); -rewrite rewrites it.
func TestFormatGolden(t *testing.T) {
	var b []byte
	for _, r := range chained(6) {
		b = Format(b, &r, "hc1.example.gov.cn", "healthcoded", 13)
		b = append(b, '\n')
	}
	path := filepath.Join("testdata", "format.golden")
	if *rewrite {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("messages differ from %s (go test -run Golden -rewrite, and review the diff):\n%s", path, b)
	}
}

// TestFormatCut checks messages bounded by a transport against an oracle:
// random records, some far too long, must fit, parse strictly, keep seq,
// hash and prev, and hold each text field whole or, when the truncated
// parameter names it, a prefix of it.
func TestFormatCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 5424))
	alphabet := []string{"a", "Z", "9", " ", `"`, `\`, "]", "=", "复", "核", "é", "\n"}
	text := func() string {
		n := rng.IntN(4)
		if n == 3 {
			n = 1024
		} else {
			n *= 20
		}
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	recs := chained(1)
	cuts := 0
	for i := range 500 {
		r := recs[0]
		r.Seq = rng.Uint64()
		r.Actor, r.Role, r.Target, r.Authorisation, r.Reason, r.Client, r.Node = text(), text(), text(), text(), text(), text(), text()
		limit := []int{1024, 2048, 8192}[i%3]
		f := formatter{hostname: strings.Repeat("h", 255), app: strings.Repeat("a", 48), sdid: DefaultSDID, facility: 13, max: limit}
		msg := f.append(nil, &r)
		if len(msg) > limit {
			t.Fatalf("%d bytes, limit %d: %q", len(msg), limit, msg)
		}
		m := parse(t, msg)
		sd := (*m.StructuredData)[DefaultSDID]
		if sd["seq"] != strconv.FormatUint(r.Seq, 10) || sd["hash"] != hex.EncodeToString(r.Hash[:]) || sd["prev"] != hex.EncodeToString(r.Prev[:]) {
			t.Fatalf("seq or hashes changed: %v", sd)
		}
		cut := map[string]bool{}
		if sd["truncated"] != "" {
			cuts++
			for _, name := range strings.Split(sd["truncated"], ",") {
				cut[name] = true
			}
		}
		for i, v := range textParams(&r) {
			name := paramNames[i]
			v = strings.ReplaceAll(v, "\n", " ")
			if cut[name] && !strings.HasPrefix(v, sd[name]) || !cut[name] && sd[name] != v {
				t.Fatalf("%s=%q, from %q (cut %v)", name, sd[name], v, cut[name])
			}
		}
	}
	if cuts < 100 || cuts > 400 {
		t.Errorf("%d of 500 messages cut: the generator no longer tests both cases", cuts)
	}
}
