package instrument_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"kith/internal/clinical/instrument"
)

func def(t *testing.T, id string) *instrument.Definition {
	t.Helper()
	d := instrument.Default().Latest(id)
	if d == nil {
		t.Fatalf("no instrument %q in the catalogue", id)
	}
	return d
}

func rep(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// Every band boundary of every instrument: the minimum, both sides of each
// boundary, and the maximum, each from an answer vector.
func TestBands(t *testing.T) {
	cases := []struct {
		name    string
		id      string
		answers []int
		score   int
		band    string
	}{
		{"R-SCORE PHQ-9 0 is minimal (minimum)", "phq9", rep(0, 9), 0, "minimal"},
		{"R-SCORE PHQ-9 4 is minimal", "phq9", []int{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, "minimal"},
		{"R-SCORE PHQ-9 5 is mild", "phq9", []int{1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, "mild"},
		{"R-SCORE PHQ-9 9 is mild", "phq9", []int{2, 2, 2, 1, 1, 1, 0, 0, 0}, 9, "mild"},
		{"R-SCORE PHQ-9 10 is moderate", "phq9", []int{2, 2, 2, 2, 1, 1, 0, 0, 0}, 10, "moderate"},
		{"R-SCORE PHQ-9 14 is moderate", "phq9", []int{2, 2, 2, 2, 2, 2, 2, 0, 0}, 14, "moderate"},
		{"R-SCORE PHQ-9 15 is moderately severe", "phq9", []int{3, 2, 2, 2, 2, 2, 2, 0, 0}, 15, "moderately_severe"},
		{"R-SCORE PHQ-9 19 is moderately severe", "phq9", []int{3, 3, 3, 3, 3, 2, 2, 0, 0}, 19, "moderately_severe"},
		{"R-SCORE PHQ-9 20 is severe", "phq9", []int{3, 3, 3, 3, 3, 3, 2, 0, 0}, 20, "severe"},
		{"R-SCORE PHQ-9 27 is severe (maximum)", "phq9", rep(3, 9), 27, "severe"},

		{"R-SCORE GAD-7 0 is minimal (minimum)", "gad7", rep(0, 7), 0, "minimal"},
		{"R-SCORE GAD-7 4 is minimal", "gad7", []int{1, 1, 1, 1, 0, 0, 0}, 4, "minimal"},
		{"R-SCORE GAD-7 5 is mild", "gad7", []int{1, 1, 1, 1, 1, 0, 0}, 5, "mild"},
		{"R-SCORE GAD-7 9 is mild", "gad7", []int{2, 2, 2, 1, 1, 1, 0}, 9, "mild"},
		{"R-SCORE GAD-7 10 is moderate", "gad7", []int{2, 2, 2, 2, 1, 1, 0}, 10, "moderate"},
		{"R-SCORE GAD-7 14 is moderate", "gad7", rep(2, 7), 14, "moderate"},
		{"R-SCORE GAD-7 15 is severe", "gad7", []int{3, 2, 2, 2, 2, 2, 2}, 15, "severe"},
		{"R-SCORE GAD-7 21 is severe (maximum)", "gad7", rep(3, 7), 21, "severe"},

		{"R-SCORE K10 10 is low (minimum)", "k10", rep(1, 10), 10, "low"},
		{"R-SCORE K10 15 is low", "k10", []int{2, 2, 2, 2, 2, 1, 1, 1, 1, 1}, 15, "low"},
		{"R-SCORE K10 16 is moderate", "k10", []int{2, 2, 2, 2, 2, 2, 1, 1, 1, 1}, 16, "moderate"},
		{"R-SCORE K10 21 is moderate", "k10", []int{3, 3, 3, 3, 3, 2, 1, 1, 1, 1}, 21, "moderate"},
		{"R-SCORE K10 22 is high", "k10", []int{3, 3, 3, 3, 3, 3, 1, 1, 1, 1}, 22, "high"},
		{"R-SCORE K10 29 is high", "k10", []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 2}, 29, "high"},
		{"R-SCORE K10 30 is very high", "k10", rep(3, 10), 30, "very_high"},
		{"R-SCORE K10 50 is very high (maximum)", "k10", rep(5, 10), 50, "very_high"},

		{"R-SCORE SDSS 0 is no disability (minimum)", "sdss", rep(0, 10), 0, "none"},
		{"R-SCORE SDSS 1 is no disability", "sdss", []int{0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, 1, "none"},
		{"R-SCORE SDSS 2 from one severe item is social disability", "sdss", []int{2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2, "social_disability"},
		{"R-SCORE SDSS 2 from two items is social disability", "sdss", []int{0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, 2, "social_disability"},
		{"R-SCORE SDSS 20 is social disability (maximum)", "sdss", rep(2, 10), 20, "social_disability"},

		{"R-RISK 0 is none (minimum)", "risk", []int{0}, 0, "none"},
		{"R-RISK 1 is low", "risk", []int{1}, 1, "low"},
		{"R-RISK 2 is low", "risk", []int{2}, 2, "low"},
		{"R-RISK 3 is high", "risk", []int{3}, 3, "high"},
		{"R-RISK 4 is high", "risk", []int{4}, 4, "high"},
		{"R-RISK 5 is high (maximum)", "risk", []int{5}, 5, "high"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := def(t, c.id)
			r, err := d.Score(c.answers)
			if err != nil {
				t.Fatalf("Score(%v): %v", c.answers, err)
			}
			if r.Score != c.score || r.Band != c.band {
				t.Errorf("Score(%v) = %d %q, want %d %q", c.answers, r.Score, r.Band, c.score, c.band)
			}
			if b := d.BandOf(c.score); b == nil || b.Key != c.band || d.Band(c.band) != b {
				t.Errorf("BandOf(%d) = %v, want the band %q", c.score, b, c.band)
			}
		})
	}
}

// Each instrument's total runs over the range CLINICAL.md gives.
func TestRanges(t *testing.T) {
	for _, c := range []struct {
		id       string
		min, max int
	}{{"phq9", 0, 27}, {"gad7", 0, 21}, {"k10", 10, 50}, {"sdss", 0, 20}, {"risk", 0, 5}} {
		d := def(t, c.id)
		if d.MinScore != c.min || d.MaxScore != c.max {
			t.Errorf("R-SCORE %s: total %d–%d, want %d–%d", c.id, d.MinScore, d.MaxScore, c.min, c.max)
		}
	}
}

func TestFlags(t *testing.T) {
	phq := func(item9, rest int) []int {
		a := rep(rest, 9)
		a[8] = item9
		return a
	}
	cases := []struct {
		name    string
		rule    string
		id      string
		answers []int
		flags   []string
	}{
		{"R-SCORE-PHQ9-ITEM9 item 9 = 1 at total 1 flags", "R-SCORE-PHQ9-ITEM9", "phq9", phq(1, 0), []string{"suicide_risk"}},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 2 at total 2 flags", "R-SCORE-PHQ9-ITEM9", "phq9", phq(2, 0), []string{"suicide_risk"}},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 3 at total 3 flags", "R-SCORE-PHQ9-ITEM9", "phq9", phq(3, 0), []string{"suicide_risk"}},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 1 at total 9 flags", "R-SCORE-PHQ9-ITEM9", "phq9", phq(1, 1), []string{"suicide_risk"}},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 3 at total 27 flags", "R-SCORE-PHQ9-ITEM9", "phq9", phq(3, 3), []string{"suicide_risk"}},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 0 at total 0 does not flag", "R-SCORE-PHQ9-ITEM9", "phq9", phq(0, 0), nil},
		{"R-SCORE-PHQ9-ITEM9 item 9 = 0 at total 24 does not flag", "R-SCORE-PHQ9-ITEM9", "phq9", phq(0, 3), nil},
		{"R-SCORE GAD-7 21 raises no flag", "", "gad7", rep(3, 7), nil},
		{"R-SCORE-K10 29 does not flag", "R-SCORE-K10", "k10", []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 2}, nil},
		{"R-SCORE-K10 30 flags", "R-SCORE-K10", "k10", rep(3, 10), []string{"very_high_distress"}},
		{"R-SCORE-K10 50 flags", "R-SCORE-K10", "k10", rep(5, 10), []string{"very_high_distress"}},
		{"R-SCORE SDSS 20 raises no flag", "", "sdss", rep(2, 10), nil},
		{"R-RISK 0 does not flag", "R-RISK", "risk", []int{0}, nil},
		{"R-RISK 2 does not flag", "R-RISK", "risk", []int{2}, nil},
		{"R-RISK 3 flags", "R-RISK", "risk", []int{3}, []string{"risk_3_plus"}},
		{"R-RISK 4 flags", "R-RISK", "risk", []int{4}, []string{"risk_3_plus"}},
		{"R-RISK 5 flags", "R-RISK", "risk", []int{5}, []string{"risk_3_plus"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := def(t, c.id)
			r, err := d.Score(c.answers)
			if err != nil {
				t.Fatalf("Score(%v): %v", c.answers, err)
			}
			if r.Flags == nil || !slices.Equal(r.Flags, append([]string{}, c.flags...)) {
				t.Errorf("Score(%v) flags %#v, want %v", c.answers, r.Flags, c.flags)
			}
			if got := d.Alerts(r.Flags); got != (len(c.flags) > 0) {
				t.Errorf("Alerts(%v) = %v", r.Flags, got)
			}
			for _, k := range c.flags {
				if f := d.Flag(k); f == nil || f.Rule != c.rule || !f.Alert {
					t.Errorf("flag %q is %+v, want an alert under %s", k, f, c.rule)
				}
			}
		})
	}
	// The flags' definitions, as the rules give them.
	for _, c := range []struct {
		id, key, rule, item string
		min                 int
	}{
		{"phq9", "suicide_risk", "R-SCORE-PHQ9-ITEM9", "phq9_9", 1},
		{"k10", "very_high_distress", "R-SCORE-K10", "", 30},
		{"risk", "risk_3_plus", "R-RISK", "risk_level", 3},
	} {
		f := def(t, c.id).Flag(c.key)
		if f == nil || f.Rule != c.rule || f.Item != c.item || f.Min != c.min || !f.Alert {
			t.Errorf("%s: flag %q is %+v", c.rule, c.key, f)
		}
	}
	for _, id := range []string{"gad7", "sdss"} {
		if fs := def(t, id).Flags; len(fs) != 0 {
			t.Errorf("R-SCORE %s has flags %v, want none", id, fs)
		}
	}
}

func TestAnswerErrors(t *testing.T) {
	phq := def(t, "phq9")
	all := func(d *instrument.Definition, v int) map[string]int {
		m := map[string]int{}
		for _, it := range d.Items {
			m[it.ID] = v
		}
		return m
	}
	without := all(phq, 1)
	delete(without, "phq9_5")
	extra := all(phq, 1)
	extra["phq9_10"] = 0
	swapped := all(phq, 1)
	delete(swapped, "phq9_9")
	swapped["phq9_x"] = 0

	cases := []struct {
		name  string
		score func() (instrument.Result, error)
		item  string
		index int
	}{
		{"R-SCORE PHQ-9 takes 9 answers, not 8", func() (instrument.Result, error) { return phq.Score(rep(0, 8)) }, "", -1},
		{"R-SCORE PHQ-9 takes 9 answers, not 10", func() (instrument.Result, error) { return phq.Score(rep(0, 10)) }, "", -1},
		{"R-SCORE PHQ-9 takes 9 answers, not none", func() (instrument.Result, error) { return phq.Score(nil) }, "", -1},
		{"R-SCORE PHQ-9 item 4 = 4 is out of range", func() (instrument.Result, error) { return phq.Score([]int{0, 0, 0, 4, 0, 0, 0, 0, 0}) }, "phq9_4", 3},
		{"R-SCORE PHQ-9 item 1 = -1 is out of range", func() (instrument.Result, error) { return phq.Score([]int{-1, 0, 0, 0, 0, 0, 0, 0, 0}) }, "phq9_1", 0},
		{"R-SCORE GAD-7 item 7 = 4 is out of range", func() (instrument.Result, error) { return def(t, "gad7").Score([]int{0, 0, 0, 0, 0, 0, 4}) }, "gad7_7", 6},
		{"R-SCORE K10 item 1 = 0 is out of range", func() (instrument.Result, error) { return def(t, "k10").Score([]int{0, 1, 1, 1, 1, 1, 1, 1, 1, 1}) }, "k10_1", 0},
		{"R-SCORE K10 item 10 = 6 is out of range", func() (instrument.Result, error) { return def(t, "k10").Score([]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 6}) }, "k10_10", 9},
		{"R-SCORE SDSS item 8 = 3 is out of range", func() (instrument.Result, error) { return def(t, "sdss").Score([]int{0, 0, 0, 0, 0, 0, 0, 3, 0, 0}) }, "sdss_8", 7},
		{"R-RISK level 6 is out of range", func() (instrument.Result, error) { return def(t, "risk").Score([]int{6}) }, "risk_level", 0},
		{"R-RISK level -1 is out of range", func() (instrument.Result, error) { return def(t, "risk").Score([]int{-1}) }, "risk_level", 0},
		{"R-SCORE stored PHQ-9 answers missing item 5", func() (instrument.Result, error) { return phq.ScoreItems(without) }, "phq9_5", 4},
		{"R-SCORE stored PHQ-9 answers with no items", func() (instrument.Result, error) { return phq.ScoreItems(nil) }, "phq9_1", 0},
		{"R-SCORE stored PHQ-9 answers with an unknown item", func() (instrument.Result, error) { return phq.ScoreItems(extra) }, "phq9_10", -1},
		{"R-SCORE stored PHQ-9 answers with item 9 replaced by an unknown one", func() (instrument.Result, error) { return phq.ScoreItems(swapped) }, "phq9_9", 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.score()
			var ae *instrument.AnswerError
			if !errors.As(err, &ae) {
				t.Fatalf("got %+v, %v; want an *AnswerError", r, err)
			}
			if ae.Item != c.item || ae.Index != c.index || ae.Message == "" {
				t.Errorf("AnswerError %+v, want item %q index %d", ae, c.item, c.index)
			}
			if c.item != "" && !strings.Contains(err.Error(), c.item) {
				t.Errorf("error %q does not name item %s", err, c.item)
			}
			if r.Score != 0 || r.Band != "" || r.Flags != nil {
				t.Errorf("a failed score returned %+v", r)
			}
		})
	}
}

