package dedupe_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

const registryCSV = `id,name,doc_type,doc_number,birth,sex,ethnicity,address,phone,registered,updated
1,张三,身份证,11010519491231002X,1949-12-31,男,汉,北京市西城区某路5号,13800138000,2022-06-01T08:00:00+08:00,
2,张 三,居民身份证,110105491231002,19491231,男,汉族,北京市西城区某路5号,138 0013 8000,2022-06-01T08:00:00+08:00,2022-06-05T10:00:00+08:00
3,张叁,身份证,11010519491231002x,1949/12/31,男,汉,北京市西城区某路5号,13800138000,2022-06-03T08:00:00+08:00,
`

func readAll(csv string) []dedupe.Record {
	rd, err := dedupe.NewReader(strings.NewReader(csv), dedupe.CSVConfig{})
	if err != nil {
		panic(err)
	}
	var recs []dedupe.Record
	for {
		rec, err := rd.Read()
		if err != nil {
			return recs
		}
		recs = append(recs, rec)
	}
}

// Records 1 and 2 are the same after normalisation (15-digit ID, spaces,
// 汉族, date format): the later update survives. Record 3 shares the ID
// number with another name: it goes to review.
func ExampleResolve() {
	res, err := dedupe.Resolve(context.Background(), readAll(registryCSV), dedupe.Policy{})
	if err != nil {
		panic(err)
	}
	for _, d := range res.Decisions() {
		fmt.Printf("%s %d (survivor %d): %s\n", d.Action, d.Record, d.Survivor, d.Reason)
	}
	for _, g := range res.Reviews {
		fmt.Printf("review %s %s, proposed %d\n", g.ID, g.Kind, g.Proposed)
		for _, d := range g.Diffs {
			fmt.Printf("  %s %q similarity %.3f\n", d.Field, d.Values, d.Min)
		}
	}
	// Output:
	// drop 1 (survivor 2): identical duplicate of record 2, which was registered or updated later
	// keep 2 (survivor 2): survivor of identical duplicates: latest registration or update, then lowest id
	// review rev-1 suspicious, proposed 2
	//   name ["张三" "张三" "张叁"] similarity 0.667
}

// A reviewer decides the suspicious group: record 3 is a typo of the
// same person, merged into record 2. The change set goes back to the
// registry.
func ExampleQueue_Apply() {
	res, err := dedupe.Resolve(context.Background(), readAll(registryCSV), dedupe.Policy{})
	if err != nil {
		panic(err)
	}
	q := dedupe.NewQueue(res.Reviews)
	changes, err := q.Apply([]dedupe.Verdict{{
		Group: "rev-1", Action: dedupe.ActionMerge, Survivor: 2, Records: []int64{3},
		Reviewer: "wang.li", Reason: "typo in name, same person", At: time.Date(2022, 6, 10, 9, 0, 0, 0, time.UTC),
	}})
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		fmt.Printf("%s %d merged-into=%d by %s\n", c.Op, c.Record, c.MergedInto, c.Reviewer)
	}
	_, err = q.Apply([]dedupe.Verdict{{Group: "rev-1", Action: dedupe.ActionKeep}})
	fmt.Println(err)
	// Output:
	// confirm 2 merged-into=0 by wang.li
	// delete 3 merged-into=2 by wang.li
	// dedupe: decision 0 (group rev-1): no open review group with this id
}

func ExampleReconcile() {
	source := readAll(`id,doc_type,doc_number,name,phone
1,身份证,11010519491231002X,张三,13800138000
2,身份证,110101199003070011,李四,13900139000
`)
	issued := readAll(`id,doc_type,doc_number,name,phone
101,身份证,110105491231002,张三,+86 138 0013 8000
102,身份证,110105491231002,张三,13800138000
`)
	rep, err := dedupe.Reconcile(context.Background(), dedupe.SliceReader(source), dedupe.SliceReader(issued), dedupe.ReconcileConfig{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("source %d = matched %d + missing %d\n", rep.Source, rep.Matched, len(rep.Missing))
	fmt.Printf("missing %v, extra %v, issued twice %v\n", rep.Missing, rep.Extra, rep.DuplicatedIssued)
	// Output:
	// source 2 = matched 1 + missing 1
	// missing [2], extra [102], issued twice [[101 102]]
}

// Validation on ingest: bad rows come back with their line, field and
// reason (never the value); good rows continue.
func ExampleValidate() {
	in := `id,name,doc_type,doc_number,birth,phone
1,张三,身份证,11010519491231002X,1949-12-31,13800138000
2,,身份证,110105194912310021,1949-02-30,12345
3,李四,护照,E12345678,1990-01-01,
`
	v := dedupe.DefaultValidateConfig()
	rd, err := dedupe.NewReader(strings.NewReader(in), dedupe.CSVConfig{Validate: &v})
	if err != nil {
		panic(err)
	}
	good := dedupe.GoodRows(rd, func(e *dedupe.RowError) { fmt.Println(e) })
	for {
		rec, err := good.Read()
		if err != nil {
			break
		}
		fmt.Println("ok", rec.ID)
	}
	// Output:
	// ok 1
	// dedupe: line 3, column 3: name: required; doc_number: check character does not match (ISO 7064 MOD 11-2); birth: no such day; phone: want an 11-digit mobile number or a landline with area code
	// ok 3
}
