package care

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kith/internal/directory"
	"kith/internal/store"
)

// The service network (issue 13, item 4): the institutions, services,
// hotlines, volunteers and partner organisations that help the residents
// of a district, and the org units each serves. It is public data: the
// public site and the screening result show it, every staff member reads
// it, and the policy's WriteService decides who edits it. Reads of it are
// not audited (nothing in it is personal); every write is.

// The kinds of service.
const (
	KindHospital       = "hospital"
	KindHealthCentre   = "community_health_centre"
	KindCounselling    = "counselling_room"
	KindNGO            = "ngo"
	KindVocational     = "vocational_training"
	KindHotline        = "hotline"
	KindVolunteers     = "volunteer_group"
	KindPartner        = "partner_organisation"
	defaultServiceKind = KindHealthCentre
)

// ServiceKinds lists the kinds of service, for forms and validation.
var ServiceKinds = []string{KindHospital, KindHealthCentre, KindCounselling, KindNGO, KindVocational, KindHotline,
	KindVolunteers, KindPartner}

// Provider is one entry of the service network. (The name Service is the
// care service itself.) Its texts are in the district's language, with an
// optional English version beside each (*_en) for English pages.
type Provider struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	NameEN       string    `json:"name_en,omitempty"`
	Kind         string    `json:"kind"`
	Address      string    `json:"address"`
	AddressEN    string    `json:"address_en,omitempty"`
	Phone        string    `json:"phone"`
	Hours        string    `json:"hours"`
	HoursEN      string    `json:"hours_en,omitempty"`
	Capacity     int       `json:"capacity"` // places or people a week; 0: not stated
	Offers       string    `json:"offers"`
	OffersEN     string    `json:"offers_en,omitempty"`
	ContactName  string    `json:"contact_name,omitempty"` // for volunteers and partners: whom to ask for
	ContactPhone string    `json:"contact_phone,omitempty"`
	OrgUnit      string    `json:"org_unit,omitempty"` // the institution's own org unit, if it is one
	Serves       []string  `json:"serves"`             // codes of the org units it serves
	ServesNames  []string  `json:"serves_names"`       // their names, in the same order
	Path         string    `json:"path"`               // the jurisdiction that manages it
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Near is, in a list for a community, the code of the unit on the
	// community's path that it serves (the community, its street or its
	// district); the deepest if several.
	Near string `json:"near,omitempty"`
}

// In returns a text of the provider in a language: the English version on
// an English page when there is one.
func pick(lang, text, en string) string {
	if en != "" && !strings.HasPrefix(lang, "zh") {
		return en
	}
	return text
}

// NameIn, AddressIn, HoursIn and OffersIn give the provider's texts in lang.
func (p *Provider) NameIn(lang string) string    { return pick(lang, p.Name, p.NameEN) }
func (p *Provider) AddressIn(lang string) string { return pick(lang, p.Address, p.AddressEN) }
func (p *Provider) HoursIn(lang string) string   { return pick(lang, p.Hours, p.HoursEN) }
func (p *Provider) OffersIn(lang string) string  { return pick(lang, p.Offers, p.OffersEN) }

// ProviderInput adds a service, or (PUT) replaces one whole.
type ProviderInput struct {
	Name         string   `json:"name"`
	NameEN       string   `json:"name_en"`
	Kind         string   `json:"kind"`
	Address      string   `json:"address"`
	AddressEN    string   `json:"address_en"`
	Phone        string   `json:"phone"`
	Hours        string   `json:"hours"`
	HoursEN      string   `json:"hours_en"`
	Capacity     int      `json:"capacity"`
	Offers       string   `json:"offers"`
	OffersEN     string   `json:"offers_en"`
	ContactName  string   `json:"contact_name"`
	ContactPhone string   `json:"contact_phone"`
	OrgUnit      string   `json:"org_unit"`
	Serves       []string `json:"serves"`
}