func ids(ds []*instrument.Definition) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.ID)
	}
	return s
}

func TestCatalogue(t *testing.T) {
	c := instrument.Default()
	if got, want := ids(c.All()), []string{"adherence", "gad7", "k10", "lifeskills", "phq9", "risk", "sdss"}; !slices.Equal(got, want) {
		t.Errorf("R-SCORE All() = %v, want %v", got, want)
	}
	if got, want := ids(c.Public()), []string{"gad7", "k10", "phq9"}; !slices.Equal(got, want) {
		t.Errorf("R-SCORE Public() = %v, want %v (SDSS and the risk level are for staff)", got, want)
	}
	if c.Latest("mmas8") != nil || c.Version("phq9", 2) != nil {
		t.Error("R-SCORE the catalogue holds an instrument or version it should not")
	}

	// Every file in defs/ loads on its own, is named after its id and
	// version, and is whole in both languages.
	names, err := os.ReadDir("defs")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		t.Run(n.Name(), func(t *testing.T) {
			b, err := os.ReadFile("defs/" + n.Name())
			if err != nil {
				t.Fatal(err)
			}
			one, err := instrument.Load(fstest.MapFS{n.Name(): {Data: b}})
			if err != nil {
				t.Fatalf("R-SCORE Load: %v", err)
			}
			all := one.All()
			if len(all) != 1 {
				t.Fatalf("R-SCORE %s holds %d instruments", n.Name(), len(all))
			}
			d := all[0]
			if want := fmt.Sprintf("%s.v%d.json", d.ID, d.Version); n.Name() != want {
				t.Errorf("R-SCORE %s holds %s", n.Name(), want)
			}
			if c.Version(d.ID, d.Version) == nil {
				t.Errorf("R-SCORE %s v%d is not in the built-in catalogue", d.ID, d.Version)
			}
			checkTexts(t, d)
		})
	}
}

