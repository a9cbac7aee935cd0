package codes_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
)

var (
	now    = time.Date(2022, 6, 13, 9, 0, 0, 0, time.UTC)
	secret = []byte("example secret, keep it in a KMS")
)

func ExampleParse() {
	id, err := codes.Parse(" １１０１０５ 19491231 002x ")
	if err != nil {
		panic(err)
	}
	rid := id.(codes.ResidentID)
	fmt.Println(id.Kind(), id, rid.Region(), rid.BirthDate().Format(time.DateOnly), rid.Sex())

	legacy, _ := codes.ParseResidentID("110105491231002")
	fmt.Println(legacy.Legacy(), legacy.Number() == id.Number())

	_, err = codes.ParseResidentID("110105194912310021")
	fmt.Println(errors.Is(err, codes.ErrChecksum), err)
	// Output:
	// resident ID 110***********002X 110105 1949-12-31 F
	// true true
	// true codes: resident ID 110***********0021: check digit mismatch at position 18: got 1, want X
}

func ExampleParsePhone() {
	p, err := codes.ParsePhone("0086-138 0013 8000")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.E164(), p)
	_, err = codes.ParsePhone("028-8888 8888")
	fmt.Println(errors.Is(err, codes.ErrNotMobile))
	// Output:
	// +8613800138000 +86 138****8000
	// true
}

func ExampleKeyer_Record() {
	keyer, err := codes.NewKeyer(codes.HMACSM3, secret)
	if err != nil {
		panic(err)
	}
	id, _ := codes.Parse("11010519491231002X")
	phone, _ := codes.ParsePhone("13800138000")

	withDoc, src1, _ := keyer.Record(id, phone)
	phoneOnly, src2, _ := keyer.Record(nil, phone)
	fmt.Println(src1, withDoc == keyer.Document(id))
	fmt.Println(src2, phoneOnly == keyer.Phone(phone))
	// Output:
	// document true
	// phone true
}

func ExampleRegistry_Lookup() {
	ctx := context.Background()
	store := codes.NewMemStore()
	reg, err := codes.Open(ctx, store, codes.Config{ExpectedNonGreen: 1000, CacheEntries: 10_000})
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	keyer, _ := codes.NewKeyer(codes.HMACSHA256, secret)
	id, _ := codes.Parse("440524188001010014")
	key := keyer.Document(id)

	st, _ := reg.Lookup(ctx, key)
	fmt.Println(st.Colour)
	_, err = reg.Apply(ctx, []codes.Change{{Key: key, State: codes.State{
		Colour: codes.Red, Reason: "close contact of a confirmed case",
		Cause: codes.Cause{RuleID: "contact-close", RuleVersion: "2022.06.1"},
		Since: now, Expires: now.Add(14 * 24 * time.Hour),
	}}})
	if err != nil {
		panic(err)
	}
	st, _ = reg.Lookup(ctx, key)
	fmt.Println(st.Colour, st.Cause, st.ColourAt(now.Add(15*24*time.Hour)))
	// Output:
	// green
	// red rule:contact-close@2022.06.1 green
}

