package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"lote/internal/fake"
)

// clock is a clock that moves only when told to.
type clock = fake.Clock

func newClock() *clock { return fake.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) }

func openTest(t testing.TB, c *clock) (*Ledger, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lote.db")
	l, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// batchID is the hex SHA-256 of a fake file's content.
func batchID(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

func testBatch(content string) Batch {
	return Batch{
		ID: batchID(content), FileName: content + ".csv", FileSize: int64(len(content)), Format: "csv",
		AccountID: "acc-1", Environment: "sim", Header: []string{"valor", "documento", "banco", "agencia", "conta"},
		ImportOptions: ImportOptions{Decimal: "comma"},
	}
}

// validRow makes sheet row n (header = 1, so n ≥ 2) of batch b.
func validRow(b string, n int, cents int64) Row {
	payout, _ := json.Marshal(map[string]any{"amount": cents, "target": map[string]string{"document": "12345678909"}})
	return Row{
		Row:    n,
		Cells:  []string{fmt.Sprintf("%d,%02d", cents/100, cents%100), "123.456.789-09", "341", "0001", fmt.Sprintf("%d", 1000+n)},
		Payout: payout, AmountCents: cents,
		Document: "12345678909", ISPB: "60701190", Branch: "1", Account: fmt.Sprintf("%d", 1000+n),
		IdempotencyKey: fmt.Sprintf("%s-%d", b[:16], n), State: Pending,
	}
}

// importRows imports rows into a new batch and commits it.
func importRows(t testing.TB, l *Ledger, b Batch, rows []Row) {
	t.Helper()
	ctx := context.Background()
	im, err := l.BeginImport(ctx, b, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := im.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseLease(ctx, b.ID, "test"); err != nil {
		t.Fatal(err)
	}
}

func mustRow(t testing.TB, l *Ledger, b string, n int) Row {
	t.Helper()
	r, err := l.Row(context.Background(), b, n)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// oldLedger builds at path a ledger as a lote of schema version left it,
// with one batch "old" (in state) and no rows, and returns it open on the
// writer's DSN, for the test to add rows as that version wrote them.
func oldLedger(t *testing.T, path string, version int, state string) *sql.DB {
	t.Helper()
	if err := createPrivate(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+writeDSN)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), db, &version); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO batches (id, file_name, file_size, format, account_id, environment, state, created_at, updated_at)
		VALUES (?, 'old.csv', 10, 'csv', 'acc', 'sim', ?, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
		batchID("old"), state); err != nil {
		t.Fatal(err)
	}
	return db
}