// checkTexts checks what Load does not: that every text a person reads is
// there in both languages, and that item ids follow the pattern id_N.
func checkTexts(t *testing.T, d *instrument.Definition) {
	t.Helper()
	both := func(what string, x instrument.Text) {
		if strings.TrimSpace(x.EN) == "" || strings.TrimSpace(x.ZH) == "" {
			t.Errorf("R-SCORE %s: %s lacks a text: %+v", d.ID, what, x)
		}
	}
	both("title", d.Title)
	both("short", d.Short)
	both("prompt", d.Prompt)
	for i, it := range d.Items {
		both("item "+it.ID, it.Text)
		if len(d.Items) > 1 {
			if want := fmt.Sprintf("%s_%d", d.ID, i+1); it.ID != want {
				t.Errorf("R-SCORE %s: item %d is %q, want %q", d.ID, i+1, it.ID, want)
			}
		}
		seen := map[int]bool{}
		for _, o := range d.OptionsOf(it) {
			both(fmt.Sprintf("item %s option %d", it.ID, o.Value), o.Text)
			if seen[o.Value] {
				t.Errorf("R-SCORE %s: item %s has two options worth %d", d.ID, it.ID, o.Value)
			}
			seen[o.Value] = true
		}
	}
	keys := map[string]bool{}
	for _, b := range d.Bands {
		both("band "+b.Key+" label", b.Label)
		both("band "+b.Key+" advice", b.Advice)
		if keys[b.Key] {
			t.Errorf("R-SCORE %s: band %q twice", d.ID, b.Key)
		}
		keys[b.Key] = true
	}
	for _, f := range d.Flags {
		both("flag "+f.Key, f.Label)
	}
	if d.Source == "" || d.Licence == "" {
		t.Errorf("R-SCORE %s: source and licence are required", d.ID)
	}
}