func ExampleRegistry_Transcode() {
	ctx := context.Background()
	reg, _ := codes.Open(ctx, codes.NewMemStore(), codes.Config{ExpectedNonGreen: 1000, CacheEntries: 10_000})
	defer reg.Close()
	keyer, _ := codes.NewKeyer(codes.HMACSHA256, secret)
	id, _ := codes.Parse("11010519491231002X")
	key := keyer.Document(id)
	_, _ = reg.Apply(ctx, []codes.Change{{Key: key, State: codes.State{Colour: codes.Red, Reason: "travel",
		Cause: codes.Cause{RuleID: "travel-high", RuleVersion: "v7"}, Since: now}}})

	_, err := reg.Transcode(ctx, key, codes.Transcode{Colour: codes.Green, Actor: "op-17", Reason: "negative PCR", At: now.Add(time.Hour)})
	fmt.Println(errors.Is(err, codes.ErrUnauthorised))

	e, err := reg.Transcode(ctx, key, codes.Transcode{Colour: codes.Green, Actor: "op-17",
		Authorisation: "HZ-2022-0613-001", Reason: "negative PCR", At: now.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Seq, e.State.Colour, e.State.Cause, e.State.Reason)
	// Output:
	// true
	// 1 green manual:op-17/HZ-2022-0613-001 negative PCR
}

func ExampleVerifyHistory() {
	ctx := context.Background()
	store := codes.NewMemStore()
	keyer, _ := codes.NewKeyer(codes.HMACSHA256, secret)
	id, _ := codes.Parse("11010519491231002X")
	key := keyer.Document(id)
	for i, c := range []codes.Colour{codes.Yellow, codes.Red, codes.Green} {
		_, _ = store.Apply(ctx, []codes.Change{{Key: key, State: codes.State{Colour: c,
			Cause: codes.Cause{RuleID: "r", RuleVersion: "1"}, Since: now.Add(time.Duration(i) * time.Hour)}}})
	}
	h, _ := store.History(ctx, key)
	fmt.Println(len(h), codes.VerifyHistory(key, h, nil))

	h[1].State.Colour = codes.Green // someone edits the record of who was red
	var ce *codes.ChainError
	err := codes.VerifyHistory(key, h, nil)
	fmt.Println(errors.As(err, &ce), ce.Index)
	// Output:
	// 3 <nil>
	// true 1
}

func ExampleVerifyAudit() {
	ctx := context.Background()
	store := codes.NewMemStore() // boltstore, pgstore and mysqlstore keep the trail too
	_, err := store.AppendAudit(ctx, []codes.AuditRecord{
		{At: now, Node: "node-1", Actor: "op-17", Role: "transcoder", Action: "transcode",
			Target: "3f2a9c0e71b4d5a8", Authorisation: "HZ-2022-0613-001", Reason: "negative PCR",
			Outcome: "ok", Client: "10.0.0.7:52100"},
		{At: now.Add(time.Minute), Node: "node-1", Actor: "op-23", Role: "transcoder", Action: "transcode",
			Target: "9b1e44d07c2f6a13", Reason: "村镇银行储户", Outcome: "forbidden", Client: "10.0.0.9:41022"},
		{At: now.Add(2 * time.Minute), Node: "node-2", Action: "sign_in", Outcome: "unauthenticated", Client: "203.0.113.5:50110"},
	})
	if err != nil {
		panic(err)
	}
	n, err := codes.VerifyAudit(ctx, store)
	fmt.Println(n, err)

	// Whoever edits a record where it is kept breaks its link.
	recs, _ := store.ReadAudit(ctx, 0, 100)
	recs[1].Outcome = "ok"
	var v codes.AuditVerifier
	for i := range recs {
		if err := v.Next(&recs[i]); err != nil {
			fmt.Println(err)
			break
		}
	}
	// Output:
	// 3 <nil>
	// codes: audit trail broken at record 2: contents do not match the hash
}

func ExampleSigner_Sign() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // use a real key
	signer, err := codes.NewEd25519Signer("ed-2022-06", priv)
	if err != nil {
		panic(err)
	}
	verifier, _ := codes.NewVerifier(codes.VerifierConfig{}, signer.Public())

	text, err := signer.Sign(codes.Claims{Colour: codes.Green, Name: codes.MaskName("张三丰"),
		Issued: now, Expires: now.Add(5 * time.Minute)})
	if err != nil {
		panic(err)
	}
	c, err := verifier.Verify(text, now.Add(time.Minute))
	fmt.Println(len(text) < 150, c.Colour, c.Name, c.KeyID, err)
	_, err = verifier.Verify(text, now.Add(6*time.Minute))
	fmt.Println(err)
	// Output:
	// true green 张*丰 ed-2022-06 <nil>
	// codes: token expired
}

func ExampleCheckAnomalies() {
	var baseline []codes.DayStats
	for d, reds := range []int{40, 42, 38, 41, 39, 40, 40} {
		t := codes.NewTally(now.AddDate(0, 0, d-7))
		for range reds {
			t.Add(codes.Observation{Colour: codes.Red, Cause: "contact-close", Region: "510104"})
		}
		baseline = append(baseline, t.Stats())
	}
	today := codes.NewTally(now)
	for range 90 {
		today.Add(codes.Observation{Colour: codes.Red, Cause: "contact-close", Region: "510104"})
	}
	as, _ := codes.CheckAnomalies(baseline, today.Stats(), codes.AnomalyConfig{})
	for _, a := range as {
		fmt.Println(a)
	}
	// Output:
	// red total: 90 against 40.0±1.3 (rise)
}
