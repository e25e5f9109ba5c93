package care

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"

	"kith/internal/store"
)

// A patient is found by more than the name's beginning: by the initials of
// the name's pinyin (张三 → zs), by phone number and by the last four
// characters of the national ID. Each is a column of patients computed when
// the record is written (registration, update, demo and bulk load), so that
// a search is an index range, never a scan of a province's register.

// NameInitials is the first letter of each syllable of a name in pinyin, in
// lower case: 张三 → "zs". Latin letters keep the first letter of each word
// (Li Lei → "ll"); anything else is left out.
func NameInitials(name string) string {
	var b strings.Builder
	args := pinyin.NewArgs()
	args.Style = pinyin.FirstLetter
	word := false
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Han, r):
			if p := pinyin.SinglePinyin(r, args); len(p) > 0 && p[0] != "" {
				b.WriteString(p[0][:1])
			}
			word = false
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			if !word {
				b.WriteRune(unicode.ToLower(r))
			}
			word = true
		default:
			word = false
		}
	}
	return b.String()
}

// PhoneKey is a phone number's digits only, as searched: "138 0013-8000" →
// "13800138000".
func PhoneKey(phone string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
}

// nationalIDTailHash is the keyed hash of a national ID's last four
// characters, under which a search by them finds the patient: the plain
// digits are never stored. The hash is keyed and salted apart from the
// whole number's, so the two cannot be joined.
func (s *Service) nationalIDTailHash(nid string) string {
	if len(nid) < 4 {
		return ""
	}
	m := hmac.New(sha256.New, s.keys.Lookup)
	m.Write([]byte("tail4:"))
	m.Write([]byte(strings.ToUpper(nid[len(nid)-4:])))
	return hex.EncodeToString(m.Sum(nil))
}

// SearchColumns returns the search keys of a patient (pinyin initials,
// phone digits and the national ID's tail hash), for bulk loading generated
// or imported patients; nid may be "".
func (s *Service) SearchColumns(name, phone, nid string) (initials, phoneKey, tail string) {
	tail = ""
	if nid != "" {
		tail = s.nationalIDTailHash(nid)
	}
	return NameInitials(name), PhoneKey(phone), tail
}

// searchKeyBatch is how many patients one pass of SweepSearchKeys fills.
const searchKeyBatch = 500

// SweepSearchKeys fills the search keys of patients written before they
// existed (search_keys = 0), a batch at a time, and returns how many it
// filled. Every write since fills them itself; this is maintenance, not a
// read of anyone's record, so it leaves no audit entry.
func (s *Service) SweepSearchKeys(ctx context.Context) (int, error) {
	n := 0
	for {
		type row struct {
			id                 int64
			name, phone, nidEn string
		}
		var batch []row
		rows, err := s.db.Query(ctx, `SELECT id, name, phone, national_id_enc FROM patients WHERE search_keys = 0 ORDER BY id LIMIT ?`,
			searchKeyBatch)
		if err != nil {
			return n, err
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.name, &r.phone, &r.nidEn); err != nil {
				rows.Close()
				return n, err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(batch) == 0 {
			return n, err
		}
		err = s.db.Transact(ctx, func(tx *store.Tx) error {
			for _, r := range batch {
				nid, err := s.openNationalID(r.nidEn)
				if err != nil {
					return err
				}
				initials, phoneKey, tail := s.SearchColumns(r.name, r.phone, nid)
				if _, err := tx.Exec(ctx, `UPDATE patients SET name_initials = ?, phone_key = ?, national_id_tail = ?, search_keys = 1
					WHERE id = ?`, initials, phoneKey, tail, r.id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(batch)
	}
}
