package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kith/internal/care"
	"kith/internal/clinical"
)

func init() { enumValues["subsidy"] = clinical.SubsidyStatuses }

func (s *server) subsidyRoutes(mux *http.ServeMux) {
	mux.Handle("GET /subsidies", s.handle(staff, s.ledger))
	mux.Handle("GET /subsidies/export", s.handle(staff, s.ledgerExport))
	mux.Handle("POST /subsidies", s.handle(staff, s.proposeSubsidy))
	mux.Handle("POST /subsidies/{id}", s.handle(staff, s.moveSubsidy))
}

type ledgerData struct {
	Ledger     *care.Ledger
	Year       int
	Years      []int
	Unit       string
	Units      []care.Unit
	Status     string
	NextURL    string
	ExportURL  string
	Total      float64
	CanPropose bool
	CanReview  bool
	CanApprove bool
	Form       *form
	// Refusing is the subsidy whose refusal asks for its reason.
	Refusing int64
}

var subsidyFields = []string{"patient_id", "year", "amount", "reason"}

// ledger is the guardian subsidy ledger of a year: its totals, each
// subsidy with what the user may do with it, and the export.
func (s *server) ledger(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showLedger(w, r, p, http.StatusOK, newForm(nil, subsidyFields...))
}

func (s *server) showLedger(w http.ResponseWriter, r *http.Request, p *page, status int, f *form) error {
	if !may(p.User, care.ReadSubsidies) {
		return errNoRights
	}
	q := r.URL.Query()
	this := s.svc.Today().Time().Year()
	d := ledgerData{Year: this - 1, Unit: q.Get("unit"), Status: q.Get("status"), Form: f,
		CanPropose: may(p.User, care.ReviewSubsidy), CanReview: may(p.User, care.ReviewSubsidy), CanApprove: may(p.User, care.ApproveSubsidy)}
	if y, err := strconv.Atoi(q.Get("year")); err == nil && y > 2000 && y <= this {
		d.Year = y
	}
	d.Refusing, _ = strconv.ParseInt(q.Get("refuse"), 10, 64)
	for y := this; y > this-5; y-- {
		d.Years = append(d.Years, y)
	}
	if f.V("year") == "" {
		f.set("year", strconv.Itoa(d.Year))
	}
	var err error
	if d.Units, err = s.unitsOf(r); err != nil {
		return err
	}
	d.Ledger, err = s.svc.Subsidies(r.Context(), care.SubsidyQuery{Year: d.Year, OrgUnit: d.Unit, Status: d.Status},
		care.Page{Token: q.Get("after"), Limit: care.DefaultLimit})
	if err != nil {
		return err
	}
	for _, t := range d.Ledger.Totals {
		if t.Status != clinical.SubsidyRefused {
			d.Total += t.Amount
		}
	}
	v := url.Values{"year": {strconv.Itoa(d.Year)}, "unit": {d.Unit}, "status": {d.Status}}
	d.ExportURL = "/subsidies/export?" + v.Encode()
	if d.Ledger.Next != "" {
		v.Set("after", d.Ledger.Next)
		d.NextURL = "/subsidies?" + v.Encode()
	}
	if q.Has("saved") {
		p.Flash = p.T("subsidy.saved")
	}
	return s.render(w, p, status, "subsidies", d)
}

// Yuan formats an amount of money in yuan.
func (p *page) Yuan(v float64) string { return p.printer.Sprintf("¥%.2f", v) }

// proposeSubsidy proposes the subsidy of a patient's guardian.
func (s *server) proposeSubsidy(w http.ResponseWriter, r *http.Request, p *page) error {
	f := newForm(r, subsidyFields...)
	var in care.SubsidyInput
	id, ok := care.ParseID(strings.TrimSpace(f.V("patient_id")))
	if !ok {
		f.fieldError(p, "patient_id", "must be a patient's number, as in the address of their record")
	}
	in.PatientID = id
	in.Year, _ = strconv.Atoi(f.V("year"))
	amount, err := strconv.ParseFloat(strings.TrimSpace(f.V("amount")), 64)
	if err != nil {
		f.fieldError(p, "amount", "must be a number")
	}
	in.Amount = amount
	if !f.Failed() {
		if _, err := s.svc.CreateSubsidy(r.Context(), in); err == nil {
			http.Redirect(w, r, "/subsidies?saved=1&year="+strconv.Itoa(in.Year), http.StatusSeeOther)
			return nil
		} else if p.formError(f, err) == 0 {
			return err
		}
	}
	return s.showLedger(w, r, p, http.StatusUnprocessableEntity, f)
}

// moveSubsidy reviews, approves, pays or refuses a subsidy.
func (s *server) moveSubsidy(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f := newForm(r, append(subsidyFields, "status")...)
	x, err := s.svc.UpdateSubsidy(r.Context(), id, care.SubsidyPatch{Status: f.V("status"), Reason: f.V("reason")})
	if err != nil {
		if p.formError(f, err) == 0 {
			return err
		}
		return s.showLedger(w, r, p, http.StatusUnprocessableEntity, f)
	}
	http.Redirect(w, r, "/subsidies?saved=1&year="+strconv.Itoa(x.Year)+"#s"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// ledgerExport exports the whole ledger of a year as CSV or XLSX.
func (s *server) ledgerExport(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if err := exportFormat(format); err != nil {
		return err
	}
	year, err := strconv.Atoi(q.Get("year"))
	if err != nil {
		year = s.svc.Today().Time().Year() - 1
	}
	sh := sheet{Name: p.T("subsidy.title"), Header: []string{p.T("subsidy.col.community"), p.T("subsidy.col.patient"),
		p.T("subsidy.col.guardian"), p.T("field.family.phone"), p.T("training.year"), p.T("subsidy.col.amount"), p.T("subsidy.col.status"),
		p.T("subsidy.col.reason"), p.T("subsidy.col.reviewed"), p.T("subsidy.col.approved"), p.T("subsidy.col.paid_on")}}
	token, unit := "", q.Get("unit")
	for {
		led, err := s.svc.Subsidies(r.Context(), care.SubsidyQuery{Year: year, OrgUnit: unit, Status: q.Get("status")},
			care.Page{Token: token, Limit: care.MaxLimit})
		if err != nil {
			return err
		}
		for _, x := range led.Items {
			sh.Rows = append(sh.Rows, []any{x.OrgUnitName, x.PatientName, x.GuardianName, x.GuardianPhone, x.Year, x.Amount,
				p.Enum("subsidy", x.Status), x.Reason, x.ReviewedBy, x.ApprovedBy, x.PaidOn})
		}
		if led.Next == "" || len(sh.Rows) >= exportMaxRows {
			unit = led.OrgUnit
			break
		}
		token = led.Next
	}
	return writeExport(w, format, "kith-subsidies-"+unit+"-"+strconv.Itoa(year)+"."+format, sh)
}
