package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The marker (see the package doc) is rewritten atomically: a temporary
// file, fsync, rename, fsync of the folder. Its count never goes back, also
// when two processes write it at once: each takes the maximum of what it
// read from the file (after its own commit) and what the marker holds,
// under a lock on the folder.

// ErrLedgerLost is wrapped by the *LostError Open returns for a ledger
// that lost its state.
var ErrLedgerLost = errors.New("ledger lost its state")

// ErrLedgerUnreadable is wrapped by the *UnreadableError returned for a
// ledger file that SQLite cannot read.
var ErrLedgerUnreadable = errors.New("ledger cannot be read")

// Loss says how a ledger lost its state.
type Loss int

const (
	// LossMissing: the marker says a ledger was at the path; no file is.
	LossMissing Loss = iota + 1
	// LossEmpty: the file has no bytes, which SQLite would take for a new
	// ledger; with or without a marker.
	LossEmpty
	// LossReplaced: the file is another ledger than the one the marker
	// names.
	LossReplaced
	// LossRolledBack: the file has marked fewer rows attempted than the
	// marker counted (its -wal file deleted, an older copy restored).
	LossRolledBack
)

// LostError is returned by Open for a ledger that lost its state: what is
// at the path is not what the marker last saw there (see Loss), or is an
// empty file. Nothing was written to the file. Options.NewLedger opens it
// anyway. It wraps ErrLedgerLost.
type LostError struct {
	Path   string // the ledger file
	Marker string // the marker file; "" for an empty file without one
	Loss   Loss
	// MarkedAt is when the marker was last written (zero without one).
	MarkedAt time.Time
	// MarkerID and FileID are the ledger ids the marker and the file hold
	// (LossReplaced).
	MarkerID, FileID string
	// MarkerSeq and FileSeq count the rows ever marked attempted, as the
	// marker last saw them and as the file has them (LossRolledBack).
	MarkerSeq, FileSeq int64
}

// newLedgerHint is what to do when the old ledger cannot be had back. It
// names lote's flag for Options.NewLedger: the message is for the person
// at the command line.
const newLedgerHint = "pass --new-ledger to start a new, empty ledger (the batches it recorded will not be recognised)"

// Error says what happened to the ledger and what to do about it.
func (e *LostError) Error() string {
	when := e.MarkedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	switch e.Loss {
	case LossMissing, LossEmpty:
		now := "missing"
		if e.Loss == LossEmpty {
			now = "empty"
		}
		if e.Marker == "" {
			return fmt.Sprintf("ledger %s is an empty file, which SQLite would silently take for a new ledger; if it held batches, restore it from a backup, or %s",
				e.Path, newLedgerHint)
		}
		return fmt.Sprintf("the ledger %s existed (marker %s, last written %s) and is now %s; restore it from a backup, or %s",
			e.Path, e.Marker, when, now, newLedgerHint)
	case LossReplaced:
		return fmt.Sprintf("ledger %s was replaced by another ledger: the file is ledger %s, but marker %s (last written %s) names ledger %s; "+
			"put the right file back, or pass --new-ledger to go on with this one (the batches only the other recorded will not be recognised)",
			e.Path, e.FileID, e.Marker, when, e.MarkerID)
	case LossRolledBack:
		return fmt.Sprintf("ledger %s was rolled back (its -wal file deleted, or an older copy restored): %d rows marked attempted are missing "+
			"(marker %s counted %d at %s, the file has %d); put the -wal file or the newest copy back, or pass --new-ledger to go on with it "+
			"as it is (the rows it lacks would be sent again with their keys, which Stone recognises only for a while)",
			e.Path, e.MarkerSeq-e.FileSeq, e.Marker, e.MarkerSeq, when, e.FileSeq)
	}
	return fmt.Sprintf("ledger %s lost its state (marker %s)", e.Path, e.Marker)
}

// Unwrap lets errors.Is(err, ErrLedgerLost) match.
func (e *LostError) Unwrap() error { return ErrLedgerLost }

// UnreadableError says that a ledger file cannot be read: it is not a
// SQLite database, it is damaged, or it is another program's database.
// Open returns it before writing anything; Ledger.Unreadable turns the
// error of another method into one. It wraps ErrLedgerUnreadable and the
// reason.
type UnreadableError struct {
	Path string
	Err  error // SQLite's error, or errNotLedger
}

// Error says that the file cannot be read and what to do.
func (e *UnreadableError) Error() string {
	if errors.Is(e.Err, errNotLedger) {
		return fmt.Sprintf("%s cannot be read as a ledger: %v (nothing was written to it); choose another --ledger, or move it aside", e.Path, e.Err)
	}
	return fmt.Sprintf("ledger %s cannot be read (%v); restore it from a backup, or move it aside and %s", e.Path, e.Err, newLedgerHint)
}

// Unwrap lets errors.Is match ErrLedgerUnreadable and the reason.
func (e *UnreadableError) Unwrap() []error { return []error{ErrLedgerUnreadable, e.Err} }

// errNotLedger is the reason a SQLite database without lote's tables is
// refused: migrating it would write lote's tables into another program's
// file.
var errNotLedger = errors.New("it is a SQLite database, but not a lote ledger")

// Unreadable returns err as an *UnreadableError when it says that the
// ledger file is damaged or not a database (SQLite's SQLITE_CORRUPT or
// SQLITE_NOTADB, which a damaged page gives only when it is read, possibly
// long after Open), and nil for any other error. Methods other than Open
// return SQLite's errors as they come, wrapped with what was being done.
func (l *Ledger) Unreadable(err error) error {
	return unreadable(l.path, err)
}

