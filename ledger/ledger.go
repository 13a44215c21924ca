package ledger

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure a Ledger. The zero value is ready to use.
type Options struct {
	// Now returns the current time; leases, created/updated stamps and
	// import times use it. Nil means time.Now. Tests inject a fake clock.
	Now func() time.Time

	// NewLedger opens the file at the path even though its marker says it
	// lost its state (see LostError): a missing or empty file becomes a
	// new, empty ledger, and a ledger replaced or rolled back is taken as
	// it is; the marker is rewritten for it. Nothing is deleted: a file
	// that is not a ledger is still refused. False, the safe default,
	// refuses such a ledger.
	NewLedger bool
	// HolderDead, if set, says whether a lease's holder is known to have
	// ended: a process of this host that no longer exists. AcquireLease
	// and BeginImport take such a lease over at once instead of waiting
	// for it to expire. It must say false when it cannot tell, since a
	// live holder's lease taken over lets two runners send one batch.
	// Nil waits for every lease to expire. The ledger knows nothing of
	// hosts and processes; batch.HolderDead reads lote's holder names.
	HolderDead func(holder string) bool
}

// Ledger is an open ledger file. Its methods are safe for concurrent use.
// Writes go through a single connection (SQLite allows one writer at a
// time; queuing in Go avoids SQLITE_BUSY inside one process), reads through
// a separate read-only pool, so a long report never blocks a transition.
type Ledger struct {
	path string
	w    *sql.DB // one connection, immediate transactions
	r    *sql.DB // query_only pool
	now  func() time.Time
	dead func(holder string) bool // Options.HolderDead
}

// ErrTooNew is returned by Open when the file was written by a newer lote
// whose schema this program does not know.
var ErrTooNew = errors.New("ledger schema is newer than this program")

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order. File names
// are NNN_description.sql; versions must run 1, 2, 3… without gaps so that a
// missing file cannot be skipped silently.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a version number", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// writeDSN: WAL lets readers run beside the writer; synchronous=FULL makes
// every commit durable before it returns, so "attempted" is on disk before
// a request leaves; immediate transactions take the write lock at BEGIN, so
// busy_timeout applies (a deferred read-then-write transaction would fail
// at once with SQLITE_BUSY in WAL mode; see libraries.md §3). busy_timeout
// comes first so that switching a new file to WAL waits for another process
// doing the same. A 32 MiB page cache keeps most of the idempotency-key
// index, which grows at random places, in memory during a large import
// (modernc's allocator rounds each 4 KiB page up to 8 KiB, so it costs up
// to 64 MiB of RSS, and only once a large batch has filled it).
// temp_store=memory keeps statement journals in memory: a multi-row INSERT
// that may fail a constraint saves every page it changes first, and with
// the key index written at random that is a page per row, which went to a
// temporary file through two write calls each (a fifth of a million-row
// import's time). A statement journal holds one statement's pages; this
// connection runs no large sorts that temp_store would also keep in memory.
const writeDSN = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=cache_size(-32768)&_pragma=temp_store(memory)&_txlock=immediate"

// readDSN: query_only makes an accidental write through the read pool fail.
const readDSN = "?_pragma=busy_timeout(10000)&_pragma=query_only(1)"

