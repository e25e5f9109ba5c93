// Package instrument is Kith's assessment engine (R-SCORE). An instrument is
// data: a versioned JSON file embedded from defs/ giving its items and their
// texts in English and Chinese, the answer options with their scores, how the
// total is made, the severity bands and the flags. The engine validates
// answers against a definition and computes the score, band and flags; they
// are never typed in.
//
// Every version of every instrument stays loaded, so a response stored under
// an older version is still read with the definition it was answered on.
package instrument

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
)

// Text is a text in the two languages Kith speaks.
type Text struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// In returns the text in lang ("zh…" for Chinese, English otherwise).
func (t Text) In(lang string) string {
	if len(lang) >= 2 && lang[:2] == "zh" && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}

// Option is one answer to an item and the score it carries.
type Option struct {
	Value int  `json:"value"`
	Text  Text `json:"text"`
}

// Item is one question. Its ID is stable across versions, so stored answers
// are matched to items by ID, never by position.
type Item struct {
	ID       string   `json:"id"`
	Text     Text     `json:"text"`
	Options  []Option `json:"options,omitempty"` // when empty, the instrument's options apply
	Subscale string   `json:"subscale,omitempty"`
}

// Band is a severity band: totals from Min to Max inclusive.
type Band struct {
	Key    string `json:"key"`
	Min    int    `json:"min"`
	Max    int    `json:"max"`
	Label  Text   `json:"label"`
	Advice Text   `json:"advice"` // what the result means and what to do next, in plain words
}

// Flag is raised by an answer to one item (Item set) or by the total (Item
// empty) of at least Min. Alert flags raise an alert to the patient's team.
type Flag struct {
	Key   string `json:"key"`
	Rule  string `json:"rule"` // the CLINICAL.md rule, such as R-SCORE-PHQ9-ITEM9
	Item  string `json:"item,omitempty"`
	Min   int    `json:"min"`
	Alert bool   `json:"alert"`
	Label Text   `json:"label"`
}

// Scoring methods.
const (
	Sum = "sum" // the total is the sum of the items' scores
	Max = "max" // the total is the highest item score (a level, such as the risk level)
)

// Definition is one version of an instrument.
type Definition struct {
	ID       string   `json:"id"`
	Version  int      `json:"version"`
	Title    Text     `json:"title"`
	Short    Text     `json:"short"`  // short name, such as PHQ-9
	Prompt   Text     `json:"prompt"` // what the items are asked about, such as "over the last 2 weeks"
	Options  []Option `json:"options,omitempty"`
	Items    []Item   `json:"items"`
	Scoring  string   `json:"scoring"`
	Bands    []Band   `json:"bands"`
	Flags    []Flag   `json:"flags,omitempty"`
	Public   bool     `json:"public"` // offered for anonymous self-screening
	Source   string   `json:"source"`
	Licence  string   `json:"licence"`
	MinScore int      `json:"min_score"`
	MaxScore int      `json:"max_score"`
}

// Result is what the engine makes of a set of answers.
type Result struct {
	Score     int            `json:"score"`
	Subscales map[string]int `json:"subscales,omitempty"`
	Band      string         `json:"band"`
	Flags     []string       `json:"flags"`
}

// AnswerError says which answer is wrong and why.
type AnswerError struct {
	Item    string // the item's ID, or "" for the whole set
	Index   int    // the item's position, from 0, or -1
	Message string
}

func (e *AnswerError) Error() string {
	if e.Item == "" {
		return e.Message
	}
	return fmt.Sprintf("item %s: %s", e.Item, e.Message)
}

// OptionsOf returns the answer options of an item.
func (d *Definition) OptionsOf(it Item) []Option {
	if len(it.Options) > 0 {
		return it.Options
	}
	return d.Options
}

