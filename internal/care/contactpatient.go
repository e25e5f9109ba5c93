package care

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"kith/internal/audit"
	"kith/internal/store"
)

// A resident who asked to be contacted may be registered as a patient in
// one step: the registration form is filled from the request, and saving it
// closes the request as "registered" with the new patient, in the same
// transaction (PatientInput.ContactRequestID).

// ContactRequest returns one residents' contact request, for the roles that
// handle them in its community; the read is audited.
func (s *Service) ContactRequest(ctx context.Context, id int64) (*ContactRequest, error) {
	var out ContactRequest
	err := s.view(ctx, "contact.read", func(tx *store.Tx, a *Actor, sub *subject) error {
		c, err := contactForWrite(ctx, tx, a, id, sub)
		if err != nil {
			return err
		}
		out = *c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// contactForWrite loads a contact request the actor may close, or a hidden
// not-found.
func contactForWrite(ctx context.Context, tx *store.Tx, a *Actor, id int64, sub *subject) (*ContactRequest, error) {
	sub.Type, sub.ID = "contact_request", strconv.FormatInt(id, 10)
	c, err := scanContact(tx.QueryRow(ctx, `SELECT `+contactColumns+contactFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound("contact request")
	}
	if err != nil {
		return nil, err
	}
	sub.Unit, sub.Path = c.Community, c.path
	if !Allow(a, WriteContacts, Target{Path: c.path}) {
		return nil, errHidden("contact request")
	}
	return &c, nil
}

// closeAsRegistered closes the contact request a registration came from,
// with the patient registered, and writes the request's own audit entry.
func (s *Service) closeAsRegistered(ctx context.Context, tx *store.Tx, a *Actor, requestID, patientID int64) error {
	var sub subject
	c, err := contactForWrite(ctx, tx, a, requestID, &sub)
	if err != nil {
		return invalid("contact_request_id", "no open contact request you may close has this id")
	}
	if c.Outcome != "" {
		return invalid("contact_request_id", "the outcome of this request was already recorded")
	}
	if _, err := tx.Exec(ctx, `UPDATE contact_requests SET outcome = ?, outcome_note = '', outcome_by = ?, outcome_at = ?, patient_id = ?
		WHERE id = ?`, "registered", a.Username, store.FormatTime(tx.Now()), patientID, requestID); err != nil {
		return err
	}
	sub.Detail = "registered patient " + strconv.FormatInt(patientID, 10)
	return audit.Append(ctx, tx, s.entry(ctx, a.Username, "contact.outcome", sub, audit.Allowed))
}
