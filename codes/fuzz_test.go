package codes

import (
	"errors"
	"testing"
	"time"
)

func FuzzParseResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "110105491231002", "810000199001010019",
		"１１０１０５１９４９１２３１００２ｘ", "110105194902300021", "", "X", " 1 1 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseResidentID(s)
		if err != nil {
			var ie *IDError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *IDError", err)
			}
			return
		}
		again, err := ParseResidentID(id.Number())
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", id.Masked(), err)
		}
		if again.Number() != id.Number() || again.Kind() != id.Kind() {
			t.Fatalf("round trip changed %s", id.Masked())
		}
		if CheckDigit(id.Number()[:17]) != id.Number()[17] {
			t.Fatalf("accepted bad check digit")
		}
		if id.BirthDate().Format("20060102") != id.Number()[6:14] {
			t.Fatalf("birth date accessor disagrees with number")
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "915840199001010011", "E12345678", "CA1234567", "H1234567801",
		"L12345678", "ｇ１２３４５６７８", "-", "9", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			var ie *IDError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *IDError", err)
			}
			if id != nil {
				t.Fatalf("non-nil identity with error")
			}
			return
		}
		again, err := ParseDocument(id.Kind(), id.Number())
		if err != nil {
			t.Fatalf("ParseDocument(%v) refuses Parse's result: %v", id.Kind(), err)
		}
		if again.Number() != id.Number() {
			t.Fatalf("round trip changed the number")
		}
		if len(id.Number()) > 3 && id.String() == id.Number() {
			t.Fatalf("String is not masked")
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "(+86)138", "+85291234567", "１３８００１３８０００", "+", "()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhone(s)
		if err != nil {
			var ie *IDError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *IDError", err)
			}
			return
		}
		if len(p.E164()) != 14 || p.E164()[:4] != "+861" {
			t.Fatalf("bad E.164 form %s", p.Masked())
		}
		again, err := ParsePhone(p.E164())
		if err != nil || again != p {
			t.Fatalf("E.164 form does not round trip: %v", err)
		}
	})
}

// FuzzDecodeEntry feeds stored-entry bytes to the decoder: it must not
// panic, and whatever it accepts must survive a re-encode unchanged.
func FuzzDecodeEntry(f *testing.F) {
	var head Entry
	for i, c := range []Colour{Red, Yellow} {
		next, _ := Advance(head, i > 0, Change{Key: Key{1, 2, 3}, State: State{Colour: c, Reason: "原因",
			Cause: Cause{RuleID: "r", RuleVersion: "1"}, Since: t0, Expires: t0.Add(time.Hour)}})
		f.Add(AppendEntry(nil, &next))
		head = next
	}
	f.Add([]byte("HCE1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		again, err := DecodeEntry(AppendEntry(nil, &e))
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if again.Hash != e.Hash || again.Prev != e.Prev || again.Seq != e.Seq || again.State.Reason != e.State.Reason ||
			!again.State.Since.Equal(e.State.Since) || !again.State.Expires.Equal(e.State.Expires) || again.State.Cause != e.State.Cause {
			t.Fatalf("entry changed in a round trip")
		}
	})
}
