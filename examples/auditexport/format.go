package auditexport

import (
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/healthcode-sdk/healthcode/codes"
)

// DefaultSDID is the SD-ID of the structured data element, under 32473,
// the private enterprise number RFC 5612 reserves for documentation. A
// deployment should use its own number (Config.SDID).
const DefaultSDID = "audit@32473"

// Severities of RFC 5424 the messages carry.
const (
	severityWarning = 4 // an attempt refused, or that failed
	severityNotice  = 5 // an attempt that succeeded (Outcome "ok")
)

// bom starts MSG-UTF8 (RFC 5424 6.4).
const bom = "\xEF\xBB\xBF"

// Format appends to b one RFC 5424 message for r, without any transport
// framing, with the SD-ID DefaultSDID and no length limit:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [audit@32473 seq=".." ...] BOM MSG
//
// PRI is facility*8 plus severity 5 (notice) when r.Outcome is "ok" and 4
// (warning) otherwise; TIMESTAMP is r.At in UTC with microseconds; MSGID is
// r.Action. The structured data carries every field of r, the hashes in
// hex; MSG is a short line for people. hostname, app and the MSGID keep
// only printable US-ASCII (others become '_') and are cut to the lengths
// RFC 5424 allows; "" is written as "-". Control characters in the values
// become spaces and invalid UTF-8 becomes U+FFFD, so a message is always
// one line. Format is a pure function.
func Format(b []byte, r *codes.AuditRecord, hostname, app string, facility int) []byte {
	f := formatter{hostname: hostname, app: app, sdid: DefaultSDID, facility: facility}
	return f.append(b, r)
}

// formatter holds what Format takes besides the record, and the length a
// transport allows (0: no limit).
type formatter struct {
	hostname, app, sdid string
	facility            int
	max                 int
}

// The SD parameters carrying text fields, in the order they are written,
// and the order in which a message too long for its transport cuts them:
// free text first, the action and the outcome last. seq, hash and prev are
// never cut.
var (
	paramNames = [...]string{"actor", "role", "action", "target", "authorisation", "reason", "outcome", "detail", "client", "node"}
	cutOrder   = [...]int{5, 7, 4, 8, 0, 3, 9, 1, 2, 6}
)

// truncatedReserve is room for the longest truncated="..." parameter.
const truncatedReserve = len(` truncated="actor,role,action,target,authorisation,reason,outcome,detail,client,node"`)

func textParams(r *codes.AuditRecord) [len(paramNames)]string {
	return [...]string{r.Actor, r.Role, r.Action, r.Target, r.Authorisation, r.Reason, r.Outcome, r.Detail, r.Client, r.Node}
}

// append appends the message for r; with f.max set, it drops MSG and then
// cuts text parameters (naming them in a truncated parameter) until the
// message fits. A message that cannot fit even so is written whole.
func (f *formatter) append(b []byte, r *codes.AuditRecord) []byte {
	start := len(b)
	var vals [len(paramNames)]string
	for i, s := range textParams(r) {
		vals[i] = escapeValue(s)
	}
	b = f.appendMessage(b, r, &vals, 0, true)
	if f.max <= 0 || len(b)-start <= f.max {
		return b
	}
	b = f.appendMessage(b[:start], r, &vals, 0, false)
	if len(b)-start <= f.max {
		return b
	}
	excess := len(b) - start - f.max + truncatedReserve
	var cut uint
	for _, i := range cutOrder {
		if excess <= 0 {
			break
		}
		n := len(vals[i])
		if n == 0 {
			continue
		}
		keep := cutEscaped(vals[i], max(n-excess, 0))
		excess -= n - keep
		vals[i] = vals[i][:keep]
		cut |= 1 << i
	}
	return f.appendMessage(b[:start], r, &vals, cut, false)
}

