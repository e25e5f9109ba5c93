package web

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"kith/internal/care"
	"kith/internal/kpi"
	"kith/internal/report"
)

// Exports: the figures of a unit, the table of its child units and the
// list behind a figure, as CSV (UTF-8 with a byte order mark, so that
// Excel reads Chinese) or XLSX, with column headers in the page's language.

// sheet is one table to export. Cells are strings, whole numbers, numbers,
// or nil for an empty cell.
type sheet struct {
	Name   string
	Header []string
	Rows   [][]any
}

// exportMaxRows is the longest list exported in one file.
const exportMaxRows = 20000

const (
	csvType  = "text/csv; charset=utf-8"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// exportFormat checks the format asked for.
func exportFormat(format string) error {
	if format != "csv" && format != "xlsx" {
		return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
			Fields: []care.FieldError{{Field: "format", Message: "must be csv or xlsx"}}}
	}
	return nil
}

// fileName is the name of an exported file: kith-figures-D01-2026-11.csv.
// Unit codes and period strings are letters, digits, - and _ only, once
// the range's ".." is made a "_".
func fileName(what, unit string, per kpi.Period, format string) string {
	return "kith-" + what + "-" + unit + "-" + strings.ReplaceAll(per.String(), "..", "_") + "." + format
}

// figureExport exports the figures of a unit (table=figures) or the table
// of its child units (table=units).
func (s *server) figureExport(w http.ResponseWriter, r *http.Request, p *page) error {
	q := readFigureQuery(p, r)
	if q.Form.Failed() {
		return invalidQuery(q.Form)
	}
	v := r.URL.Query()
	format := v.Get("format")
	if err := exportFormat(format); err != nil {
		return err
	}
	ctx := r.Context()
	switch v.Get("table") {
	case "figures":
		set, err := s.svc.Figures(ctx, q.Unit, q.Period, q.Targets)
		if err != nil {
			return err
		}
		return writeExport(w, format, fileName("figures", set.OrgUnit, q.Period, format), p.figureSheet(set))
	case "units":
		kids, err := s.svc.ChildFigures(ctx, q.Unit, q.Period, q.Targets)
		if err != nil {
			return err
		}
		sortKey, desc := readSort(v)
		unit := q.Unit
		if unit == "" {
			unit = p.User.UnitCode
		}
		return writeExport(w, format, fileName("units", unit, q.Period, format), p.unitSheet(sortSets(kids, sortKey, desc)))
	}
	return &care.Error{Kind: care.Invalid, Message: "please correct the fields shown",
		Fields: []care.FieldError{{Field: "table", Message: "must be figures or units"}}}
}

// exportPatients exports the whole list behind a figure.
func (s *server) exportPatients(w http.ResponseWriter, r *http.Request, p *page, q *figureQuery, key kpi.Key, format string) error {
	if err := exportFormat(format); err != nil {
		return err
	}
	counted, _ := countedParam(r, key)
	rows, more, err := s.svc.FigureList(r.Context(), q.Unit, q.Period, key, counted, exportMaxRows)
	if err != nil {
		return err
	}
	if more {
		return &care.Error{Kind: care.Invalid, Message: fmt.Sprintf(
			"the list is longer than %d patients: export the list of a smaller org unit", exportMaxRows)}
	}
	unit := q.Unit
	if unit == "" {
		unit = p.User.UnitCode
	}
	return writeExport(w, format, fileName(string(key), unit, q.Period, format), p.patientSheet(key, rows))
}

