package care

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"kith/internal/store"
)

// Kind classifies an error so that each transport can map it in one place.
type Kind int

// The kinds of error the service returns.
const (
	Internal        Kind = iota // anything unexpected; details are logged, not shown
	Invalid                     // bad input; Fields says which
	NotFound                    // no such thing, or none the actor may see
	Forbidden                   // the actor may not do this
	Conflict                    // the request clashes with the current state
	Unauthenticated             // no valid session or token
	TooManyRequests             // slow down; RetryAfter says how long
	Unavailable                 // the database could not be reached; nothing was done; try again after RetryAfter
)

// FieldError is a message about one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the service's error. Message is safe to show to the user.
type Error struct {
	Kind       Kind
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	// ExistingID points to the record a conflict is with, where useful.
	ExistingID string
	// Type names a problem a client must act on in a particular way, such
	// as ProblemEnrolTOTP; "" for the others.
	Type string
	// TOTPRequired says that the sign-in needs a code from the account's
	// authenticator app (or a recovery code); Challenge, on the web, is the
	// token that LoginCode takes with the code instead of the password.
	TOTPRequired bool
	Challenge    string
	// denied marks an error caused by the access policy, so that the
	// attempt is audited as denied even when it is reported as not found.
	denied bool
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %s %s", e.Message, e.Fields[0].Field, e.Fields[0].Message)
}

// ErrorKind returns the kind of err; errors not from this package are Internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

func isDenied(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.denied
}

func errNotFound(what string) error { return &Error{Kind: NotFound, Message: what + " not found"} }

func errConflict(msg string) error { return &Error{Kind: Conflict, Message: msg} }

// errForbidden is the policy's refusal.
func errForbidden() error {
	return &Error{Kind: Forbidden, Message: "you are not allowed to do this", denied: true}
}

// errHidden is the policy's refusal where even the record's existence must
// not be revealed: it reads as not found, but is audited as denied.
func errHidden(what string) error {
	return &Error{Kind: NotFound, Message: what + " not found", denied: true}
}

// ProblemEnrolTOTP is the Type of the refusal of every request but
// enrolment from an account whose role requires a second factor it has not
// yet enrolled.
const ProblemEnrolTOTP = "enrol-totp"

// ErrEnrolTOTP is that refusal.
var ErrEnrolTOTP = &Error{Kind: Forbidden, Type: ProblemEnrolTOTP,
	Message: "your role requires two-factor sign-in: enrol an authenticator app first (POST /api/v1/account/totp)"}

var errUnauthenticated = &Error{Kind: Unauthenticated, Message: "sign-in required"}

// fields collects field errors during validation. Today is the date
// against which "not in the future" is checked (the service's clock); empty
// means the real today.
type fields struct {
	list  []FieldError
	today string
}

func (f *fields) add(field, msg string) {
	f.list = append(f.list, FieldError{Field: field, Message: msg})
}

// err returns an Invalid error holding the collected messages, or nil.
func (f *fields) err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "please correct the fields shown", Fields: f.list}
}

// date returns today's date for validation.
func (f *fields) date() string {
	if f.today == "" {
		return time.Now().Format("2006-01-02")
	}
	return f.today
}

// invalid is a one-field Invalid error.
func invalid(field, msg string) error {
	var f fields
	f.add(field, msg)
	return f.err()
}

// Classify gives an error from outside the service (a session looked up
// before any service method ran, say) the kind the service would have
// given it: a database that cannot be reached is Unavailable. Transports
// call it before mapping an error to their status.
func Classify(err error) error { return unavailable(err) }

// unavailable turns an error that means the database could not be reached
// before anything was sent to it (while a standby takes over, say) into an
// Unavailable error: the request did nothing and may be sent again. A
// connection lost later, during a commit, stays an internal error: the
// write may or may not have happened, and "try again" could make it twice.
func unavailable(err error) error {
	if err == nil || !store.IsUnavailable(err) {
		return err
	}
	slog.Warn("database unavailable", "error", err)
	return &Error{Kind: Unavailable, RetryAfter: unavailableRetry,
		Message: "the database cannot be reached just now; nothing was saved, please try again in a moment"}
}

// unavailableRetry is the wait suggested while the database is unreachable:
// a failover takes about 10 seconds.
const unavailableRetry = 5 * time.Second
