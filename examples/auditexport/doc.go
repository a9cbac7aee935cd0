// Package auditexport sends a store's admin audit trail (codes.AuditTrail)
// to a syslog collector as RFC 5424 messages, over TCP with octet
// counting (RFC 6587) or over UDP (RFC 5426), one message per record with
// every field in structured data.
//
// # Usage
//
//	x, err := auditexport.New(store, auditexport.Config{
//		URL:    "tcp://siem.example:6514",
//		Cursor: "/var/lib/healthcoded/audit.cursor",
//	})
//	...
//	go x.Run(ctx)   // until ctx ends
//	x.Notify()      // after appending records: send them now, not at the next poll
//
// Format builds one message alone, for other transports.
//
// # What is guaranteed
//
// Over TCP, every record is delivered at least once. The queue is the
// trail itself: the exporter keeps only a cursor file with the Seq (and
// hash) of the last record known delivered, so records appended while the
// collector is away wait in the store, on disk, and survive restarts of
// the exporter, the server and the collector. After writing a batch, the
// exporter waits briefly (Config.Probe) for the collector to hang up,
// since TCP syslog has no acknowledgements and bytes written just as the
// collector closes are lost without an error; only then does the cursor
// advance. A batch that was not confirmed is sent again from the cursor on
// a new connection, so a collector can receive a record twice: seq in the
// structured data identifies repeats. The probe narrows the window in
// which a collector that crashes (rather than stops) can lose a batch; it
// cannot close it, which only an application-level acknowledgement (RELP)
// could.
//
// UDP is best effort: a datagram lost on the network, dropped by a full
// receive buffer or sent to a collector that is away is gone, unless the
// network answers with port-unreachable, which the probe notices. Use TCP
// for the audit trail; UDP is for collectors that take nothing else.
//
// The exporter checks the hash chain as it reads. A record that does not
// verify against the one before is still sent (the collector sees its
// hash and prev, and can flag it), logged and counted in Stats.Broken. A
// cursor file whose record the trail does not continue stops Run with
// ErrCursorMismatch before anything is sent.
//
// # Concurrency
//
// An Exporter's Notify and Stats are safe for concurrent use; one Run at
// a time. Format is a pure function.
//
// The stores of package codes keep the trail (codes.AuditTrail) in the
// transaction of each admin attempt; a server runs one Exporter beside its
// store and calls Notify after each append.
package auditexport
