package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kith/internal/care"
)

// column is a column of the spreadsheet template: the service's field it
// fills, and its headers in Chinese and English (a header row may use
// either, column by column).
type column struct {
	Field, ZH, EN string
	// Patient columns are read from a patient's first row; the others are
	// one follow-up per row.
	Patient bool
}

// Columns are the template's columns, in order. A patient's follow-ups
// are on consecutive rows: the first row holds the patient's columns, and
// the rows after it whose patient columns are blank (or repeat the same
// national ID, name and birth date) add follow-ups to the same patient.
var Columns = []column{
	{"national_id", "身份证号", "National ID", true},
	{"source_id", "原系统编号", "Source ID", true},
	{"name", "姓名", "Name", true},
	{"sex", "性别", "Sex", true},
	{"birth_date", "出生日期", "Birth date", true},
	{"phone", "联系电话", "Phone", true},
	{"address", "现住址", "Address", true},
	{"org_unit", "社区编码", "Community code", true},
	{"diagnoses", "诊断", "Diagnoses", true},
	{"guardian.name", "监护人姓名", "Guardian name", true},
	{"guardian.relation", "与患者关系", "Guardian relation", true},
	{"guardian.phone", "监护人电话", "Guardian phone", true},
	{"status", "管理状态", "Status", true},
	{"registered_on", "建档日期", "Registered on", true},
	{"consent", "知情同意", "Consent", true},
	{"consent_on", "同意日期", "Consent on", true},
	{"date", "随访日期", "Follow-up date", false},
	{"mode", "随访方式", "Follow-up mode", false},
	{"reached", "是否随访到", "Reached", false},
	{"not_reached_reason", "未随访到原因", "Not reached reason", false},
	{"death_date", "死亡日期", "Death date", false},
	{"death_cause", "死亡原因", "Death cause", false},
	{"risk_level", "危险性评估", "Risk level", false},
	{"psychotic_symptoms", "精神症状", "Psychotic symptoms", false},
	{"insight", "自知力", "Insight", false},
	{"sleep", "睡眠情况", "Sleep", false},
	{"diet", "饮食情况", "Diet", false},
	{"social_function.self_care", "个人生活料理", "Self-care", false},
	{"social_function.housework", "家务劳动", "Housework", false},
	{"social_function.work", "生产劳动及工作", "Work", false},
	{"social_function.learning", "学习能力", "Learning", false},
	{"social_function.social_contact", "社会人际交往", "Social contact", false},
	{"medication_adherence", "服药依从性", "Medication adherence", false},
	{"adverse_reaction", "药物不良反应", "Adverse reaction", false},
	{"physical_illness", "躯体疾病", "Physical illness", false},
	{"treatment_effect", "治疗效果", "Treatment effect", false},
	{"notes", "备注", "Notes", false},
}