func TestItems(t *testing.T) {
	for _, c := range []struct {
		id    string
		items int
	}{{"phq9", 9}, {"gad7", 7}, {"k10", 10}, {"sdss", 10}, {"risk", 1}} {
		if n := len(def(t, c.id).Items); n != c.items {
			t.Errorf("R-SCORE %s has %d items, want %d", c.id, n, c.items)
		}
	}
	if id := def(t, "risk").Items[0].ID; id != "risk_level" {
		t.Errorf("R-RISK item is %q, want risk_level", id)
	}
	// SDSS items in the order of CLINICAL.md.
	want := []string{"occupational", "marital", "parental", "withdrawal", "outside the home",
		"within the family", "family role", "self-care", "outside world", "responsibility"}
	for i, it := range def(t, "sdss").Items {
		if !strings.Contains(strings.ToLower(it.Text.EN), strings.ToLower(want[i])) {
			t.Errorf("R-SCORE SDSS item %d is %q, want %s", i+1, it.Text.EN, want[i])
		}
	}
}

func TestTextIn(t *testing.T) {
	x := instrument.Text{EN: "Mild", ZH: "轻度"}
	enOnly := instrument.Text{EN: "Mild"}
	for _, c := range []struct {
		text instrument.Text
		lang string
		want string
	}{
		{x, "zh", "轻度"},
		{x, "zh-Hans", "轻度"},
		{x, "zh-CN", "轻度"},
		{x, "en", "Mild"},
		{x, "en-GB", "Mild"},
		{x, "", "Mild"},
		{x, "z", "Mild"},
		{enOnly, "zh", "Mild"},
	} {
		if got := c.text.In(c.lang); got != c.want {
			t.Errorf("%+v.In(%q) = %q, want %q", c.text, c.lang, got, c.want)
		}
	}
}

