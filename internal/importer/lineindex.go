package importer

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// lineIndex is where an NDJSON import keeps, on disk, the place of each
// patient's lines and the order the patients were first met: a temporary
// SQLite file, removed when the import closes. It needs no durability.
type lineIndex struct {
	dir  string
	db   *sql.DB
	tx   *sql.Tx
	line *sql.Stmt
	seq  int64
	last int64 // the first-met order of the last patient handed out
}

// place is where a line lies: file number, offset and length in bytes,
// and line number.
type place struct {
	file   int
	offset int64
	length int
	line   int
}

func openLineIndex() (*lineIndex, error) {
	dir, err := os.MkdirTemp("", "kith-import-")
	if err != nil {
		return nil, err
	}
	x := &lineIndex{dir: dir}
	x.db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "lines.db")+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err == nil {
		x.db.SetMaxOpenConns(1)
		_, err = x.db.Exec(`CREATE TABLE lines (seq INTEGER PRIMARY KEY, patient TEXT NOT NULL, file INTEGER NOT NULL,
			off INTEGER NOT NULL, len INTEGER NOT NULL, line INTEGER NOT NULL);
			CREATE TABLE patients (id TEXT PRIMARY KEY, first INTEGER NOT NULL)`)
	}
	if err == nil {
		x.tx, err = x.db.Begin()
	}
	if err == nil {
		x.line, err = x.tx.Prepare(`INSERT INTO lines (seq, patient, file, off, len, line) VALUES (?, ?, ?, ?, ?, ?)`)
	}
	if err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

// add records a line of patient id.
func (x *lineIndex) add(id string, file int, offset int64, length, line int) error {
	x.seq++
	_, err := x.line.Exec(x.seq, id, file, offset, length, line)
	return err
}

// done ends the writing and indexes what was written.
func (x *lineIndex) done() error {
	x.line.Close()
	if _, err := x.tx.Exec(`CREATE INDEX lines_patient ON lines (patient, seq);
		INSERT INTO patients (id, first) SELECT patient, min(seq) FROM lines GROUP BY patient;
		CREATE INDEX patients_first ON patients (first)`); err != nil {
		return err
	}
	err := x.tx.Commit()
	x.tx = nil
	return err
}

// patients returns the next n patients in the order first met.
func (x *lineIndex) patients(n int) ([]string, error) {
	rows, err := x.db.Query(`SELECT id, first FROM patients WHERE first > ? ORDER BY first LIMIT ?`, x.last, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &x.last); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// lines returns the places of patient id's lines, in the files' order.
func (x *lineIndex) lines(id string) ([]place, error) {
	rows, err := x.db.Query(`SELECT file, off, len, line FROM lines WHERE patient = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []place
	for rows.Next() {
		var p place
		if err := rows.Scan(&p.file, &p.offset, &p.length, &p.line); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (x *lineIndex) close() error {
	var err error
	if x.tx != nil {
		err = x.tx.Rollback()
	}
	if x.db != nil {
		err = errors.Join(err, x.db.Close())
	}
	return errors.Join(err, os.RemoveAll(x.dir))
}