func (f *formatter) appendMessage(b []byte, r *codes.AuditRecord, vals *[len(paramNames)]string, cut uint, withMsg bool) []byte {
	sev := severityWarning
	if r.Outcome == "ok" {
		sev = severityNotice
	}
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(f.facility*8+sev), 10)
	b = append(b, ">1 "...)
	if r.At.IsZero() {
		b = append(b, '-')
	} else {
		b = r.At.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	b = append(b, ' ')
	b = appendHeaderField(b, f.hostname, 255)
	b = append(b, ' ')
	b = appendHeaderField(b, f.app, 48)
	b = append(b, " - "...)
	b = appendHeaderField(b, r.Action, 32)
	b = append(b, " ["...)
	b = append(b, f.sdid...)
	b = append(b, ` seq="`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, '"')
	for i, v := range vals {
		b = append(b, ' ')
		b = append(b, paramNames[i]...)
		b = append(b, `="`...)
		b = append(b, v...)
		b = append(b, '"')
	}
	b = append(b, ` changed="`...)
	b = strconv.AppendInt(b, int64(r.Changed), 10)
	b = append(b, `" hash="`...)
	b = hex.AppendEncode(b, r.Hash[:])
	b = append(b, `" prev="`...)
	b = hex.AppendEncode(b, r.Prev[:])
	b = append(b, '"')
	if cut != 0 {
		b = append(b, ` truncated="`...)
		sep := false
		for i, name := range paramNames {
			if cut&(1<<i) != 0 {
				if sep {
					b = append(b, ',')
				}
				b = append(b, name...)
				sep = true
			}
		}
		b = append(b, '"')
	}
	b = append(b, ']')
	if withMsg {
		b = append(b, ' ')
		b = append(b, bom...)
		b = appendSummary(b, r)
	}
	return b
}

// appendSummary appends the human line of MSG: what was attempted, on
// what, by whom, and how it ended. Reasons and authorisations stay in the
// structured data only.
func appendSummary(b []byte, r *codes.AuditRecord) []byte {
	b = appendText(b, r.Action)
	if r.Target != "" {
		b = append(b, " of "...)
		b = appendText(b, r.Target)
	}
	b = append(b, " by "...)
	if r.Actor == "" {
		b = append(b, "an unauthenticated client"...)
	} else {
		b = appendText(b, r.Actor)
	}
	if r.Role != "" {
		b = append(b, " as "...)
		b = appendText(b, r.Role)
	}
	b = append(b, ": "...)
	if r.Outcome == "" {
		return append(b, "no outcome"...)
	}
	return appendText(b, r.Outcome)
}

// appendHeaderField appends s as a header field of at most max characters
// of printable US-ASCII (RFC 5424 6.2), "-" when empty.
func appendHeaderField(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s) && i < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// appendText appends s as UTF-8 on one line: control characters become
// spaces, invalid bytes U+FFFD.
func appendText(b []byte, s string) []byte {
	for _, c := range s {
		if isControl(c) {
			c = ' '
		}
		b = utf8.AppendRune(b, c)
	}
	return b
}

// escapeValue returns s as a PARAM-VALUE (RFC 5424 6.3.3): '"', '\' and
// ']' escaped with a backslash, on one line like appendText.
func escapeValue(s string) string {
	clean := true
	for _, c := range s {
		if c == '"' || c == '\\' || c == ']' || c == utf8.RuneError || isControl(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for _, c := range s {
		switch {
		case c == '"' || c == '\\' || c == ']':
			b = append(b, '\\', byte(c))
		case isControl(c):
			b = append(b, ' ')
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return string(b)
}

// isControl reports the C0 and C1 control characters and DEL.
func isControl(c rune) bool { return c < 0x20 || (c >= 0x7f && c < 0xa0) }

// cutEscaped returns the length, at most n, of the longest prefix of the
// escaped value s that neither splits a character nor an escape.
func cutEscaped(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	slashes := 0
	for i := n - 1; i >= 0 && s[i] == '\\'; i-- {
		slashes++
	}
	if slashes%2 == 1 {
		n--
	}
	return n
}
