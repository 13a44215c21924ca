package ledger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	l, path := openTest(t, newClock())
	importRows(t, l, testBatch("a"), []Row{validRow(batchID("a"), 2, 100)})
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), got)
		}
	}
}

func TestOpenRestrictsExistingFile(t *testing.T) {
	l, path := openTest(t, newClock())
	l.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestMigrateFromEmpty(t *testing.T) {
	l, _ := openTest(t, newClock())
	v, err := l.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := loadMigrations()
	// Every embedded migration applied, whatever their number.
	if v != len(ms) || v < 2 {
		t.Errorf("schema version = %d, want %d (every migration)", v, len(ms))
	}
}

// TestMigrateFromVersion1 builds a ledger as the first release left it,
// with a row in it, and checks that Open upgrades it and keeps the row.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := oldLedger(t, path, 1, "done")
	if _, err := db.Exec(`INSERT INTO rows (id, batch, row, seq, cells, payout, amount_cents, document, account, idempotency_key,
		state, transfer_id, updated_at) VALUES (4294967297, 1, 2, 1, '["1,00"]', '{}', 100, '123', '9', 'k1', 'accepted', 't1', '2026-01-01T00:00:00.000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ms, _ := loadMigrations()
	if v, err := l.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(ms))
	}
	var idx int
	if err := l.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'rows_repeat'`).Scan(&idx); err != nil || idx != 1 {
		t.Errorf("rows_repeat index count = %d, %v; want 1", idx, err)
	}
	r := mustRow(t, l, batchID("old"), 2)
	if r.State != Accepted || r.TransferID != "t1" || r.AmountCents != 100 {
		t.Errorf("row after upgrade = %+v", r)
	}
}

func TestOpenRefusesNewerLedger(t *testing.T) {
	l, path := openTest(t, newClock())
	if _, err := l.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '099_future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open newer ledger: err = %v, want ErrTooNew", err)
	}
}