// Score checks answers given in item order and scores them.
func (d *Definition) Score(answers []int) (Result, error) {
	if len(answers) != len(d.Items) {
		return Result{}, &AnswerError{Index: -1, Message: fmt.Sprintf("%s takes %d answers, not %d", d.Short.EN, len(d.Items), len(answers))}
	}
	m := make(map[string]int, len(answers))
	for i, it := range d.Items {
		m[it.ID] = answers[i]
	}
	return d.ScoreItems(m)
}

// ScoreItems checks answers keyed by item ID, as they are stored, and scores them.
func (d *Definition) ScoreItems(answers map[string]int) (Result, error) {
	r := Result{Flags: []string{}}
	for i, it := range d.Items {
		v, ok := answers[it.ID]
		if !ok {
			return Result{}, &AnswerError{Item: it.ID, Index: i, Message: "is not answered"}
		}
		if !slices.ContainsFunc(d.OptionsOf(it), func(o Option) bool { return o.Value == v }) {
			return Result{}, &AnswerError{Item: it.ID, Index: i, Message: "must be one of " + d.valuesOf(it)}
		}
		switch d.Scoring {
		case Max:
			r.Score = max(r.Score, v)
		default:
			r.Score += v
		}
		if it.Subscale != "" {
			if r.Subscales == nil {
				r.Subscales = map[string]int{}
			}
			r.Subscales[it.Subscale] += v
		}
	}
	if len(answers) != len(d.Items) {
		for id := range answers {
			if d.item(id) < 0 {
				return Result{}, &AnswerError{Item: id, Index: -1, Message: "is not an item of " + d.Short.EN}
			}
		}
	}
	if b := d.BandOf(r.Score); b != nil {
		r.Band = b.Key
	}
	for _, f := range d.Flags {
		v := r.Score
		if f.Item != "" {
			v = answers[f.Item]
		}
		if v >= f.Min {
			r.Flags = append(r.Flags, f.Key)
		}
	}
	return r, nil
}

// BandOf returns the band a total falls in, or nil.
func (d *Definition) BandOf(score int) *Band {
	for i := range d.Bands {
		if d.Bands[i].Min <= score && score <= d.Bands[i].Max {
			return &d.Bands[i]
		}
	}
	return nil
}

// Band returns the band with the key, or nil.
func (d *Definition) Band(key string) *Band {
	for i := range d.Bands {
		if d.Bands[i].Key == key {
			return &d.Bands[i]
		}
	}
	return nil
}

// Flag returns the flag with the key, or nil.
func (d *Definition) Flag(key string) *Flag {
	for i := range d.Flags {
		if d.Flags[i].Key == key {
			return &d.Flags[i]
		}
	}
	return nil
}

// Alerts reports whether any of the flags raises an alert.
func (d *Definition) Alerts(flags []string) bool {
	for _, k := range flags {
		if f := d.Flag(k); f != nil && f.Alert {
			return true
		}
	}
	return false
}

func (d *Definition) item(id string) int {
	return slices.IndexFunc(d.Items, func(it Item) bool { return it.ID == id })
}

func (d *Definition) valuesOf(it Item) string {
	var s string
	for i, o := range d.OptionsOf(it) {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(o.Value)
	}
	return s
}

