package quality

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// plant says which defects a generated day holds.
type plant struct {
	N          int // people in the source
	Missing    int // source records left out of coded
	Extra      int // records in issued that are in neither source nor coded
	Duplicated int // coded records copied (a second row, a new id)
	BadSum     int // coded rows whose ID number fails its checksum
	BirthDiff  int // coded rows whose birth date differs from the ID number's
	EmptyName  int // coded rows with no name
	BadPhone   int // coded rows with a phone that is no number
}

var header = []string{"id", "name", "doc_type", "doc_number", "birth", "sex", "ethnicity", "address", "phone", "source", "registered", "updated"}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"}
)

// person makes one valid, deterministic record with the given id.
func person(r *rand.Rand, id int) []string {
	birth := fmt.Sprintf("%04d%02d%02d", 1950+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28))
	first17 := "510104" + birth + fmt.Sprintf("%03d", id%1000)
	num := first17 + string(synth.CheckDigit(first17))
	// Unique numbers: the sequence digits come from id, the date makes
	// collisions across ids unlikely; the caller's ids are < 1e6 and
	// dates vary, and a collision would only show as a duplicate.
	name := surnames[r.IntN(len(surnames))] + given[r.IntN(len(given))] + given[r.IntN(len(given))]
	sex := "男"
	if r.IntN(2) == 0 {
		sex = "女"
	}
	phone := fmt.Sprintf("139%08d", r.IntN(100000000))
	return []string{strconv.Itoa(id), name, "身份证", num, birth[:4] + "-" + birth[4:6] + "-" + birth[6:], sex, "汉族",
		"四川省成都市锦江区" + strconv.Itoa(id) + "号", phone, "四川人口库", "2022-06-14 09:00:00", ""}
}

// writeDay writes source.csv, coded.csv and issued.csv for one day under
// dir/data/day with the planted defects. Records with planted problems
// are taken from distinct people, so every defect counts once.
func writeDay(t testing.TB, dir, day string, p plant, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var source [][]string
	used := map[string]bool{}
	for id := 1; len(source) < p.N; id++ {
		row := person(r, id)
		if used[row[3]] {
			continue
		}
		used[row[3]] = true
		source = append(source, row)
	}
	var coded, issued [][]string
	i := 0
	for _, row := range source[p.Missing:] { // the first Missing people never reach coded
		row = append([]string(nil), row...)
		switch {
		case i < p.BadSum:
			last := row[3][17]
			row[3] = row[3][:17] + map[bool]string{true: "1", false: "0"}[last == '0']
		case i < p.BadSum+p.BirthDiff:
			row[4] = "1949-10-01"
		case i < p.BadSum+p.BirthDiff+p.EmptyName:
			row[1] = ""
		case i < p.BadSum+p.BirthDiff+p.EmptyName+p.BadPhone:
			row[8] = "12345"
		}
		i++
		coded = append(coded, row)
		issued = append(issued, row)
	}
	for k := range p.Duplicated { // copies of clean records, new ids
		row := append([]string(nil), coded[len(coded)-1-k]...)
		row[0] = strconv.Itoa(100000 + k)
		coded = append(coded, row)
	}
	for k := 0; k < p.Extra; {
		row := person(r, 200000+k)
		if used[row[3]] {
			continue
		}
		used[row[3]] = true
		issued = append(issued, row)
		k++
	}
	base := filepath.Join(dir, "data", day)
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, rows := range map[string][][]string{"source.csv": source, "coded.csv": coded, "issued.csv": issued} {
		writeCSV(t, filepath.Join(base, name), header, rows)
	}
}

func writeCSV(t testing.TB, path string, head []string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write(head)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// want returns the figures each check of sichuan-coding-daily
// (testdata/quality.yaml) must find in a day written with p.
func (p plant) want() map[string]Figures {
	coded := p.N - p.Missing + p.Duplicated
	issued := p.N - p.Missing + p.Extra
	return map[string]Figures{
		// A bad checksum changes the key: that record is missing from
		// coded and its changed copy is extra there. Each duplicated
		// copy has no source counterpart: extra.
		"reconcile source→coded": {Rows: p.N + coded, Missing: p.Missing + p.BadSum, Extra: p.Duplicated + p.BadSum, Duplicated: p.Duplicated},
		// issued holds each coded person once: the copies are missing.
		"reconcile coded→issued": {Rows: coded + issued, Missing: p.Duplicated, Extra: p.Extra, Duplicated: p.Duplicated},
		"validate coded":         {Rows: coded, Invalid: p.BadSum + p.EmptyName + p.BadPhone},
		"non_empty coded":        {Rows: coded, Invalid: p.EmptyName},
		"format coded":           {Rows: coded, Invalid: p.BadSum + p.BadPhone},
		"birth_matches_id coded": {Rows: coded, Mismatched: p.BirthDiff},
	}
}

// wantByField returns the problems by field of each check.
func (p plant) wantByField() map[string]map[string]int {
	nz := func(m map[string]int) map[string]int {
		for k, v := range m {
			if v == 0 {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	return map[string]map[string]int{
		"reconcile source→coded": nil,
		"reconcile coded→issued": nil,
		"validate coded":         nz(map[string]int{"doc_number": p.BadSum, "name": p.EmptyName, "phone": p.BadPhone}),
		"non_empty coded":        nz(map[string]int{"name": p.EmptyName}),
		"format coded":           nz(map[string]int{"doc_number": p.BadSum, "phone": p.BadPhone}),
		"birth_matches_id coded": nz(map[string]int{"birth": p.BirthDiff}),
	}
}
