package auditexport_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/auditexport"
)

func ExampleFormat() {
	r := codes.ChainAudit(codes.AuditRecord{}, codes.AuditRecord{
		At:      time.Date(2022, 6, 14, 9, 30, 0, 250_000_000, time.UTC),
		Node:    "hc1",
		Actor:   "op017",
		Role:    "transcoder",
		Action:  "transcode",
		Target:  "9f2c41d07ab3e655",
		Reason:  `ticket "HN-0613" [red]`,
		Outcome: "forbidden",
		Client:  "10.8.0.21",
	})
	msg := auditexport.Format(nil, &r, "hc1.example.gov.cn", "healthcoded", 13)

	// The message is one line; here it is cut before the hashes.
	head, rest, _ := strings.Cut(string(msg), ` hash="`)
	_, text, _ := strings.Cut(rest, "] ")
	fmt.Println(head)
	fmt.Printf("MSG: %q\n", text)
	// Output:
	// <108>1 2022-06-14T09:30:00.250000Z hc1.example.gov.cn healthcoded - transcode [audit@32473 seq="1" actor="op017" role="transcoder" action="transcode" target="9f2c41d07ab3e655" authorisation="" reason="ticket \"HN-0613\" [red\]" outcome="forbidden" detail="" client="10.8.0.21" node="hc1" changed="0"
	// MSG: "\ufefftranscode of 9f2c41d07ab3e655 by op017 as transcoder: forbidden"
}

// A server runs one exporter beside its store: Run until shutdown, Notify
// after each append.
func ExampleExporter() {
	var store codes.AuditTrail // the server's store
	x, err := auditexport.New(store, auditexport.Config{
		URL:    "tcp://siem.example:514",
		Cursor: "/var/lib/healthcoded/audit.cursor",
	})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go x.Run(ctx)

	// In the admin handler, after store.AppendAudit:
	x.Notify()
	fmt.Printf("%+v\n", x.Stats())
}
