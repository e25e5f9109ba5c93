package web

import (
	"strings"

	"kith/internal/audit"
)

// Action names an audit log action (patient.read) in the page's language:
// its own message if the catalogue has one ("audit.act.patient.read"),
// else the kind and the verb put together ("audit.kind.patient" and
// "audit.verb.read"), so an action added later is still said in words.
func (p *page) Action(action string) string {
	if s := p.lookup("audit.act."+action, ""); s != "" {
		return s
	}
	kind, verb, _ := strings.Cut(action, ".")
	k, v := p.lookup("audit.kind."+kind, ""), p.lookup("audit.verb."+verb, "")
	if k != "" && v != "" {
		return p.T("audit.kind_verb", "Kind", k, "Verb", v)
	}
	return action
}

// ActionKind names a kind of action, for the audit log's filter.
func (p *page) ActionKind(kind string) string { return p.lookup("audit.kind."+kind, kind) }

// IsChange reports whether an action writes, to mark the changes in the log.
func (p *page) IsChange(action string) bool { return audit.IsChange(action) }

// SubjectType names what an audit entry concerns (patient, worklist…).
func (p *page) SubjectType(t string) string { return p.lookup("audit.subject."+t, t) }

// Subject says what an audit entry concerns: the kind of subject and, for
// an account, the person's name (the username stays in the tooltip); for a
// worklist, which one in words; else the subject's number or code.
func (p *page) Subject(e audit.Entry) string {
	id := e.SubjectID
	switch {
	case e.SubjectType == "user" && e.SubjectName != "":
		id = e.SubjectName
	case e.SubjectType == "worklist" && id != "":
		id = p.Enum("worklist", id)
	}
	if id == "" {
		return p.SubjectType(e.SubjectType)
	}
	return p.SubjectType(e.SubjectType) + " " + id
}
