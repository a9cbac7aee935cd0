// Package console is healthcoded's admin console (管理后台): server-rendered
// HTML pages for CDC staff, signed into with an admin token.
//
// # Usage
//
//	c, err := console.New(console.Config{Backend: b}) // b implements Backend
//	if err != nil { ... }
//	mux.Handle("/console/", c.Handler())
//
// The console owns sessions, CSRF tokens, security headers and the pages;
// the server owns the data and the authority, behind the small Backend
// interface: it authenticates tokens, looks people up (already masked),
// transcodes through its audited path, computes statistics, and appends the
// console's own refusals to its audit trail.
//
// # Security
//
// Sessions are random 32-byte ids in a cookie (HttpOnly, SameSite=Strict,
// Path=/console/, Secure when Config.Secure), issued anew on sign-in (a
// cookie set before sign-in is never promoted), expiring after an idle
// period and an absolute lifetime, deleted server-side on sign-out, held in
// memory up to Config.MaxSessions (the oldest evicted). Every form carries
// a per-session CSRF token, checked in constant time on every POST; a POST
// without it, or from a role that may not make it, is answered 403 and
// audited. Every response carries a Content-Security-Policy without inline
// script or style. No page, URL or title holds a raw document number or
// phone: identities go in POST bodies, and a looked-up person is referred
// to afterwards by an opaque handle kept in the session.
//
// # Concurrency
//
// A Console is safe for concurrent use; Backend implementations must be too.
//
// The reference server is examples/healthcoded, which mounts the console at
// /console/.
package console