// check verifies that a definition is whole: every item has options, the
// bands cover every possible total exactly once, flags name real items.
func (d *Definition) check() error {
	if d.ID == "" || d.Version < 1 || len(d.Items) == 0 || d.Title.EN == "" || d.Title.ZH == "" || d.Source == "" || d.Licence == "" {
		return fmt.Errorf("instrument %q v%d: id, version, title in both languages, items, source and licence are required", d.ID, d.Version)
	}
	if d.Scoring != Sum && d.Scoring != Max {
		return fmt.Errorf("instrument %s: scoring %q is not sum or max", d.ID, d.Scoring)
	}
	seen := map[string]bool{}
	d.MinScore, d.MaxScore = 0, 0
	for i, it := range d.Items {
		if it.ID == "" || seen[it.ID] || it.Text.EN == "" || it.Text.ZH == "" {
			return fmt.Errorf("instrument %s: item %d needs a unique id and text in both languages", d.ID, i+1)
		}
		seen[it.ID] = true
		opts := d.OptionsOf(it)
		if len(opts) == 0 {
			return fmt.Errorf("instrument %s: item %s has no options", d.ID, it.ID)
		}
		lo, hi := opts[0].Value, opts[0].Value
		for _, o := range opts {
			if o.Text.EN == "" || o.Text.ZH == "" {
				return fmt.Errorf("instrument %s: an option of item %s lacks a text", d.ID, it.ID)
			}
			lo, hi = min(lo, o.Value), max(hi, o.Value)
		}
		if d.Scoring == Max {
			// The total is the highest item score: at least the highest
			// of the items' lowest options, at most the highest option.
			if i == 0 {
				d.MinScore, d.MaxScore = lo, hi
			}
			d.MinScore, d.MaxScore = max(d.MinScore, lo), max(d.MaxScore, hi)
		} else {
			d.MinScore += lo
			d.MaxScore += hi
		}
	}
	bands := slices.Clone(d.Bands)
	sort.Slice(bands, func(i, j int) bool { return bands[i].Min < bands[j].Min })
	next := d.MinScore
	for _, b := range bands {
		if b.Min != next || b.Max < b.Min || b.Key == "" || b.Label.EN == "" || b.Label.ZH == "" {
			return fmt.Errorf("instrument %s: band %q leaves a gap or overlaps at %d", d.ID, b.Key, next)
		}
		next = b.Max + 1
	}
	if next != d.MaxScore+1 {
		return fmt.Errorf("instrument %s: bands end at %d, the total can reach %d", d.ID, next-1, d.MaxScore)
	}
	for _, f := range d.Flags {
		if f.Key == "" || f.Rule == "" || (f.Item != "" && !seen[f.Item]) {
			return fmt.Errorf("instrument %s: flag %q needs a key, a rule and a real item", d.ID, f.Key)
		}
	}
	return nil
}

// Catalogue holds every version of every instrument.
type Catalogue struct {
	versions map[string][]*Definition // by id, oldest first
	ids      []string
}

//go:embed defs/*.json
var defs embed.FS

var builtIn = mustLoad()

// Default returns the built-in catalogue.
func Default() *Catalogue { return builtIn }

func mustLoad() *Catalogue {
	sub, err := fs.Sub(defs, "defs")
	if err != nil {
		panic(err)
	}
	c, err := Load(sub)
	if err != nil {
		panic(err)
	}
	return c
}

// Load reads every *.json definition in fsys (one version per file).
func Load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	c := &Catalogue{versions: map[string][]*Definition{}}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		d := new(Definition)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(d); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := d.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(c.versions[d.ID]) == 0 {
			c.ids = append(c.ids, d.ID)
		}
		c.versions[d.ID] = append(c.versions[d.ID], d)
	}
	for id, vs := range c.versions {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
		for i := 1; i < len(vs); i++ {
			if vs[i].Version == vs[i-1].Version {
				return nil, fmt.Errorf("instrument %s: version %d defined twice", id, vs[i].Version)
			}
		}
	}
	sort.Strings(c.ids)
	return c, nil
}

// Latest returns the newest version of an instrument, or nil.
func (c *Catalogue) Latest(id string) *Definition {
	vs := c.versions[id]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// Version returns one version of an instrument, or nil.
func (c *Catalogue) Version(id string, version int) *Definition {
	for _, d := range c.versions[id] {
		if d.Version == version {
			return d
		}
	}
	return nil
}

// All returns the newest version of every instrument, by id.
func (c *Catalogue) All() []*Definition {
	out := make([]*Definition, 0, len(c.ids))
	for _, id := range c.ids {
		out = append(out, c.Latest(id))
	}
	return out
}

// Public returns the newest version of the instruments offered for
// anonymous self-screening.
func (c *Catalogue) Public() []*Definition {
	var out []*Definition
	for _, d := range c.All() {
		if d.Public {
			out = append(out, d)
		}
	}
	return out
}
