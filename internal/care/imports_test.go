package care

import (
	"context"
	"fmt"
	"testing"

	"kith/internal/auth"
	"kith/internal/clinical"
	"kith/internal/secrets"
	"kith/internal/store"
	"kith/internal/store/storetest"
)

// TestImportBatchAsRecorded checks the batch import (ImportBatch) against
// what the service does one record at a time: every imported patient's
// summary and status are what refreshSummary makes of the history in the
// database (it is run after the import and must change nothing), and the
// records of one batch meet each other as they would on the register.
func TestImportBatchAsRecorded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys, err := secrets.Load("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "")
		if err != nil {
			t.Fatal(err)
		}
		s := New(db, keys)
		root := WithActor(ctx, &Actor{Username: "root", Role: auth.Admin})
		for _, u := range []UnitInput{
			{Code: "D1", Name: "District", Level: "district"},
			{Code: "S1", Name: "Street", Level: "street", ParentCode: "D1"},
			{Code: "C1", Name: "Community 1", Level: "community", ParentCode: "S1"},
			{Code: "C2", Name: "Community 2", Level: "community", ParentCode: "S1"},
		} {
			if _, err := s.CreateUnit(root, u); err != nil {
				t.Fatal(err)
			}
		}
		today := s.today()
		on := func(days int) string { return today.AddDays(days).String() }
		nid := func(birth string, seq int) string {
			first := fmt.Sprintf("110101%s%03d", birth[0:4]+birth[5:7]+birth[8:10], seq)
			c, _ := clinical.NationalIDCheck(first)
			return first + string(c)
		}
		yes, no := true, false
		reached := func(date string, risk int, adherence string) FollowUpInput {
			return FollowUpInput{Date: date, Mode: "home_visit", Reached: &yes, RiskLevel: &risk, PsychoticSymptoms: "none",
				Insight: "complete", SocialFunction: map[string]string{"self_care": "good", "housework": "good", "work": "fair",
					"learning": "good", "social_contact": "good"}, MedicationAdherence: adherence, AdverseReaction: "none",
				PhysicalIllness: "none"}
		}
		missed := func(date, reason string) FollowUpInput {
			return FollowUpInput{Date: date, Mode: "phone", Reached: &no, NotReachedReason: reason}
		}
		person := func(name, birth string, seq int, reg string) PatientInput {
			p := PatientInput{Name: name, Sex: "male", BirthDate: birth, OrgUnit: "C1", Status: "managed", RegisteredOn: reg,
				Diagnoses: []Diagnosis{{Code: "F20.0"}}, Guardian: Guardian{Name: "母亲", Relation: "母亲", Phone: "13900000000"}}
			if seq > 0 {
				p.NationalID = nid(birth, seq)
			}
			return p
		}
		moved := person("迁出", "1971-01-01", 3, on(-300))
		moved.Status = "moved_away"
		recs := []ImportRecord{
			// Stable, then unstable, then two attempts.
			{Key: "src-1", Patient: person("稳定", "1970-01-01", 1, on(-400)), FollowUps: []FollowUpInput{
				reached(on(-100), 0, "regular"), reached(on(-380), 1, "regular"), reached(on(-60), 3, "intermittent"),
				missed(on(-30), "working_away"), missed(on(-20), "missing")}},
			// Never reached, three attempts: lost.
			{Patient: person("失访", "1972-01-01", 2, on(-300)), FollowUps: []FollowUpInput{
				missed(on(-200), "working_away"), missed(on(-150), "working_away"), missed(on(-100), "working_away")}},
			// Moved away after the history.
			{Patient: moved, FollowUps: []FollowUpInput{reached(on(-100), 0, "regular")}},
			// Died.
			{Patient: person("死亡", "1973-01-01", 4, on(-300)), FollowUps: []FollowUpInput{
				reached(on(-200), 1, "regular"), {Date: on(-50), Mode: "phone", Reached: &no, NotReachedReason: "deceased",
					DeathDate: on(-55), DeathCause: "disease"}}},
			// No history at all, no national ID.
			{Patient: person("无史", "1974-01-01", 0, on(-10))},
			// The first patient again, by national ID: on the register.
			{Patient: person("稳定", "1970-01-01", 1, on(-400))},
			// The first patient again, by the source's key.
			{Key: "src-1", Patient: person("别名", "1975-01-01", 0, on(-400))},
			// Same name and birth date as the fifth, same district: to confirm.
			{Patient: person("无史", "1974-01-01", 0, on(-5))},
			// A follow-up after death: closed.
			{Patient: person("死后", "1976-01-01", 6, on(-300)), FollowUps: []FollowUpInput{
				{Date: on(-100), Mode: "phone", Reached: &no, NotReachedReason: "deceased", DeathDate: on(-100), DeathCause: "x"},
				reached(on(-50), 0, "regular")}},
		}
		a := WithActor(ctx, &Actor{Username: "importer", FullName: "导入员", Role: auth.Admin})

		dry, _, err := s.ImportBatch(a, recs, true)
		if err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `SELECT count(*) FROM patients`); n != 0 {
			t.Fatalf("a dry run wrote %d patients", n)
		}
		got, problems, err := s.ImportBatch(a, recs, false)
		if err != nil {
			t.Fatal(err)
		}
		want := ImportCounts{Patients: 5, FollowUps: 11, Existing: 2, Rejected: 2}
		if got != want || dry != want {
			t.Fatalf("counts %+v, dry run %+v, want %+v; problems %v", got, dry, want, problems)
		}
		wantProblems := []ImportProblem{
			{Record: 7, Field: "confirm_duplicate", Message: "confirm to register a possible duplicate"},
			{Record: 8, Field: "follow_ups[1]", Message: "the patient is deceased; follow-ups are closed"},
		}
		if fmt.Sprint(problems) != fmt.Sprint(wantProblems) {
			t.Fatalf("problems %v, want %v", problems, wantProblems)
		}
		for _, c := range []struct {
			table string
			n     int
		}{{"patients", 5}, {"follow_ups", 11}, {"assessments", 5},
			{"patient_diagnoses", 5}, {"family_members", 5}, {"import_sources", 1}} {
			if n := countRows(t, db, `SELECT count(*) FROM `+c.table); n != c.n {
				t.Errorf("%s: %d rows, want %d", c.table, n, c.n)
			}
		}
		if db.Engine() == store.Postgres {
			// COPY's rows get their keys too (the key tables' statement triggers).
			for _, c := range []struct {
				q string
				n int
			}{
				{`SELECT count(*) FROM follow_ups f JOIN follow_up_keys k ON k.id = f.id AND k.date = f.date`, 11},
				{`SELECT count(*) FROM assessments a JOIN assessment_keys k ON k.id = a.id AND k.taken_on = a.taken_on`, 5},
			} {
				if n := countRows(t, db, c.q); n != c.n {
					t.Errorf("%s: %d, want %d", c.q, n, c.n)
				}
			}
		}

		// Where each patient stands, and refreshSummary's view of it.
		const summary = `SELECT name, status, left_on, next_due_on, next_due_rule, last_followup_on, last_classification,
			COALESCE(last_risk_level, -1), last_adherence, not_reached_streak, reached_in_year FROM patients ORDER BY id`
		read := func() []string {
			rows, err := db.Query(ctx, summary)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var v [11]any
				var ptrs [11]any
				for i := range v {
					ptrs[i] = &v[i]
				}
				if err := rows.Scan(ptrs[:]...); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(v))
			}
			return out
		}
		imported := read()
		err = db.Transact(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM patients`)
			if err != nil {
				return err
			}
			var ids []int64
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				if err := refreshSummary(ctx, tx, id, "check", today); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if again := read(); fmt.Sprint(again) != fmt.Sprint(imported) {
			t.Fatalf("refreshSummary changed the imported summaries:\n%v\nto\n%v", imported, again)
		}
		wantStatus := map[string]string{"稳定": "managed", "失访": "lost", "迁出": "moved_away", "死亡": "deceased", "无史": "managed"}
		for _, row := range imported {
			var name, status string
			fmt.Sscan(row[1:], &name, &status)
			if wantStatus[name] != status {
				t.Errorf("%s: status %s, want %s", name, status, wantStatus[name])
			}
		}
		const history = `SELECT h.status || ' ' || h.changed_on || ' ' || h.reason FROM patient_status_history h
			JOIN patients p ON p.id = h.patient_id WHERE p.name = ? ORDER BY h.id`
		for name, want := range map[string][]string{
			"失访": {"managed " + on(-300) + " registered", "lost " + today.String() + " " + string(clinical.RuleLost)},
			"迁出": {"managed " + on(-300) + " registered", "moved_away " + on(-100) + " imported"},
			"死亡": {"managed " + on(-300) + " registered", "deceased " + on(-55) + " died: disease"},
		} {
			var got []string
			rows, err := db.Query(ctx, history, name)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				got = append(got, s)
			}
			rows.Close()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: status history %q, want %q", name, got, want)
			}
		}

		// Once more: nothing new. The patient without a national ID or a
		// key is not known as the same, but meets themself as a possible
		// duplicate.
		again, _, err := s.ImportBatch(a, recs, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := (ImportCounts{Existing: 6, Rejected: 3}); again != want {
			t.Fatalf("a second import: %+v, want %+v", again, want)
		}
	})
}

func countRows(t *testing.T, db *store.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