// --- versions, with a small made-up instrument ---

func opts(values ...int) []instrument.Option {
	var o []instrument.Option
	for _, v := range values {
		o = append(o, instrument.Option{Value: v, Text: instrument.Text{EN: fmt.Sprint(v), ZH: fmt.Sprint(v)}})
	}
	return o
}

func item(id, subscale string) instrument.Item {
	return instrument.Item{ID: id, Text: instrument.Text{EN: id, ZH: id}, Subscale: subscale}
}

func band(key string, lo, hi int) instrument.Band {
	return instrument.Band{Key: key, Min: lo, Max: hi, Label: instrument.Text{EN: key, ZH: key}}
}

// demo v1: items a, b, c scored 0–2, total 0–6.
func demoV1() instrument.Definition {
	return instrument.Definition{
		ID: "demo", Version: 1,
		Title:   instrument.Text{EN: "Demo", ZH: "示例"},
		Short:   instrument.Text{EN: "Demo", ZH: "示例"},
		Options: opts(0, 1, 2),
		Items:   []instrument.Item{item("a", ""), item("b", ""), item("c", "")},
		Scoring: instrument.Sum,
		Bands:   []instrument.Band{band("low", 0, 2), band("high", 3, 6)},
		Flags:   []instrument.Flag{{Key: "c_high", Rule: "R-TEST", Item: "c", Min: 2, Alert: true}},
		Source:  "test", Licence: "test",
	}
}

