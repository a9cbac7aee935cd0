package alarms_test

import (
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/examples/alarms"
)

const rulesFile = `
notifiers:
  - {name: ops, type: webhook, url: "https://ops.example.org/hook", secret_env: OPS_HOOK_KEY}
rules:
  - name: transcode-burst
    kind: transcode_rate
    severity: critical
    threshold: 50
    window: 1m
    notify: [ops]
  - {name: code-anomaly, kind: anomaly, severity: warning, dimensions: [total]}
`

func Example() {
	rules, err := alarms.ParseRules("alarms.yaml", []byte(rulesFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := alarms.NewEngine(alarms.Config{
		Rules: rules,
		// The server passes its outbox: Emit: outbox.Enqueue.
		Emit: func(a alarms.Alarm, notify []string) error {
			fmt.Printf("emit %s to %v: %s\n", a.Cause, notify, a.Text)
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	for i := range 60 { // 60 persons in a minute: one alarm
		e.Observe(alarms.Event{At: start.Add(time.Duration(i) * time.Second), Actor: "zhang.san",
			Action: "transcode", Target: fmt.Sprintf("pseudonym-%d", i), Outcome: "ok"})
	}
	e.ObserveAnomalies(start, []codes.Anomaly{{Colour: codes.Red, Dimension: "total", Today: 90, Mean: 20, StdDev: 3, Rise: true}})
	for _, a := range e.Alarms() {
		fmt.Println(a.Severity, a.Cause, "count", a.Count)
	}
	e.Tick(start.Add(2 * time.Minute)) // quiet for the window: the burst resolves
	fmt.Println(len(e.Alarms()), "listed;", e.Alarms()[1].Cause, "resolved:", !e.Alarms()[1].Resolved.IsZero())
	// Output:
	// emit transcode-burst actor=zhang.san to [ops]: 操作员 zhang.san 在 1 分钟 内转码 51 人，超过阈值 50
	// emit code-anomaly red/total to []: 红码数量异常：全部 今日 90，基线均值 20.0，高于正常范围
	// critical transcode-burst actor=zhang.san count 10
	// warning code-anomaly red/total count 1
	// 2 listed; transcode-burst actor=zhang.san resolved: true
}

func ExampleParseRules() {
	_, err := alarms.ParseRules("alarms.yaml", []byte(`
rules:
  - name: history-leak
    kind: history_views
    severity: high
    threshold: 20
    window: 10 minutes
    notify: [sms]
`))
	fmt.Println(err)
	// Output:
	// alarms.yaml:5:15: rules[0].severity: "high": the severities are info, warning and critical
	// alarms.yaml:7:13: rules[0].window: "10 minutes" is not a duration like 30s, 5m or 1h
	// alarms.yaml:8:14: rules[0].notify[0]: no notifier called "sms" in notifiers:
}

func ExampleEngine_Silence() {
	rules, _ := alarms.ParseRules("alarms.yaml", []byte(`
rules:
  - {name: refused, kind: refused_burst, severity: warning, threshold: 3, window: 5m}
`))
	now := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC)
	e, _ := alarms.NewEngine(alarms.Config{Rules: rules, Now: func() time.Time { return now },
		Emit: func(a alarms.Alarm, _ []string) error { fmt.Println("emit", a.Cause); return nil }})
	refuse := func() {
		for range 4 {
			e.Observe(alarms.Event{At: now, Action: "sign_in", Outcome: "unauthenticated", Client: "10.0.0.7"})
		}
	}
	refuse()
	fmt.Println(e.Silence("refused client=10.0.0.7", now.Add(time.Hour), "", "wang.wu"))
	fmt.Println(e.Silence("refused client=10.0.0.7", now.Add(time.Hour), "pen test until 11:00", "wang.wu"))
	fmt.Println(e.Resolve("refused client=10.0.0.7", "wang.wu"))
	refuse() // opens again, silenced: listed, not emitted
	a := e.Alarms()[0]
	fmt.Println(a.Resolved.IsZero(), a.SilenceReason)
	// Output:
	// emit refused client=10.0.0.7
	// alarms: a silence needs a reason
	// <nil>
	// <nil>
	// true pen test until 11:00
}