// Template writes the spreadsheet template as CSV: the header row in the
// language asked for (zh-Hans or en) and one example patient with two
// follow-ups. A UTF-8 byte order mark first, so that spreadsheet programs
// read the Chinese headers right.
func Template(w io.Writer, lang string) error {
	cw := csv.NewWriter(w)
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	head := make([]string, len(Columns))
	for i, c := range Columns {
		head[i] = c.EN
		if lang != "en" {
			head[i] = c.ZH
		}
	}
	cw.Write(head)
	ex := []map[string]string{{
		"national_id": "110101198001010010", "name": "张三", "sex": "male", "birth_date": "1980-01-01",
		"phone": "13800000000", "address": "", "org_unit": "C0101", "diagnoses": "schizophrenia; F20.0",
		"guardian.name": "张四", "guardian.relation": "brother", "guardian.phone": "13900000000", "status": "managed",
		"registered_on": "2024-01-05", "consent": "yes", "consent_on": "2024-01-05",
		"date": "2024-02-01", "mode": "home_visit", "reached": "yes", "risk_level": "0", "psychotic_symptoms": "none",
		"insight": "complete", "sleep": "good", "diet": "good", "social_function.self_care": "good",
		"social_function.housework": "good", "social_function.work": "fair", "social_function.learning": "good",
		"social_function.social_contact": "good", "medication_adherence": "regular", "adverse_reaction": "none",
		"physical_illness": "none", "treatment_effect": "", "notes": "",
	}, {"date": "2024-05-02", "mode": "phone", "reached": "no", "not_reached_reason": "working_away"}}
	for _, row := range ex {
		rec := make([]string, len(Columns))
		for i, c := range Columns {
			rec[i] = row[c.Field]
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// rowSource gives a spreadsheet's rows, CSV or XLSX alike.
type rowSource interface {
	row() ([]string, error) // io.EOF after the last
	close() error
}

// csvRows reads a CSV file's rows, and reports as progress the bytes of
// the rows read (the reader's offset, not the bytes buffered ahead of it).
type csvRows struct {
	f        *os.File
	r        *csv.Reader
	size     int64
	progress progressTo
}

func (c *csvRows) row() ([]string, error) {
	rec, err := c.r.Read()
	done := c.r.InputOffset()
	if err == io.EOF {
		done = c.size
	}
	c.progress.upTo(done)
	return rec, err
}

func (c *csvRows) close() error { return c.f.Close() }

// xlsxRows streams the first sheet's rows (excelize's Rows reads the sheet
// as a stream, not whole). A compressed sheet has no byte offset to count,
// so its progress is the file's size shared out over the rows that the
// sheet's dimension announces (all of it at the end if it announces none).
type xlsxRows struct {
	f        *excelize.File
	rows     *excelize.Rows
	size     int64
	total    int64 // rows, from the sheet's dimension; 0 if unknown
	read     int64 // rows read
	progress progressTo
}

func (x *xlsxRows) row() ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, err
		}
		x.progress.upTo(x.size)
		return nil, io.EOF
	}
	x.read++
	if x.total > 0 {
		x.progress.upTo(x.size * min(x.read, x.total) / x.total)
	}
	return x.rows.Columns()
}

// dimensionRows is the number of rows the sheet's dimension ("A1:Q120")
// announces, 0 if it announces none.
func dimensionRows(f *excelize.File, sheet string) int64 {
	d, err := f.GetSheetDimension(sheet)
	if err != nil {
		return 0
	}
	_, last, ok := strings.Cut(d, ":")
	if !ok {
		return 0
	}
	_, rows, err := excelize.CellNameToCoordinates(last)
	if err != nil {
		return 0
	}
	return int64(rows)
}

func (x *xlsxRows) close() error {
	x.rows.Close()
	return x.f.Close()
}

// sheet reads patients from a spreadsheet.
type sheet struct {
	name  string
	rows  rowSource
	cols  []int // the field's index in Columns for each column of the file, -1 if none
	head  []string
	line  int
	ahead []string // a row read but not yet used: the next patient's first
	aline int
}

// unreadable is a file that is not what its name says (a CSV with a quote
// out of place, an XLSX that is no workbook): a problem of the file, which
// the report names, not a failure of the import. Its message is one of a
// few fixed sentences, never the parser's own text.
type unreadable struct {
	file    string
	line    int
	message string
}

func (u *unreadable) Error() string { return fmt.Sprintf("%s:%d: %s", u.file, u.line, u.message) }

func (u *unreadable) problem() Problem {
	return Problem{File: u.file, Line: u.line, Message: u.message}
}

// readError turns an error of reading a spreadsheet into an unreadable
// file, saying in plain words what is wrong where it can; line is where an
// XLSX's reading stopped (a CSV's error knows its own).
func (s *sheet) readError(line int, err error) error {
	if _, ok := s.rows.(*xlsxRows); ok {
		return &unreadable{file: s.name, line: line, message: "cannot be read as an XLSX workbook"}
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err // the file could not be read at all: not the file's fault
	}
	msg := "cannot be read as CSV"
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = "cannot be read as CSV: a \" inside a value that does not start with \""
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = "cannot be read as CSV: a value in quotes is not closed, or text follows its closing \""
	}
	return &unreadable{file: s.name, line: pe.Line, message: msg}
}

