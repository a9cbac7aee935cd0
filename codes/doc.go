// Package codes is the core of a health-code platform: it parses and keys
// identities, keeps each person's code state with a tamper-evident history,
// answers code lookups fast, and issues offline tokens a scanner verifies
// without network.
//
// # Usage
//
// Parse what a registration carries, and key it (tender 2.1.4: by document
// if there is one, else by phone). Keys are HMAC pseudonyms; the raw
// numbers go no further.
//
//	id, err := codes.Parse("11010519491231002x")     // *IDError on bad input
//	phone, err := codes.ParsePhone("+86 138 0013 8000")
//	keyer, err := codes.NewKeyer(codes.HMACSM3, secret)
//	key, source, err := keyer.Record(id, phone)
//
// Put a Registry over a Store (MemStore, or codes/boltstore for the
// persistent default) and apply rule decisions in bulk; look codes up on the
// hot path:
//
//	reg, err := codes.Open(ctx, store, codes.Config{Links: store})
//	_, err = reg.Apply(ctx, []codes.Change{{Key: key, State: codes.State{
//		Colour: codes.Red, Reason: "...", Cause: codes.Cause{RuleID: "travel-high", RuleVersion: "v7"}, Since: now}}})
//	st, err := reg.Lookup(ctx, key)       // green without touching the store for most keys
//	c, err := reg.Colour(ctx, key, now)   // the colour in force at now, cheapest call
//	d, err := reg.Display(ctx, key, source, now) // most severe of document and owned phones
//
// Manual transcodes need an actor, an authorisation and a reason:
//
//	_, err = reg.Transcode(ctx, key, codes.Transcode{Colour: codes.Green, Actor: "op-17",
//		Authorisation: "HZ-2022-0613-001", Reason: "negative PCR", At: now})
//
// Every change appends to a per-key hash chain; Registry.History returns it
// verified, VerifyHistory names the first broken link.
//
// Offline tokens: a Signer (Ed25519 or SM2 with SM3) signs Claims into a
// short base64url string for a QR code; a Verifier holding the public keys
// by key id checks it at a scanner; a TokenCache reuses a person's token
// within its lifetime:
//
//	tokens, err := codes.NewTokenCache(signer, codes.TokenCacheConfig{TTL: 5 * time.Minute})
//	text, reused, err := tokens.Token(key, d.Colour, codes.MaskName(name), now)
//	claims, err := verifier.Verify(text, now)
//
// Several processes over one database (codes/pgstore): a Store that is also
// a Feed lists its commits in order, and each process's Registry follows
// the others' writes, so every filter and cache stays current within the
// time to read the feed, while the writing process reads its own writes at
// once. The same feed carries notes (Feed.Publish): whatever else the
// processes share, such as rule sets and risk areas, in the same order
// everywhere.
//
//	reg, err := codes.Open(ctx, pg, codes.Config{Links: pg, OnFeed: apply})
//	go reg.Follow(ctx)                    // until ctx ends; retries inside
//	pos, err := pg.Publish(ctx, "rules/activate", body)
//	err = reg.WaitFeed(ctx, pos)          // apply has seen it here too
//
// More changes than one Apply should hold (a province's first load, a
// re-evaluation of every key) go through Registry.Load over a store that is
// a Loader (codes/boltstore): the whole stream is validated before anything
// is written, then written in key order, with progress after each commit.
//
//	a, err := reg.Load(ctx, decisions, func(p codes.LoadProgress) { ... })
//
// A Change with a RequestID is appended at most once per key, so a batch
// (or a transcode) retried after a lost acknowledgement appends nothing
// twice. Every store passes the conformance suite in codes/storetest.
//
// Every store also keeps an AuditTrail: each administrative attempt on the
// codes (a transcode, a history read, a refused call) as an AuditRecord in
// one hash chain per store, across every process that shares it, so that
// no operator can change or remove a record unnoticed (the Henan lesson).
// VerifyAudit names the first broken record.
//
//	recs, err := store.AppendAudit(ctx, []codes.AuditRecord{{At: now, Actor: "zhang",
//		Action: "transcode", Target: key.String(), Outcome: "ok"}})
//	n, err := codes.VerifyAudit(ctx, store) // *AuditChainError{Seq, Reason} if broken
//
// Daily statistics (Tally, Top) and CheckAnomalies cover the red/yellow
// monitoring of tender 2.2.6-2.2.7, from plain values the caller supplies.
//
// # Design
//
// The Registry's filter is a blocked Bloom filter of every key that has been
// non-green since it was built, sized with bloom.EstimateParameters, with
// positions taken from the key bytes (keys are already uniform) and words
// read and set atomically, so lookups take no lock. It has no false
// negatives by construction: Apply adds a key before the store acknowledges
// its non-green state, and Rebuild lets writers add to the old and the new
// filter while it fills the new one from Store.Scan. A cached state is used
// only while its key's shard epoch is unchanged; Apply bumps the epoch after
// writing, so the cache never serves a state older than an acknowledged
// write.
//
// # Concurrency
//
// Parsed identities, Phone, Key, Keyer, Registry, MemStore, Signer, Verifier
// and TokenCache are safe for concurrent use; Follow runs once per
// Registry, on a goroutine of its own. Tally is not (use one per
// goroutine and Merge). Errors never contain a raw document number, phone
// or name: they carry Mask-ed forms or pseudonymous keys.
//
// The reference server examples/healthcoded serves lookups, displays,
// transcodes and tokens over HTTP on top of this package and
// codes/boltstore.
package codes