func unreadable(path string, err error) error {
	if ue := (*UnreadableError)(nil); errors.As(err, &ue) {
		return ue
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	// The primary code is the low byte; extended codes add detail above it.
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return &UnreadableError{Path: path, Err: se}
	}
	return nil
}

// MarkerPath is the marker file of the ledger at path: path + ".marker".
func MarkerPath(path string) string { return path + ".marker" }

// marker is the marker file's content.
type marker struct {
	LedgerID   string    `json:"ledger_id"`
	AttemptSeq int64     `json:"attempt_seq"`
	Path       string    `json:"path"`       // the ledger, absolute
	WrittenAt  time.Time `json:"written_at"` // UTC
}

// readMarker reads the marker at path; nil, nil if there is none.
func readMarker(path string) (*marker, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read marker %s: %w", path, err)
	}
	var m marker
	err = json.Unmarshal(b, &m)
	if err == nil && m.LedgerID == "" {
		err = errors.New("no ledger_id")
	}
	if err != nil {
		return nil, fmt.Errorf("marker %s is damaged (%v): move it aside, or pass --new-ledger to write a new one", path, err)
	}
	return &m, nil
}

// meta is the ledger's identity and attempt count, as the file holds them.
type meta struct {
	id  string
	seq int64
}

func readMeta(ctx context.Context, db *sql.DB) (meta, error) {
	var m meta
	err := db.QueryRowContext(ctx, `SELECT ledger_id, attempt_seq FROM ledger_meta WHERE id = 1`).Scan(&m.id, &m.seq)
	if err != nil {
		return meta{}, fmt.Errorf("read ledger identity: %w", err)
	}
	return m, nil
}

// checkMarker compares the file's meta with the marker read before it
// (nil: none). The marker must be read first: a marker is written only
// after the commit it counts, so the file read after it has at least its
// count, even while another process is marking rows.
func checkMarker(path string, m *marker, got meta) error {
	if m == nil {
		return nil
	}
	lost := &LostError{Path: path, Marker: MarkerPath(path), MarkedAt: m.WrittenAt,
		MarkerID: m.LedgerID, FileID: got.id, MarkerSeq: m.AttemptSeq, FileSeq: got.seq}
	switch {
	case m.LedgerID != got.id:
		lost.Loss = LossReplaced
		return lost
	case got.seq < m.AttemptSeq:
		lost.Loss = LossRolledBack
		return lost
	}
	return nil
}

// checkFile refuses, before SQLite opens it, a path whose ledger is gone:
// no file, or a zero-byte one (which SQLite would turn into a new ledger),
// where the marker m says a ledger was; and a zero-byte file without a
// marker, which may be a ledger truncated before markers existed. It
// returns the file's FileInfo, nil when there is no file.
func checkFile(path string, m *marker) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if m == nil {
			return nil, nil // a first run
		}
		return nil, &LostError{Path: path, Marker: MarkerPath(path), Loss: LossMissing, MarkedAt: m.WrittenAt,
			MarkerID: m.LedgerID, MarkerSeq: m.AttemptSeq}
	case err != nil:
		return nil, err
	case isEmpty(st):
		lost := &LostError{Path: path, Loss: LossEmpty}
		if m != nil {
			lost.Marker, lost.MarkedAt, lost.MarkerID, lost.MarkerSeq = MarkerPath(path), m.WrittenAt, m.LedgerID, m.AttemptSeq
		}
		return st, lost
	}
	return st, nil
}

// checkIsLedger refuses a SQLite database that has tables but not lote's
// schema_migrations, before the writer's pragmas (WAL) or migrating would
// write into it: it reads through a query_only connection of its own. A
// new file has no tables; every lote ledger has schema_migrations.
func checkIsLedger(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+readDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	var tables, ours int
	err = db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = 'schema_migrations')
		FROM sqlite_schema WHERE type = 'table'`).Scan(&tables, &ours)
	if err != nil {
		return err
	}
	if tables > 0 && ours == 0 {
		return &UnreadableError{Path: path, Err: errNotLedger}
	}
	return nil
}

func isEmpty(st fs.FileInfo) bool { return st.Mode().IsRegular() && st.Size() == 0 }

// noteAttempted brings the marker up to the attempt count the file holds
// after a committed MarkAttempted. An error means the rows are marked but
// their requests must not leave: a loss of the ledger after them could not
// be recognised.
func (l *Ledger) noteAttempted(ctx context.Context) error {
	got, err := readMeta(ctx, l.r)
	if err != nil {
		return fmt.Errorf("update marker of ledger %s: %w", l.path, err)
	}
	if err := writeMarker(l.path, got, l.now(), false); err != nil {
		return fmt.Errorf("update marker of ledger %s: %w", l.path, err)
	}
	return nil
}

// writeMarker records got in the marker of the ledger at path. Unless
// reset, a marker of the same ledger with a higher count keeps its count:
// another process may have marked more rows since got was read.
func writeMarker(path string, got meta, now time.Time, reset bool) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	mpath := MarkerPath(path)
	dir, err := os.Open(filepath.Dir(mpath))
	if err != nil {
		return err
	}
	defer dir.Close()
	unlock := lockDir(dir)
	defer unlock()

	m := marker{LedgerID: got.id, AttemptSeq: got.seq, Path: abs, WrittenAt: now.UTC()}
	if old, err := readMarker(mpath); !reset && err == nil && old != nil && old.LedgerID == got.id && old.AttemptSeq > got.seq {
		m.AttemptSeq = old.AttemptSeq
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(mpath), "."+filepath.Base(mpath)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), mpath); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	// The rename is durable only once the folder is synced; best effort,
	// as some filesystems refuse to sync a folder.
	dir.Sync()
	return nil
}
