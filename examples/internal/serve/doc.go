// Package serve holds the HTTP plumbing the reference servers share: load
// shedding before overload, Prometheus metrics on a private registry,
// bearer tokens with roles, JSON decoding that says where a body is wrong,
// and a graceful serve loop. It exists so that each server's main stays a
// thin list of routes; nothing here knows about codes or rules.
//
// The shedding order for each request is: global token bucket, then the
// client's token bucket, then a concurrency slot (waiting at most
// QueueWait in a queue of at most MaxQueue). Anything refused gets 429 with
// a Retry-After header at once: no request waits unboundedly. This is the
// lesson of Xi'an's December 2021 outage, where a platform that queued
// everything fell over instead of turning some requests away.
package serve