// cellValue is a figure's value for a spreadsheet: empty when there is none.
func cellValue(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func (p *page) unitName(unit string) string {
	if unit == kpi.Count {
		return p.T("figures.unit.count")
	}
	return unit
}

// figureSheet is the figures of one unit, one a row, with the previous
// period's values and the change.
func (p *page) figureSheet(set *care.FigureSet) sheet {
	sh := sheet{Name: p.T("figures.sheet.figures"), Header: []string{
		p.T("figures.col.code"), p.T("figures.col.unit"), p.T("field.from"), p.T("field.to"), p.T("figures.col.key"),
		p.T("figures.col.figure"), p.T("figures.col.value"), p.T("figures.col.value_unit"), p.T("figures.col.numerator"),
		p.T("figures.col.denominator"), p.T("figures.col.previous"), p.T("figures.col.change"), p.T("figures.target"),
		p.T("figures.col.below"), p.T("figures.col.note"), p.T("figures.col.as_of")}}
	for _, f := range set.Figures {
		var den, prev, change, target any
		if f.Unit != kpi.Count {
			den = f.Denominator
		}
		if pf, ok := kpi.Find(set.Previous, f.Key); ok {
			prev = cellValue(pf.Value)
			change = cellValue(kpi.Change(f, pf))
		}
		if f.Target != nil {
			target = *f.Target
		}
		below, note := "", ""
		if f.BelowTarget {
			below = p.T("enum.yesno.yes")
		}
		if f.KithDefinition {
			note = p.T("figures.kith")
		}
		sh.Rows = append(sh.Rows, []any{set.OrgUnit, set.Name, set.From, set.To, string(f.Key), p.FigureName(f.Key),
			cellValue(f.Value), p.unitName(f.Unit), f.Numerator, den, prev, change, target, below, note, p.Time(set.AsOf)})
	}
	return sh
}

// unitSheet is the figures of units side by side, one a row: each rate as
// its value, numerator and denominator, each count as itself.
func (p *page) unitSheet(sets []care.FigureSet) sheet {
	sh := sheet{Name: p.T("figures.sheet.units"), Header: []string{p.T("figures.col.code"), p.T("figures.col.unit"),
		p.T("field.level"), p.T("field.from"), p.T("field.to"), p.T("figures.col.as_of")}}
	for _, k := range kpi.Keys {
		name := p.FigureName(k)
		if u := figureUnits[k]; u == kpi.Count {
			sh.Header = append(sh.Header, name)
		} else {
			sh.Header = append(sh.Header, p.T("figures.col.in", "Figure", name, "Unit", u),
				p.T("figures.col.numerator.of", "Figure", name), p.T("figures.col.denominator.of", "Figure", name))
		}
	}
	for _, s := range sets {
		row := []any{s.OrgUnit, s.Name, p.Level(s.Level), s.From, s.To, p.Time(s.AsOf)}
		for _, k := range kpi.Keys {
			f, _ := kpi.Find(s.Figures, k)
			if f.Unit == kpi.Count {
				row = append(row, f.Numerator)
			} else {
				row = append(row, cellValue(f.Value), f.Numerator, f.Denominator)
			}
		}
		sh.Rows = append(sh.Rows, row)
	}
	return sh
}

// patientSheet is the list behind a figure.
func (p *page) patientSheet(key kpi.Key, rows []report.Row) sheet {
	sh := sheet{Name: p.FigureName(key), Header: []string{p.T("figures.col.patient_id"), p.T("field.patient_name"),
		p.T("worklist.community"), p.T("field.status"), p.T("patient.last_follow_up"), p.T("patient.next_due"),
		p.T("patient.classification"), p.T("patient.risk")}}
	for _, r := range rows {
		var risk any
		if r.RiskLevel != nil {
			risk = int64(*r.RiskLevel)
		}
		sh.Rows = append(sh.Rows, []any{r.PatientID, r.Name, r.OrgUnitName, p.Enum("status", r.Status), r.LastFollowUpOn,
			r.NextDueOn, p.Enum("class", r.Classification), risk})
	}
	return sh
}

// writeExport sends a sheet as a file to download.
func writeExport(w http.ResponseWriter, format, name string, sh sheet) error {
	h := w.Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	// Exports may hold personal data: keep them out of caches.
	h.Set("Cache-Control", "no-store")
	if format == "csv" {
		h.Set("Content-Type", csvType)
		return writeCSV(w, sh)
	}
	h.Set("Content-Type", xlsxType)
	return writeXLSX(w, sh)
}

func writeCSV(w http.ResponseWriter, sh sheet) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\uFEFF") // the byte order mark tells Excel the file is UTF-8
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(sh.Header); err != nil {
		return err
	}
	rec := make([]string, len(sh.Header))
	for _, row := range sh.Rows {
		for i, c := range row {
			rec[i] = csvCell(c)
		}
		if err := cw.Write(rec[:len(row)]); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvCell writes a cell as text. Text that a spreadsheet would take for a
// formula (=, +, -, @ first) is kept as text with a leading apostrophe.
func csvCell(c any) string {
	switch v := c.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			return "'" + v
		}
		return v
	}
	return fmt.Sprint(c)
}

func writeXLSX(w http.ResponseWriter, sh sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(sh.Name)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	header := make([]any, len(sh.Header))
	widths := make([]int, len(sh.Header))
	for i, h := range sh.Header {
		header[i] = h
		widths[i] = textWidth(h)
	}
	if err := f.SetSheetRow(name, "A1", &header); err != nil {
		return err
	}
	for r, row := range sh.Rows {
		cell, _ := excelize.CoordinatesToCellName(1, r+2)
		if err := f.SetSheetRow(name, cell, &row); err != nil {
			return err
		}
		for i, c := range row {
			if s, ok := c.(string); ok && i < len(widths) {
				widths[i] = max(widths[i], textWidth(s))
			}
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E4EFEA"}}})
	if err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(sh.Header), 1)
	if err := f.SetCellStyle(name, "A1", last, bold); err != nil {
		return err
	}
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, col, col, float64(min(max(wd, 8), 48)+2)); err != nil {
			return err
		}
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return f.Write(w)
}

// sheetName makes a worksheet name: at most 31 characters, none of : \ / ? * [ ].
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '-'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	return s
}

// textWidth is about how many narrow columns s takes: Chinese characters
// take two.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