// demo v2 reorders the items, adds d, and has subscales: x = a + b, y = c + d.
func demoV2() instrument.Definition {
	d := demoV1()
	d.Version = 2
	d.Items = []instrument.Item{item("c", "y"), item("a", "x"), item("d", "y"), item("b", "x")}
	d.Bands = []instrument.Band{band("low", 0, 3), band("high", 4, 8)}
	return d
}

func mapFS(t *testing.T, defs map[string]instrument.Definition) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for name, d := range defs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestVersions(t *testing.T) {
	c, err := instrument.Load(mapFS(t, map[string]instrument.Definition{
		"demo.v1.json": demoV1(), "demo.v2.json": demoV2(), "notes.txt": {},
	}))
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := c.Version("demo", 1), c.Version("demo", 2)
	if v1 == nil || v2 == nil || c.Latest("demo") != v2 || c.Version("demo", 3) != nil || c.Latest("nope") != nil {
		t.Fatalf("R-SCORE versions: v1 %v, v2 %v, latest %v", v1, v2, c.Latest("demo"))
	}
	if all := c.All(); len(all) != 1 || all[0] != v2 {
		t.Errorf("R-SCORE All() = %v, want v2 only", ids(all))
	}
	if len(c.Public()) != 0 {
		t.Errorf("R-SCORE Public() = %v, want none", ids(c.Public()))
	}
	if v1.MaxScore != 6 || v2.MaxScore != 8 {
		t.Errorf("R-SCORE max totals %d and %d, want 6 and 8", v1.MaxScore, v2.MaxScore)
	}

	// A response stored under v1, item by item, before v2 existed.
	stored := map[string]int{"a": 2, "b": 1, "c": 0}
	alone, err := instrument.Load(mapFS(t, map[string]instrument.Definition{"demo.v1.json": demoV1()}))
	if err != nil {
		t.Fatal(err)
	}
	before, err := alone.Latest("demo").ScoreItems(stored)
	if err != nil {
		t.Fatal(err)
	}
	after, err := v1.ScoreItems(stored)
	if err != nil {
		t.Fatal(err)
	}
	if before.Score != 3 || before.Band != "high" || fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("R-SCORE a v1 response scored %+v before v2 and %+v after, want 3 high both times", before, after)
	}
	if after.Subscales != nil {
		t.Errorf("R-SCORE v1 has no subscales, got %v", after.Subscales)
	}
	// v1 answers in v1's order still mean a, b, c.
	if r, err := v1.Score([]int{2, 1, 0}); err != nil || r.Score != 3 {
		t.Errorf("R-SCORE v1 Score(2,1,0) = %+v, %v", r, err)
	}
	// The same stored answers are not a v2 response: d is missing.
	var ae *instrument.AnswerError
	if _, err := v2.ScoreItems(stored); !errors.As(err, &ae) || ae.Item != "d" || ae.Index != 2 {
		t.Errorf("R-SCORE v1 answers under v2: %v, want item d unanswered", err)
	}

	// v2 answers in v2's order: c, a, d, b.
	r, err := v2.Score([]int{2, 1, 2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if r.Score != 5 || r.Band != "high" || r.Subscales["x"] != 1 || r.Subscales["y"] != 4 || len(r.Subscales) != 2 {
		t.Errorf("R-SCORE v2 Score(c=2,a=1,d=2,b=0) = %+v, want 5 high, x 1, y 4", r)
	}
	if !slices.Equal(r.Flags, []string{"c_high"}) {
		t.Errorf("R-SCORE v2 flags %v, want c_high (by item id, not position)", r.Flags)
	}
	// By id, the same answers in any order score the same.
	r2, err := v2.ScoreItems(map[string]int{"a": 1, "b": 0, "c": 2, "d": 2})
	if err != nil || fmt.Sprint(r) != fmt.Sprint(r2) {
		t.Errorf("R-SCORE v2 by position %+v, by id %+v, %v", r, r2, err)
	}
	if r, err := v2.Score(rep(0, 4)); err != nil || r.Subscales["x"] != 0 || r.Subscales["y"] != 0 || r.Band != "low" {
		t.Errorf("R-SCORE v2 all 0 = %+v, %v", r, err)
	}
}

func TestLoadRefuses(t *testing.T) {
	with := func(f func(*instrument.Definition)) instrument.Definition {
		d := demoV1()
		f(&d)
		return d
	}
	cases := []struct {
		name string
		defs map[string]instrument.Definition
		want string // part of the error
	}{
		{"a band gap", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) {
			d.Bands = []instrument.Band{band("low", 0, 2), band("high", 4, 6)}
		})}, "gap"},
		{"an overlapping band", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) {
			d.Bands = []instrument.Band{band("low", 0, 3), band("high", 3, 6)}
		})}, "overlaps"},
		{"bands that start above the minimum", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) {
			d.Bands = []instrument.Band{band("low", 1, 2), band("high", 3, 6)}
		})}, "gap"},
		{"bands that stop short of the maximum", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) {
			d.Bands = []instrument.Band{band("low", 0, 2), band("high", 3, 5)}
		})}, "can reach 6"},
		{"bands that run past the maximum", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) {
			d.Bands = []instrument.Band{band("low", 0, 2), band("high", 3, 7)}
		})}, "can reach 6"},
		{"no bands", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Bands = nil })}, "bands"},
		{"a flag on an unknown item", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Flags[0].Item = "z" })}, "real item"},
		{"a flag with no rule", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Flags[0].Rule = "" })}, "rule"},
		{"a duplicate version", map[string]instrument.Definition{"demo.v1.json": demoV1(), "demo.v1-copy.json": demoV1()}, "defined twice"},
		{"a duplicate item id", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Items[2].ID = "a" })}, "unique id"},
		{"an item without Chinese", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Items[1].Text.ZH = "" })}, "both languages"},
		{"an item without options", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Options = nil })}, "no options"},
		{"an unknown scoring", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Scoring = "mean" })}, "scoring"},
		{"no licence", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Licence = "" })}, "licence"},
		{"version 0", map[string]instrument.Definition{"x.json": with(func(d *instrument.Definition) { d.Version = 0 })}, "version"},
	}
	for _, c := range cases {
		t.Run("R-SCORE Load refuses "+c.name, func(t *testing.T) {
			cat, err := instrument.Load(mapFS(t, c.defs))
			if err == nil || cat != nil {
				t.Fatalf("Load accepted it")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
	t.Run("R-SCORE Load refuses broken JSON", func(t *testing.T) {
		if _, err := instrument.Load(fstest.MapFS{"x.json": {Data: []byte(`{"id": "x",`)}}); err == nil || !strings.Contains(err.Error(), "x.json") {
			t.Errorf("Load: %v, want an error naming the file", err)
		}
	})
}

// With "max" scoring the total is the highest item score, so it can be no
// lower than the highest of the items' lowest options, and no higher than
// the highest option.
func TestMaxScoringRange(t *testing.T) {
	d := instrument.Definition{
		ID: "lvl", Version: 1,
		Title: instrument.Text{EN: "Levels", ZH: "级别"},
		Items: []instrument.Item{
			{ID: "p", Text: instrument.Text{EN: "p", ZH: "p"}, Options: opts(1, 2)},
			{ID: "q", Text: instrument.Text{EN: "q", ZH: "q"}, Options: opts(0, 1, 2, 3)},
		},
		Scoring: instrument.Max,
		Bands:   []instrument.Band{band("one", 1, 1), band("more", 2, 3)},
		Source:  "test", Licence: "test",
	}
	c, err := instrument.Load(mapFS(t, map[string]instrument.Definition{"lvl.v1.json": d}))
	if err != nil {
		t.Fatalf("R-SCORE max scoring: Load: %v", err)
	}
	l := c.Latest("lvl")
	if l.MinScore != 1 || l.MaxScore != 3 {
		t.Errorf("R-SCORE max scoring: total %d–%d, want 1–3", l.MinScore, l.MaxScore)
	}
	for _, x := range []struct {
		p, q, score int
		band        string
	}{{1, 0, 1, "one"}, {1, 1, 1, "one"}, {2, 0, 2, "more"}, {1, 3, 3, "more"}} {
		if r, err := l.Score([]int{x.p, x.q}); err != nil || r.Score != x.score || r.Band != x.band {
			t.Errorf("R-SCORE max scoring Score(%d, %d) = %+v, %v; want %d %s", x.p, x.q, r, err, x.score, x.band)
		}
	}
}