func openSheet(path string, progress func(int64)) (reader, error) {
	s := &sheet{name: filepath.Base(path)}
	if Format(path) == "xlsx" {
		bad := &unreadable{file: s.name, message: "cannot be read as an XLSX workbook"}
		f, err := excelize.OpenFile(path)
		if err != nil {
			return nil, bad
		}
		name := f.GetSheetName(0)
		rows, err := f.Rows(name)
		if err != nil {
			f.Close()
			return nil, bad
		}
		st, _ := os.Stat(path)
		s.rows = &xlsxRows{f: f, rows: rows, size: st.Size(), total: dimensionRows(f, name),
			progress: progressTo{report: progress}}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = false
		s.rows = &csvRows{f: f, r: cr, size: st.Size(), progress: progressTo{report: progress}}
	}
	return s, s.header()
}

var spaces = regexp.MustCompile(`\s+`)

// header reads the header row and matches each column to the template's,
// by its Chinese or English header.
func (s *sheet) header() error {
	h, err := s.rows.row()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return s.readError(1, err)
	}
	s.line = 1
	s.head = h
	s.cols = make([]int, len(h))
	for i, v := range h {
		v = strings.ToLower(spaces.ReplaceAllString(strings.TrimSpace(strings.TrimPrefix(v, "\ufeff")), " "))
		s.cols[i] = slices.IndexFunc(Columns, func(c column) bool { return c.ZH == v || strings.ToLower(c.EN) == v || c.Field == v })
	}
	return nil
}

func (s *sheet) close() error { return s.rows.close() }

// values maps a row to the template's fields.
func (s *sheet) values(row []string) map[string]string {
	m := make(map[string]string, len(Columns))
	for i, v := range row {
		if i < len(s.cols) && s.cols[i] >= 0 {
			if v = strings.TrimSpace(v); v != "" {
				m[Columns[s.cols[i]].Field] = v
			}
		}
	}
	return m
}

// header returns the file's header for a field, or "".
func (s *sheet) headerOf(field string) string {
	for i, c := range s.cols {
		if c >= 0 && Columns[c].Field == field {
			return s.head[i]
		}
	}
	return ""
}

// identity is what tells one patient's rows from the next one's.
func identity(m map[string]string) string {
	return m["national_id"] + "|" + m["source_id"] + "|" + m["name"] + "|" + m["birth_date"]
}

func (s *sheet) read() ([]string, int, error) {
	if s.ahead != nil {
		r, l := s.ahead, s.aline
		s.ahead = nil
		return r, l, nil
	}
	for {
		r, err := s.rows.row()
		if err == io.EOF {
			return nil, 0, err
		}
		if err != nil {
			return nil, 0, s.readError(s.line+1, err)
		}
		s.line++
		if slices.ContainsFunc(r, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			return r, s.line, nil
		}
	}
}

