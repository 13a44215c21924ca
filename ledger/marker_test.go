package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// markedLedger leaves at path a closed ledger with one batch of five
// pending rows, 2 to 6, of which 2 and 3 were marked attempted, and its
// marker.
func markedLedger(t *testing.T, path string) string {
	t.Helper()
	l, err := Open(path, Options{Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	b := testBatch("marked")
	var rows []Row
	for n := 2; n <= 6; n++ {
		rows = append(rows, validRow(b.ID, n, int64(100*n)))
	}
	importRows(t, l, b, rows)
	markAttempted(t, l, b.ID, 2, 3)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

func markAttempted(t *testing.T, l *Ledger, batch string, rows ...int) {
	t.Helper()
	if err := l.MarkAttempted(context.Background(), batch, rows, newClock().Now()); err != nil {
		t.Fatal(err)
	}
}

func readMarkerFile(t *testing.T, path string) marker {
	t.Helper()
	m, err := readMarker(MarkerPath(path))
	if err != nil || m == nil {
		t.Fatalf("marker of %s: %v, %v", path, m, err)
	}
	return *m
}

// markMore opens path again, marks rows 4 and 5 attempted and closes it.
func markMore(t *testing.T, path, batch string) {
	t.Helper()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	markAttempted(t, l, batch, 4, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesLostLedger(t *testing.T) {
	tests := []struct {
		name string
		// damage does to the ledger at path what the user did; batch is
		// its batch.
		damage  func(t *testing.T, path, batch string)
		want    Loss
		missing int64  // rows marked attempted that the file lacks
		says    string // a part of the message
	}{
		{
			name: "its -wal deleted after a kill",
			damage: func(t *testing.T, path, batch string) {
				l, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				markAttempted(t, l, batch, 4, 5)
				// What a kill -9 leaves on disk: the file as of the last
				// checkpoint, the rows just marked only in the -wal.
				db, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(path + "-wal"); err != nil {
					t.Fatalf("no -wal while open: %v", err)
				}
				l.Close()
				writeFile(t, path, db)
				os.Remove(path + "-wal")
				os.Remove(path + "-shm")
			},
			want: LossRolledBack, missing: 2, says: "2 rows marked attempted are missing",
		},
		{
			name: "an older copy restored",
			damage: func(t *testing.T, path, batch string) {
				old, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				markMore(t, path, batch)
				writeFile(t, path, old)
			},
			want: LossRolledBack, missing: 2, says: "was rolled back",
		},
		{
			name: "truncated to zero bytes",
			damage: func(t *testing.T, path, batch string) {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			},
			want: LossEmpty, says: "is now empty",
		},
		{
			name: "deleted",
			damage: func(t *testing.T, path, batch string) {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
			want: LossMissing, says: "is now missing",
		},
		{
			name: "replaced by another ledger",
			damage: func(t *testing.T, path, batch string) {
				other := filepath.Join(t.TempDir(), "other.db")
				markedLedger(t, other)
				b, err := os.ReadFile(other)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, path, b)
			},
			want: LossReplaced, says: "was replaced by another ledger",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lote.db")
			batch := markedLedger(t, path)
			tt.damage(t, path, batch)
			before := readMarkerFile(t, path)
			st, statErr := os.Stat(path)

			_, err := Open(path, Options{})
			var lost *LostError
			if !errors.Is(err, ErrLedgerLost) || !errors.As(err, &lost) {
				t.Fatalf("Open = %v, want a *LostError", err)
			}
			if lost.Loss != tt.want || lost.MarkerSeq-lost.FileSeq != tt.missing && tt.missing != 0 {
				t.Errorf("loss %d, %d rows missing; want %d, %d", lost.Loss, lost.MarkerSeq-lost.FileSeq, tt.want, tt.missing)
			}
			for _, want := range []string{path, tt.says, "--new-ledger"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			// Refusing changed nothing: no file was made, none emptied,
			// and the marker still says what was lost.
			st2, statErr2 := os.Stat(path)
			if (statErr == nil) != (statErr2 == nil) || statErr == nil && st.Size() != st2.Size() {
				t.Errorf("refused Open changed the file: %v %v → %v %v", st, statErr, st2, statErr2)
			}
			if after := readMarkerFile(t, path); after != before {
				t.Errorf("refused Open rewrote the marker: %+v → %+v", before, after)
			}

			// --new-ledger takes the file as it is, or starts a new one, and
			// later opens accept it.
			l, err := Open(path, Options{NewLedger: true})
			if err != nil {
				t.Fatalf("Open with NewLedger: %v", err)
			}
			bs, err := l.Batches(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if fresh := tt.want == LossEmpty || tt.want == LossMissing; fresh != (len(bs) == 0) {
				t.Errorf("NewLedger after %s: %d batches", tt.name, len(bs))
			}
			got, err := readMeta(context.Background(), l.r)
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			if m := readMarkerFile(t, path); m.LedgerID != got.id || m.AttemptSeq != got.seq {
				t.Errorf("marker after NewLedger = %+v, the file is ledger %s with %d attempted", m, got.id, got.seq)
			}
			l, err = Open(path, Options{})
			if err != nil {
				t.Fatalf("Open after NewLedger: %v", err)
			}
			l.Close()
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A zero-byte file would become a new ledger in SQLite's hands, and it may
// be a ledger truncated before lote wrote markers.
func TestOpenRefusesEmptyFileWithoutMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lote.db")
	writeFile(t, path, nil)
	_, err := Open(path, Options{})
	var lost *LostError
	if !errors.As(err, &lost) || lost.Loss != LossEmpty || lost.Marker != "" {
		t.Fatalf("Open = %v, want a *LostError for an empty file", err)
	}
	if !strings.Contains(err.Error(), "is an empty file") || !strings.Contains(err.Error(), "--new-ledger") {
		t.Errorf("error = %v", err)
	}
	l, err := Open(path, Options{NewLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// A ledger written by a lote without markers opens as before and gets one
// that counts the rows it had already marked attempted.
func TestOpenGivesOldLedgerAMarker(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := oldLedger(t, path, 4, "running")
	if _, err := db.Exec(`INSERT INTO rows (id, batch, row, seq, cells, payout, amount_cents, document, account, idempotency_key,
		state, first_attempted_at, updated_at) VALUES (4294967297, 1, 2, 1, '["1,00"]', '{}', 100, '123', '9', 'k1', 'attempted',
		'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := readMeta(ctx, l.r)
	if err != nil {
		t.Fatal(err)
	}
	m := readMarkerFile(t, path)
	abs, _ := filepath.Abs(path)
	if m.LedgerID != got.id || m.AttemptSeq != 1 || m.Path != abs || m.WrittenAt.IsZero() {
		t.Errorf("marker = %+v; want ledger %s, 1 row attempted, path %s", m, got.id, abs)
	}
	st, err := os.Stat(MarkerPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("marker mode %o, want 600", st.Mode().Perm())
	}
}

// The marker follows every MarkAttempted and never goes back, also when
// another process has already counted more.
func TestMarkAttemptedAdvancesMarker(t *testing.T) {
	l, path := openTest(t, newClock())
	b := testBatch("advance")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 100), validRow(b.ID, 3, 200), validRow(b.ID, 4, 300)})
	if m := readMarkerFile(t, path); m.AttemptSeq != 0 {
		t.Fatalf("marker counts %d before any attempt", m.AttemptSeq)
	}
	markAttempted(t, l, b.ID, 2, 3)
	if m := readMarkerFile(t, path); m.AttemptSeq != 2 {
		t.Errorf("marker counts %d after 2 rows attempted", m.AttemptSeq)
	}

	ahead := readMarkerFile(t, path)
	ahead.AttemptSeq = 10
	buf, _ := json.Marshal(ahead)
	writeFile(t, MarkerPath(path), buf)
	markAttempted(t, l, b.ID, 4)
	if m := readMarkerFile(t, path); m.AttemptSeq != 10 {
		t.Errorf("marker went from 10 to %d", m.AttemptSeq)
	}
}

func TestOpenRefusesUnreadableFile(t *testing.T) {
	tests := []struct {
		name  string
		bytes func(t *testing.T) []byte
		says  string
	}{
		{"not a database", func(t *testing.T) []byte { return []byte("reference,amount\nPAY-1,10.00\n") }, "file is not a database"},
		{"a damaged ledger", func(t *testing.T) []byte {
			path := filepath.Join(t.TempDir(), "lote.db")
			markedLedger(t, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Page 1 keeps the header; the schema page after it is garbage.
			for i := 100; i < 4096; i++ {
				b[i] = 0xA5
			}
			return b
		}, "malformed"},
		{"another program's database", func(t *testing.T) []byte {
			path := filepath.Join(t.TempDir(), "other.db")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "not a lote ledger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.bytes(t)
			path := filepath.Join(t.TempDir(), "lote.db")
			writeFile(t, path, want)
			for _, opts := range []Options{{}, {NewLedger: true}} {
				_, err := Open(path, opts)
				var ue *UnreadableError
				if !errors.Is(err, ErrLedgerUnreadable) || !errors.As(err, &ue) || ue.Path != path {
					t.Fatalf("Open(%+v) = %v, want an *UnreadableError", opts, err)
				}
				for _, s := range []string{path, "cannot be read", tt.says, "move it aside"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Open(%+v): error lacks %q: %v", opts, s, err)
					}
				}
				if got, _ := os.ReadFile(path); string(got) != string(want) {
					t.Errorf("Open(%+v) changed the file", opts)
				}
			}
			if _, err := os.Stat(MarkerPath(path)); err == nil {
				t.Error("a marker was written for a file that is not a ledger")
			}
		})
	}
}

// A damaged page that Open does not read is found later; Unreadable tells
// it from other errors.
func TestUnreadableLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lote.db")
	batch := markedLedger(t, path)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var root, size int64
	if err := l.r.QueryRow(`SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = 'rows'`).Scan(&root, &size); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := (root - 1) * size; i < root*size; i++ {
		b[i] = 0xA5
	}
	writeFile(t, path, b)

	l, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open reads the rows table: %v", err)
	}
	defer l.Close()
	_, err = l.Row(context.Background(), batch, 2)
	if err == nil {
		t.Fatal("read a damaged page without an error")
	}
	if ue := l.Unreadable(err); !errors.Is(ue, ErrLedgerUnreadable) || !strings.Contains(ue.Error(), "restore it from a backup") {
		t.Errorf("Unreadable(%v) = %v", err, ue)
	}
	if ue := l.Unreadable(ErrNotFound); ue != nil {
		t.Errorf("Unreadable(ErrNotFound) = %v, want nil", ue)
	}
}

// A marker that is not JSON cannot say whether the ledger lost anything:
// Open refuses until it is moved aside or NewLedger writes a new one.
func TestOpenRefusesDamagedMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lote.db")
	markedLedger(t, path)
	writeFile(t, MarkerPath(path), []byte("{\"ledger_id\": \"3af1"))
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), MarkerPath(path)+" is damaged") || !strings.Contains(err.Error(), "--new-ledger") {
		t.Fatalf("Open with a damaged marker = %v", err)
	}
	l, err := Open(path, Options{NewLedger: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if m := readMarkerFile(t, path); m.AttemptSeq != 2 {
		t.Errorf("new marker counts %d, want 2", m.AttemptSeq)
	}
}

// A kill while Open makes a new ledger must not leave a zero-byte file,
// which the next Open would refuse: the ledger appears at its path whole.
func TestOpenNewLedgerAppearsWhole(t *testing.T) {
	for range 5 {
		path := filepath.Join(t.TempDir(), "lote.db")
		done := make(chan struct{})
		sawEmpty := make(chan bool)
		go func() {
			empty := false
			for {
				select {
				case <-done:
					sawEmpty <- empty
					return
				default:
				}
				if st, err := os.Stat(path); err == nil && st.Size() == 0 {
					empty = true
				}
			}
		}()
		l, err := Open(path, Options{})
		close(done)
		if <-sawEmpty {
			t.Fatal("a zero-byte file was at the ledger's path while Open made it")
		}
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
}