// Open opens the ledger at path, creating it with mode 0600 if it does not
// exist (it holds bank accounts and documents), and migrates an older
// schema to the current one. A file written by a newer program is refused
// with an error wrapping ErrTooNew.
//
// Open checks the file against its marker (MarkerPath) and writes the
// marker. Unless opts.NewLedger, a ledger that lost its state is refused
// with a *LostError: the marker names a ledger and the file is missing,
// empty, another ledger, or has fewer rows marked attempted than the marker
// counted; so is a zero-byte file without a marker. A file that is not a
// SQLite database, is damaged or is another program's database is refused
// with an *UnreadableError. A ledger without a marker (from a lote before
// markers, or a first run) opens as before and gets one.
func Open(path string, opts Options) (*Ledger, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open ledger %s: path must not contain '?' or '#'", path)
	}
	ctx := context.Background()
	// The marker first: see checkMarker.
	m, err := readMarker(MarkerPath(path))
	if err != nil && !opts.NewLedger {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	st, err := checkFile(path, m)
	if err != nil && !(opts.NewLedger && errors.Is(err, ErrLedgerLost)) {
		return nil, openError(path, err)
	}
	if st == nil || isEmpty(st) { // an empty file only with NewLedger
		if err := createNew(ctx, path, st != nil); err != nil {
			return nil, fmt.Errorf("open ledger %s: create: %w", path, err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	if err := checkIsLedger(ctx, path); err != nil {
		return nil, openError(path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	w, err := sql.Open("sqlite", path+writeDSN)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	fail := func(err error) (*Ledger, error) {
		w.Close()
		return nil, openError(path, err)
	}
	if err := migrate(ctx, w, nil); err != nil {
		return fail(err)
	}
	got, err := readMeta(ctx, w)
	if err != nil {
		return fail(err)
	}
	if !opts.NewLedger {
		if err := checkMarker(path, m, got); err != nil {
			return fail(err)
		}
	}
	if err := writeMarker(path, got, now(), opts.NewLedger); err != nil {
		return fail(fmt.Errorf("write marker: %w", err))
	}
	r, err := sql.Open("sqlite", path+readDSN)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return &Ledger{path: path, w: w, r: r, now: now, dead: opts.HolderDead}, nil
}

// openError is err from Open: a *LostError or *UnreadableError as it is
// (it names the file and says what to do), any other with the path.
func openError(path string, err error) error {
	if ue := unreadable(path, err); ue != nil {
		return ue
	}
	if le := (*LostError)(nil); errors.As(err, &le) {
		return le
	}
	return fmt.Errorf("open ledger %s: %w", path, err)
}

// createNew makes a new ledger at path whole, or not at all: SQLite
// creates the file when it opens it and writes to it only at the first
// commit, and a kill in between would leave a zero-byte file, which Open
// refuses (it may be a ledger truncated). So the ledger is made under a
// temporary name in the same folder (mode 0600), closed (which checkpoints
// its -wal into it), and linked to path; if another process made one there
// first, that one is kept. replace (NewLedger on an empty file) renames
// over path instead.
func createNew(ctx context.Context, path string, replace bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		// After a link, path keeps the ledger; after a rename, name is gone.
		for _, p := range []string{name, name + "-wal", name + "-shm"} {
			os.Remove(p)
		}
	}()
	db, err := sql.Open("sqlite", name+writeDSN)
	if err != nil {
		return err
	}
	err = migrate(ctx, db, nil)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	switch {
	case replace:
		err = os.Rename(name, path)
	default:
		err = os.Link(name, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// A filesystem without hard links: a rename, unless another
			// process made the ledger meanwhile.
			if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
				err = os.Rename(name, path)
			} else if serr == nil {
				err = nil
			}
		}
		if errors.Is(err, fs.ErrExist) {
			err = nil // another process made it first: Open goes on with that one
		}
	}
	if err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: some filesystems refuse to sync a folder
		d.Close()
	}
	return nil
}

// createPrivate creates the file with mode 0600 before SQLite opens it
// (SQLite would create it 0644 under the usual umask) and narrows the mode
// of an existing file that others can read. SQLite gives the -wal and -shm
// files the mode of the database file.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("restrict mode: %w", err)
		}
	}
	return nil
}

// migrate applies the embedded migrations that the file lacks, each in its
// own immediate transaction with its version recorded, so that a crash
// leaves the file at some whole version and two processes opening the same
// file at once apply each step exactly once. upTo limits the versions
// applied (tests use it to build an old ledger); nil means all.
func migrate(ctx context.Context, db *sql.DB, upTo *int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if upTo != nil {
		ms = ms[:*upTo]
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m, len(ms)); err != nil {
			return err
		}
	}
	// Checked again after applying: a file newer than this program must be
	// refused even when it has every migration we know.
	var cur int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if upTo == nil && cur > len(ms) {
		return fmt.Errorf("schema version %d, this program knows up to %d (upgrade lote): %w", cur, len(ms), ErrTooNew)
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, known int) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("migration %s: read version: %w", m.name, err)
	}
	if cur > known {
		return fmt.Errorf("schema version %d, this program knows up to %d (upgrade lote): %w", cur, known, ErrTooNew)
	}
	if cur >= m.version {
		return tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, fmtTime(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// Close closes the ledger. Every committed transition is already on disk.
func (l *Ledger) Close() error {
	errR := l.r.Close()
	errW := l.w.Close()
	if err := errors.Join(errW, errR); err != nil {
		return fmt.Errorf("close ledger %s: %w", l.path, err)
	}
	return nil
}

// SchemaVersion reports the schema version recorded in the file.
func (l *Ledger) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := l.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", l.path, err)
	}
	return v, nil
}

// timeLayout is fixed width and always UTC, so that SQL string comparison
// orders instants correctly.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q in ledger: %w", s.String, err)
	}
	return t, nil
}

// nullString stores "" as NULL, for columns where NULL means "not known yet".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