func (s *sheet) next() (*item, error) {
	if s.cols == nil {
		return nil, io.EOF
	}
	first, line, err := s.read()
	if err != nil {
		return nil, err
	}
	pm := s.values(first)
	id := identity(pm)
	it := &item{file: s.name}
	var fuLines []int
	var fuRows []map[string]string
	if pm["date"] != "" || pm["mode"] != "" || pm["reached"] != "" {
		fuRows, fuLines = append(fuRows, pm), append(fuLines, line)
	}
	for {
		r, l, err := s.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		m := s.values(r)
		if v := identity(m); v != "|||" && v != id {
			s.ahead, s.aline = r, l
			break
		}
		fuRows, fuLines = append(fuRows, m), append(fuLines, l)
	}
	problem := func(l int, field, msg string) {
		it.problems = append(it.problems, Problem{File: s.name, Line: l, Column: s.headerOf(field), Message: msg})
	}
	in := care.PatientInput{NationalID: pm["national_id"], Name: pm["name"], Sex: sexValue(pm["sex"]), BirthDate: pm["birth_date"],
		Phone: pm["phone"], Address: pm["address"], OrgUnit: pm["org_unit"], Status: pm["status"],
		RegisteredOn: pm["registered_on"], ConsentOn: pm["consent_on"],
		Guardian: care.Guardian{Name: pm["guardian.name"], Relation: pm["guardian.relation"], Phone: pm["guardian.phone"]}}
	if v := pm["consent"]; v != "" {
		b, ok := yesNo(v)
		if !ok {
			problem(line, "consent", "must be yes or no (是 or 否)")
		}
		in.Consent = b
	}
	for _, code := range strings.FieldsFunc(pm["diagnoses"], func(r rune) bool { return r == ';' || r == '；' || r == ',' || r == '，' }) {
		in.Diagnoses = append(in.Diagnoses, care.Diagnosis{Code: strings.TrimSpace(code)})
	}
	switch {
	case pm["source_id"] != "":
		it.rec.Key = "sheet:" + pm["source_id"]
	case pm["national_id"] == "":
		// No national ID: the patient is known by name, birth date and
		// community, which a rerun of the same file gives again.
		it.rec.Key = "sheet:" + pm["name"] + "|" + pm["birth_date"] + "|" + pm["org_unit"]
	}
	type fuAt struct {
		in   care.FollowUpInput
		line int
	}
	var fus []fuAt
	for i, m := range fuRows {
		fu, ok := followUpOf(m, func(field, msg string) { problem(fuLines[i], field, msg) })
		if ok {
			fus = append(fus, fuAt{fu, fuLines[i]})
		}
	}
	// In date order, as the service records them: the service's
	// follow_ups[i] is then the i-th here.
	slices.SortStableFunc(fus, func(a, b fuAt) int { return strings.Compare(a.in.Date, b.in.Date) })
	for _, f := range fus {
		it.rec.FollowUps = append(it.rec.FollowUps, f.in)
	}
	it.rec.Patient = in
	it.locate = func(field string) (string, int, string) {
		if rest, ok := strings.CutPrefix(field, "follow_ups["); ok {
			n, sub, _ := strings.Cut(rest, "].")
			i, _ := strconv.Atoi(n)
			if i < len(fus) {
				return s.name, fus[i].line, s.headerOf(columnField(sub))
			}
			return s.name, line, ""
		}
		return s.name, line, s.headerOf(columnField(field))
	}
	return it, nil
}

// columnField is the template field a service field name comes from:
// diagnoses[2].code comes from diagnoses, symptoms[0] from symptoms.
func columnField(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		return field[:i]
	}
	if strings.HasPrefix(field, "hospitalisation.") || strings.HasPrefix(field, "dangerous_behaviour.") {
		return ""
	}
	return field
}

// followUpOf reads a follow-up's columns; problem is told of those that
// cannot be read at all (the service checks the rest).
func followUpOf(m map[string]string, problem func(field, msg string)) (care.FollowUpInput, bool) {
	fu := care.FollowUpInput{Date: m["date"], Mode: modeValue(m["mode"]), NotReachedReason: m["not_reached_reason"],
		DeathDate: m["death_date"], DeathCause: m["death_cause"], PsychoticSymptoms: m["psychotic_symptoms"],
		Insight: m["insight"], Sleep: m["sleep"], Diet: m["diet"], MedicationAdherence: m["medication_adherence"],
		AdverseReaction: m["adverse_reaction"], PhysicalIllness: m["physical_illness"], TreatmentEffect: m["treatment_effect"],
		Notes: m["notes"]}
	ok := true
	if v := m["reached"]; v != "" {
		b, good := yesNo(v)
		if !good {
			problem("reached", "must be yes or no (是 or 否)")
			ok = false
		}
		fu.Reached = &b
	}
	if v := m["risk_level"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			problem("risk_level", "must be a whole number from 0 to 5")
			ok = false
		}
		fu.RiskLevel = &n
	}
	for _, c := range Columns {
		if area, found := strings.CutPrefix(c.Field, "social_function."); found && m[c.Field] != "" {
			if fu.SocialFunction == nil {
				fu.SocialFunction = map[string]string{}
			}
			fu.SocialFunction[area] = m[c.Field]
		}
	}
	return fu, ok
}

// yesNo reads a yes or no in either language.
func yesNo(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true", "1", "是":
		return true, true
	case "no", "n", "false", "0", "否":
		return false, true
	}
	return false, false
}

func sexValue(v string) string {
	switch v {
	case "男":
		return "male"
	case "女":
		return "female"
	}
	return strings.ToLower(v)
}

func modeValue(v string) string {
	switch v {
	case "门诊":
		return "clinic"
	case "家庭访视", "入户":
		return "home_visit"
	case "电话":
		return "phone"
	}
	return v
}