// servicePhoneRE accepts the numbers services have, short ones too: 110,
// 12356, 400-161-9995, 010-5555-0100.
var servicePhoneRE = regexp.MustCompile(`^\+?[0-9][0-9 -]{1,19}$`)

const maxCapacity = 1_000_000

// checkProvider validates in, resolving its units; it returns the units
// served (by id) and the institution's own unit, or an Invalid error.
func checkProvider(ctx context.Context, tx *store.Tx, in *ProviderInput) (serves []*unitRow, own *unitRow, err error) {
	var f fields
	in.Name = checkName(&f, "name", in.Name, 200)
	in.NameEN = checkLength(&f, "name_en", cleanField(&f, "name_en", in.NameEN, false), 200)
	if !slices.Contains(ServiceKinds, in.Kind) {
		f.add("kind", "must be one of "+strings.Join(ServiceKinds, ", "))
	}
	in.Address = checkLength(&f, "address", cleanField(&f, "address", in.Address, false), 300)
	in.AddressEN = checkLength(&f, "address_en", cleanField(&f, "address_en", in.AddressEN, false), 300)
	in.Phone = strings.TrimSpace(in.Phone)
	switch {
	case in.Phone == "":
		f.add("phone", "is required")
	case !servicePhoneRE.MatchString(in.Phone):
		f.add("phone", "must be a phone number: digits, spaces or -, optionally starting with +")
	}
	in.Hours = checkLength(&f, "hours", cleanField(&f, "hours", in.Hours, false), 200)
	in.HoursEN = checkLength(&f, "hours_en", cleanField(&f, "hours_en", in.HoursEN, false), 200)
	if in.Capacity < 0 || in.Capacity > maxCapacity {
		f.add("capacity", "must be between 0 and 1000000")
	}
	in.Offers = checkNote(&f, "offers", in.Offers, 2000)
	in.OffersEN = checkNote(&f, "offers_en", in.OffersEN, 2000)
	in.ContactName = checkLength(&f, "contact_name", cleanField(&f, "contact_name", in.ContactName, false), 100)
	in.ContactPhone = strings.TrimSpace(in.ContactPhone)
	if in.ContactPhone != "" && !servicePhoneRE.MatchString(in.ContactPhone) {
		f.add("contact_phone", "must be a phone number: digits, spaces or -, optionally starting with +")
	}
	if (in.Kind == KindVolunteers || in.Kind == KindPartner) && in.ContactName == "" {
		f.add("contact_name", "is required for volunteers and partner organisations: whom to ask for")
	}
	in.OrgUnit = strings.TrimSpace(in.OrgUnit)
	if in.OrgUnit != "" {
		if own, err = unitByCode(ctx, tx, in.OrgUnit); err != nil {
			return nil, nil, err
		}
		if own == nil {
			f.add("org_unit", "no org unit has this code")
		}
	}
	var codes []string
	for _, c := range in.Serves {
		c = strings.TrimSpace(c)
		if c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	in.Serves = codes
	switch {
	case len(codes) > MaxLimit:
		f.add("serves", "may list at most "+strconv.Itoa(MaxLimit)+" org units")
	case len(codes) == 0 && in.Kind != KindHotline:
		f.add("serves", "name at least one org unit it serves (only a hotline may serve everyone)")
	default:
		for _, c := range codes {
			u, err := unitByCode(ctx, tx, c)
			if err != nil {
				return nil, nil, err
			}
			if u == nil {
				f.add("serves", "names an org unit that does not exist")
				continue
			}
			serves = append(serves, u)
		}
	}
	return serves, own, f.err()
}

// commonPath is the deepest org unit path that holds all of paths ("/"
// when there are none): the jurisdiction that manages a service.
func commonPath(paths []string) string {
	if len(paths) == 0 {
		return "/"
	}
	common := strings.Split(strings.Trim(paths[0], "/"), "/")
	for _, p := range paths[1:] {
		segs := strings.Split(strings.Trim(p, "/"), "/")
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 {
		return "/"
	}
	return "/" + strings.Join(common, "/") + "/"
}

func providerPath(serves []*unitRow, own *unitRow) string {
	var paths []string
	for _, u := range serves {
		paths = append(paths, u.Path)
	}
	if own != nil {
		paths = append(paths, own.Path)
	}
	return commonPath(paths)
}

// CreateProvider adds a service to the network.
func (s *Service) CreateProvider(ctx context.Context, in ProviderInput) (*Provider, error) {
	var out *Provider
	err := s.act(ctx, "service.create", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.Unit, sub.Path = "service", a.UnitCode, a.UnitPath
		if !mayEver(a, WriteService) {
			return errForbidden()
		}
		serves, own, err := checkProvider(ctx, tx, &in)
		if err != nil {
			return err
		}
		path := providerPath(serves, own)
		sub.Path = path
		if !Allow(a, WriteService, Target{Path: path}) {
			return errForbidden()
		}
		id, err := insertProvider(ctx, tx, in, serves, own, path)
		if err != nil {
			return err
		}
		sub.ID = strconv.FormatInt(id, 10)
		out, err = providerByID(ctx, tx, id)
		return err
	})
	return out, err
}

func insertProvider(ctx context.Context, tx *store.Tx, in ProviderInput, serves []*unitRow, own *unitRow, path string) (int64, error) {
	var ownID sql.NullInt64
	if own != nil {
		ownID = sql.NullInt64{Int64: own.id, Valid: true}
	}
	now := store.FormatTime(tx.Now())
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO services (name, name_en, kind, address, address_en, phone, hours, hours_en, capacity,
		offers, offers_en, contact_name, contact_phone, org_unit_id, org_path, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Name, in.NameEN, in.Kind, in.Address, in.AddressEN, in.Phone, in.Hours, in.HoursEN, in.Capacity,
		in.Offers, in.OffersEN, in.ContactName, in.ContactPhone, ownID, path, now, now).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, insertServes(ctx, tx, id, serves)
}

func insertServes(ctx context.Context, tx *store.Tx, id int64, serves []*unitRow) error {
	for _, u := range serves {
		if _, err := tx.Exec(ctx, `INSERT INTO service_units (service_id, unit_id) VALUES (?, ?)`, id, u.id); err != nil {
			return err
		}
	}
	return nil
}

const providerColumns = `s.id, s.name, s.name_en, s.kind, s.address, s.address_en, s.phone, s.hours, s.hours_en, s.capacity,
	s.offers, s.offers_en, s.contact_name, s.contact_phone, COALESCE(o.code, ''), s.org_path, s.created_at, s.updated_at`
const providerFrom = ` FROM services s LEFT JOIN org_units o ON o.id = s.org_unit_id`

func scanProvider(sc interface{ Scan(...any) error }, extra ...any) (Provider, error) {
	var p Provider
	var created, updated string
	err := sc.Scan(append([]any{&p.ID, &p.Name, &p.NameEN, &p.Kind, &p.Address, &p.AddressEN, &p.Phone, &p.Hours, &p.HoursEN,
		&p.Capacity, &p.Offers, &p.OffersEN, &p.ContactName, &p.ContactPhone, &p.OrgUnit, &p.Path, &created, &updated}, extra...)...)
	if err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = store.MustTime(created), store.MustTime(updated)
	return p, nil
}

// providerByID loads a service with the units it serves; nil, nil if there
// is none.
func providerByID(ctx context.Context, tx *store.Tx, id int64) (*Provider, error) {
	p, err := scanProvider(tx.QueryRow(ctx, `SELECT `+providerColumns+providerFrom+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list := []Provider{p}
	if err := fillServes(ctx, tx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// fillServes loads the codes and names of the units each provider serves,
// in tree order, with one query.
func fillServes(ctx context.Context, tx *store.Tx, list []Provider) error {
	if len(list) == 0 {
		return nil
	}
	at := make(map[int64]int, len(list))
	args := make([]any, len(list))
	for i := range list {
		at[list[i].ID] = i
		args[i] = list[i].ID
		list[i].Serves, list[i].ServesNames = []string{}, []string{}
	}
	rows, err := tx.Query(ctx, `SELECT su.service_id, u.code, u.name FROM service_units su JOIN org_units u ON u.id = su.unit_id
		WHERE su.service_id IN (?`+strings.Repeat(", ?", len(list)-1)+`) ORDER BY su.service_id, u.path`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code, name string
		if err := rows.Scan(&id, &code, &name); err != nil {
			return err
		}
		p := &list[at[id]]
		p.Serves, p.ServesNames = append(p.Serves, code), append(p.ServesNames, name)
	}
	return rows.Err()
}

// Provider returns one service of the network. Every staff member may read
// it: it is public.
func (s *Service) Provider(ctx context.Context, id int64) (*Provider, error) {
	if ActorFrom(ctx) == nil {
		return nil, errUnauthenticated
	}
	var out *Provider
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = providerByID(ctx, tx, id)
		if err == nil && out == nil {
			err = errNotFound("service")
		}
		return err
	})
	return out, err
}

// ProviderQuery chooses services for a staff list: those serving an org
// unit (by code: the unit, or a unit above it), of a kind.
type ProviderQuery struct {
	OrgUnit string
	Kind    string
}

// Providers lists services by name, a page at a time: those managed within
// the actor's jurisdiction or above it (the district hospital a community
// manager sends people to), or, with q.OrgUnit, those serving that unit.
func (s *Service) Providers(ctx context.Context, q ProviderQuery, pg Page) ([]Provider, string, error) {
	a := ActorFrom(ctx)
	if a == nil {
		return nil, "", errUnauthenticated
	}
	limit, after, err := pg.start("\x00")
	if err != nil {
		return nil, "", err
	}
	if q.Kind != "" && !slices.Contains(ServiceKinds, q.Kind) {
		return nil, "", invalid("kind", "must be one of "+strings.Join(ServiceKinds, ", "))
	}
	var out []Provider
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		var where []string
		var args []any
		if q.OrgUnit != "" {
			u, err := unitByCode(ctx, tx, q.OrgUnit)
			if err != nil {
				return err
			}
			if u == nil {
				return invalid("org_unit", "no org unit has this code")
			}
			anc := ancestors(u.Path)
			where = append(where, `s.id IN (SELECT su.service_id FROM service_units su JOIN org_units u ON u.id = su.unit_id
				WHERE u.path IN (?`+strings.Repeat(", ?", len(anc)-1)+`))`)
			for _, p := range anc {
				args = append(args, p)
			}
		} else if a.UnitPath != "" {
			lo, hi := store.Beneath(a.UnitPath)
			anc := append(ancestors(a.UnitPath), "/")
			cond := `(s.org_path >= ? AND s.org_path < ?) OR s.org_path IN (?` + strings.Repeat(", ?", len(anc)-1) + `)`
			where = append(where, "("+cond+")")
			args = append(args, lo, hi)
			for _, p := range anc {
				args = append(args, p)
			}
		}
		if q.Kind != "" {
			where, args = append(where, "s.kind = ?"), append(args, q.Kind)
		}
		if after.set {
			where = append(where, "(s.name > ? OR (s.name = ? AND s.id > ?))")
			args = append(args, after.key, after.key, after.id)
		}
		sqlWhere := ""
		if len(where) > 0 {
			sqlWhere = " WHERE " + strings.Join(where, " AND ")
		}
		rows, err := tx.Query(ctx, `SELECT `+providerColumns+providerFrom+sqlWhere+` ORDER BY s.name, s.id LIMIT `+strconv.Itoa(limit+1), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProvider(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return fillServes(ctx, tx, out)
	})
	if err != nil {
		return nil, "", err
	}
	out, next := cut(out, limit, func(p Provider) string { return p.Name + "\x00" + strconv.FormatInt(p.ID, 10) })
	return out, next, nil
}

// ancestors lists the paths of a unit and every unit above it, the unit's
// own first: /D1/S1/C1/ gives /D1/S1/C1/, /D1/S1/, /D1/.
func ancestors(path string) []string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for i := len(segs); i > 0; i-- {
		out = append(out, "/"+strings.Join(segs[:i], "/")+"/")
	}
	return out
}

// UpdateProvider replaces a service's details and the units it serves.
func (s *Service) UpdateProvider(ctx context.Context, id int64, in ProviderInput) (*Provider, error) {
	var out *Provider
	err := s.act(ctx, "service.update", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "service", strconv.FormatInt(id, 10), a.UnitCode, a.UnitPath
		old, err := providerByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if old == nil {
			return errNotFound("service")
		}
		sub.Path = old.Path
		if !Allow(a, WriteService, Target{Path: old.Path}) {
			return errForbidden()
		}
		serves, own, err := checkProvider(ctx, tx, &in)
		if err != nil {
			return err
		}
		path := providerPath(serves, own)
		if !Allow(a, WriteService, Target{Path: path}) {
			return errForbidden()
		}
		if path != old.Path {
			sub.Detail = "moved from " + old.Path + " to " + path
		}
		var ownID sql.NullInt64
		if own != nil {
			ownID = sql.NullInt64{Int64: own.id, Valid: true}
		}
		if _, err := tx.Exec(ctx, `UPDATE services SET name = ?, name_en = ?, kind = ?, address = ?, address_en = ?, phone = ?,
			hours = ?, hours_en = ?, capacity = ?, offers = ?, offers_en = ?, contact_name = ?, contact_phone = ?, org_unit_id = ?,
			org_path = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.NameEN, in.Kind, in.Address, in.AddressEN, in.Phone, in.Hours, in.HoursEN, in.Capacity, in.Offers,
			in.OffersEN, in.ContactName, in.ContactPhone, ownID, path, store.FormatTime(tx.Now()), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM service_units WHERE service_id = ?`, id); err != nil {
			return err
		}
		if err := insertServes(ctx, tx, id, serves); err != nil {
			return err
		}
		out, err = providerByID(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteProvider removes a service from the network.
func (s *Service) DeleteProvider(ctx context.Context, id int64) error {
	return s.act(ctx, "service.delete", func(tx *store.Tx, a *Actor, sub *subject) error {
		sub.Type, sub.ID, sub.Unit, sub.Path = "service", strconv.FormatInt(id, 10), a.UnitCode, a.UnitPath
		old, err := providerByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if old == nil {
			return errNotFound("service")
		}
		sub.Path, sub.Detail = old.Path, old.Name
		if !Allow(a, WriteService, Target{Path: old.Path}) {
			return errForbidden()
		}
		if _, err := tx.Exec(ctx, `DELETE FROM service_units WHERE service_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM services WHERE id = ?`, id)
		return err
	})
}

// maxPublicServices bounds the public list for one community: the
// services of a community, its street and its district are a page a phone
// can show.
const maxPublicServices = 200

// ServicesFor lists, for a resident, the services serving a community (by
// code), its street or its district — the community's own first, then the
// street's, then the district's, each by name — with Near set to the unit
// each serves. National hotlines (serving no unit) are not in it: every
// public page shows them. An unknown code gives an Invalid error; it needs
// no sign-in.
func (s *Service) ServicesFor(ctx context.Context, community string) ([]Provider, error) {
	out := []Provider{}
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		u, err := unitByCode(ctx, tx, strings.TrimSpace(community))
		if err != nil {
			return err
		}
		if u == nil {
			return invalid("community", "is not a community; choose one from the list")
		}
		out, err = servicesOnPath(ctx, tx, u.Path)
		return err
	})
	return out, err
}

// servicesOnPath lists the services serving a unit on path (its own or
// one above), the deepest first.
func servicesOnPath(ctx context.Context, tx *store.Tx, path string) ([]Provider, error) {
	anc := ancestors(path)
	args := make([]any, len(anc))
	for i, p := range anc {
		args[i] = p
	}
	// GROUP BY the primary key: the other columns depend on it (both
	// engines accept that), and MAX(u.path) is the deepest unit served.
	rows, err := tx.Query(ctx, `SELECT `+providerColumns+`, MAX(u.path)`+providerFrom+`
		JOIN service_units su ON su.service_id = s.id JOIN org_units u ON u.id = su.unit_id
		WHERE u.path IN (?`+strings.Repeat(", ?", len(anc)-1)+`)
		GROUP BY s.id, o.code ORDER BY MAX(u.path) DESC, s.name, s.id LIMIT `+strconv.Itoa(maxPublicServices), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Provider{}
	for rows.Next() {
		var near string
		p, err := scanProvider(rows, &near)
		if err != nil {
			return nil, err
		}
		p.Near = near[strings.LastIndex(strings.TrimSuffix(near, "/"), "/")+1 : len(near)-1]
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, fillServes(ctx, tx, out)
}

// nationalHotlines lists the hotlines that serve no unit: everyone's.
func nationalHotlines(ctx context.Context, tx *store.Tx) ([]Provider, error) {
	rows, err := tx.Query(ctx, `SELECT `+providerColumns+providerFrom+`
		WHERE s.kind = ? AND NOT EXISTS (SELECT 1 FROM service_units su WHERE su.service_id = s.id)
		ORDER BY s.id LIMIT `+strconv.Itoa(maxPublicServices), KindHotline)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Provider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// text makes a directory text of a provider's text and its English.
func text(zh, en string) directory.Text {
	if en == "" {
		en = zh
	}
	return directory.Text{ZH: zh, EN: en}
}

func (p *Provider) hotline() directory.Hotline {
	return directory.Hotline{Name: text(p.Name, p.NameEN), Number: p.Phone, Hours: text(p.Hours, p.HoursEN)}
}

func (p *Provider) helpService() directory.Service {
	return directory.Service{Unit: p.Near, Kind: p.Kind, Name: text(p.Name, p.NameEN), Address: text(p.Address, p.AddressEN),
		Phone: p.Phone, Hours: text(p.Hours, p.HoursEN)}
}

// SeedDirectory fills an empty service network from a directory file
// (KITH_DIRECTORY, the demo's, or the national hotlines): its hotlines as
// hotlines serving everyone, its services serving their unit. Once the
// network holds anything it does nothing, so edits made since are kept. A
// service whose unit does not exist (yet) is left out, and said so in the
// log. It returns how many entries it added.
func (s *Service) SeedDirectory(ctx context.Context, d *directory.Directory) (int, error) {
	added, skipped := 0, 0
	err := s.record(ctx, "kith", "service.seed", func(tx *store.Tx, sub *subject) error {
		added, skipped = 0, 0
		sub.Type, sub.Path = "service", "/"
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM services`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errSeeded
		}
		for _, h := range d.Hotlines {
			in := ProviderInput{Name: h.Name.ZH, NameEN: h.Name.EN, Kind: KindHotline, Phone: h.Number, Hours: h.Hours.ZH,
				HoursEN: h.Hours.EN}
			if _, _, err := checkProvider(ctx, tx, &in); err != nil {
				return err
			}
			if _, err := insertProvider(ctx, tx, in, nil, nil, "/"); err != nil {
				return err
			}
			added++
		}
		for _, v := range d.Services {
			u, err := unitByCode(ctx, tx, v.Unit)
			if err != nil {
				return err
			}
			if u == nil {
				skipped++
				continue
			}
			kind := v.Kind
			if kind == "" {
				kind = defaultServiceKind
			}
			in := ProviderInput{Name: v.Name.ZH, NameEN: v.Name.EN, Kind: kind, Address: v.Address.ZH, AddressEN: v.Address.EN,
				Phone: v.Phone, Hours: v.Hours.ZH, HoursEN: v.Hours.EN, Capacity: v.Capacity, Offers: v.Offers.ZH,
				OffersEN: v.Offers.EN, Serves: []string{v.Unit}}
			serves, own, err := checkProvider(ctx, tx, &in)
			if err != nil {
				return err
			}
			if _, err := insertProvider(ctx, tx, in, serves, own, providerPath(serves, own)); err != nil {
				return err
			}
			added++
		}
		sub.Detail = strconv.Itoa(added) + " entries from the directory file"
		return nil
	})
	if errors.Is(err, errSeeded) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if skipped > 0 {
		slog.WarnContext(ctx, "directory: services of org units that do not exist were not added", "skipped", skipped)
	}
	return added, nil
}

// errSeeded stops SeedDirectory's transaction when the network is not
// empty.
var errSeeded = errors.New("the service network is not empty")

// helpFrom fills a resident's help from the network: the hotlines of
// everyone and of the units on path, and the non-hotline services of the
// deepest unit on path that has any. Without any hotline in the network
// (all removed), the built-in ones are shown: a resident in crisis must
// always be given a number.
func (s *Service) helpFrom(ctx context.Context, path string) (*Help, error) {
	h := &Help{Hotlines: []directory.Hotline{}, Services: []directory.Service{}}
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		h.Hotlines, h.Services = h.Hotlines[:0], h.Services[:0]
		national, err := nationalHotlines(ctx, tx)
		if err != nil {
			return err
		}
		for i := range national {
			h.Hotlines = append(h.Hotlines, national[i].hotline())
		}
		if path == "" {
			return nil
		}
		near, err := servicesOnPath(ctx, tx, path)
		if err != nil {
			return err
		}
		deepest := ""
		for i := range near {
			p := &near[i]
			if p.Kind == KindHotline {
				h.Hotlines = append(h.Hotlines, p.hotline())
				continue
			}
			if deepest == "" {
				deepest = p.Near
			}
			if p.Near == deepest {
				h.Services = append(h.Services, p.helpService())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(h.Hotlines) == 0 {
		h.Hotlines = s.directory.Hotlines
	}
	return h, nil
}

// PublicService is a service as a resident is shown it, in one language.
type PublicService struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Address      string `json:"address"`
	Phone        string `json:"phone"`
	Hours        string `json:"hours"`
	Capacity     int    `json:"capacity,omitempty"`
	Offers       string `json:"offers,omitempty"`
	ContactName  string `json:"contact_name,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
	// Near is the unit on the community's path it serves: the community,
	// its street or its district.
	Near string `json:"near"`
}

// PublicServices turns the network's entries into what a resident is
// shown, in lang; the public site's page and the API answer with it.
func PublicServices(list []Provider, lang string) []PublicService {
	out := make([]PublicService, len(list))
	for i := range list {
		p := &list[i]
		out[i] = PublicService{ID: p.ID, Name: p.NameIn(lang), Kind: p.Kind, Address: p.AddressIn(lang), Phone: p.Phone,
			Hours: p.HoursIn(lang), Capacity: p.Capacity, Offers: p.OffersIn(lang), ContactName: p.ContactName,
			ContactPhone: p.ContactPhone, Near: p.Near}
	}
	return out
}

// PublicUnitName is the name of an org unit by code, "" if there is none:
// the names of units are public.
func (s *Service) PublicUnitName(ctx context.Context, code string) string {
	var name string
	if err := s.db.QueryRow(ctx, `SELECT name FROM org_units WHERE code = ?`, code).Scan(&name); err != nil {
		return ""
	}
	return name
}
