package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"lote/internal/i18n"
	"os"
	"strings"
	"time"

	"lote/check"
	"lote/validate"
)

// sheetFlags are the flags every command that reads a sheet shares.
type sheetFlags struct {
	sheet           string
	headerRow       int
	decimal         string
	institutions    string
	allowDuplicates bool
	rail            string
}

func (s *sheetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.sheet, "sheet", "", "XLSX worksheet to read (default: the first that has a header row)")
	fs.IntVar(&s.headerRow, "header-row", 0, "row of the header, as Excel numbers it (default: the first of rows 1-20 with the payout columns)")
	fs.StringVar(&s.decimal, "decimal", "auto", "decimal separator of text amounts: auto, comma (1.234,56) or dot (1,234.56)")
	fs.StringVar(&s.institutions, "institutions", "", "the Central Bank's ParticipantesSTR.csv, to use instead of the built-in list of institutions")
	fs.StringVar(&s.rail, "rail", "ted", "how rows with bank data outside Stone are paid: ted, pix (Pix by bank data) or auto (Pix when the bank takes part in Pix, else TED); rows with a Pix key go by Pix and accounts at Stone by internal transfer whatever this says")
	fs.BoolVar(&s.allowDuplicates, "allow-duplicates", false, "accept rows that repeat an earlier row of the same sheet (same payee, account, amount and date)")
}

// options turns the flags into check options, loading the institution list
// when one is given.
func (s *sheetFlags) options() (check.CheckOptions, error) {
	if s.headerRow < 0 {
		return check.CheckOptions{}, fmt.Errorf("--header-row %d: give the header's row number, 1 or more", s.headerRow)
	}
	o := check.CheckOptions{Sheet: s.sheet, HeaderRow: s.headerRow}
	o.Validate.AllowDuplicates = s.allowDuplicates
	switch r := strings.ToLower(s.rail); r {
	case "ted", "":
		o.Validate.BankRail = validate.RailTED
	case "pix", "auto":
		o.Validate.BankRail = r
	default:
		return o, fmt.Errorf("--rail %q: use ted, pix or auto", s.rail)
	}
	switch strings.ToLower(s.decimal) {
	case "auto", "":
		o.Validate.Decimal = validate.DecimalAuto
	case "comma", "virgula", "vírgula":
		o.Validate.Decimal = validate.DecimalComma
	case "dot", "ponto":
		o.Validate.Decimal = validate.DecimalDot
	default:
		return o, fmt.Errorf("--decimal %q: use auto, comma or dot", s.decimal)
	}
	if s.institutions != "" {
		f, err := os.Open(s.institutions)
		if err != nil {
			return o, fmt.Errorf("--institutions: %w", err)
		}
		defer f.Close()
		dir, err := validate.LoadParticipantsSTR(f)
		if err != nil {
			return o, fmt.Errorf("--institutions %s: %w", s.institutions, err)
		}
		o.Validate.Institutions = dir
	}
	return o, nil
}

func runValidate(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("validate", "FILE", cio)
	var sf sheetFlags
	sf.register(fs)
	format := fs.String("format", "text", "output: text (one line per problem), json (one document) or jsonl (one object per row)")
	today := fs.String("today", "", "the date scheduled_to is checked against, yyyy-mm-dd (default: today in Brasília), to check a sheet meant for another day")
	files, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(files) != 1 {
		return usageError(fs, cio.stderr, "validate takes one file, got %d", len(files))
	}
	if *format != "text" && *format != "json" && *format != "jsonl" {
		return usageError(fs, cio.stderr, "--format %q: use text, json or jsonl", *format)
	}
	opts, err := sf.options()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	if *today != "" {
		d, err := time.Parse(time.DateOnly, *today)
		if err != nil {
			return usageError(fs, cio.stderr, "--today %q: write the date as yyyy-mm-dd", *today)
		}
		// Noon, so the date is the same in Brasília and UTC.
		opts.Validate.Today = d.Add(12 * time.Hour)
	}
	path := files[0]
	// Every format reports a row as it comes, keeping at most its errors'
	// and warnings' text: the rows' memory can be reused.
	opts.ReuseRows = true
	out := bufio.NewWriterSize(cio.stdout, 64<<10)
	defer out.Flush()

	var report validateReport
	var emit func(check.Checked) error
	switch *format {
	case "text":
		emit = func(c check.Checked) error {
			for _, e := range c.Errors {
				fmt.Fprintf(out, "%s: %s\n", where(path, e), check.IssueOf(e, false).ReasonIn(cio.p))
			}
			for _, w := range c.Warnings {
				fmt.Fprintf(out, "%s: %s%s\n", where(path, w), cio.p.T("warning: "), check.IssueOf(w, true).ReasonIn(cio.p))
			}
			return nil
		}
	case "json":
		report = validateReport{File: path, Errors: []problem{}, Warnings: []problem{}}
		emit = func(c check.Checked) error {
			for _, e := range c.Errors {
				report.Errors = append(report.Errors, newProblem(check.IssueOf(e, false)))
			}
			for _, w := range c.Warnings {
				report.Warnings = append(report.Warnings, newProblem(check.IssueOf(w, true)))
			}
			return nil
		}
	case "jsonl":
		enc := json.NewEncoder(out)
		emit = func(c check.Checked) error {
			line := rowReport{Row: c.Row, Valid: c.Valid(), Errors: problems(c.Errors), Warnings: problems(c.Warnings), Payout: c.Payout}
			return enc.Encode(line)
		}
	}
	sum, _, err := check.Check(ctx, path, opts, emit)
	if err != nil {
		var fe *check.FileError
		if errors.As(err, &fe) {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		if ctx.Err() != nil {
			fmt.Fprintln(cio.stderr, "lote: interrupted")
			return exitInterrupted
		}
		fmt.Fprintf(cio.stderr, "lote: validate %s: %v\n", path, err)
		return exitUsage
	}
	switch *format {
	case "text":
		for _, n := range sum.Notes {
			fmt.Fprintf(out, "%s: %s%s\n", path, cio.p.T("note: "), cio.p.Lookup(n))
		}
		fmt.Fprintf(out, "%s: %s\n", path, cio.p.T(plural(sum.Rows, i18n.Mark("%d row, %d valid, %d invalid, %d with warnings; valid rows total %s"),
			i18n.Mark("%d rows, %d valid, %d invalid, %d with warnings; valid rows total %s")),
			sum.Rows, sum.Valid, sum.Invalid, sum.Warnings, validate.FormatBRL(sum.TotalCents)))
	case "json":
		sha, err := fileSHA256(path)
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		report.SHA256 = sha
		report.Rows, report.Valid, report.Invalid, report.TotalCents = sum.Rows, sum.Valid, sum.Invalid, sum.TotalCents
		report.Notes = append([]string{}, sum.Notes...)
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return exitUsage
		}
	}
	if sum.Invalid > 0 {
		return exitRows
	}
	return exitOK
}

// where locates a problem as FILE:ROW:COLUMN, or FILE:ROW when it concerns
// the whole row (a row the reader could not split into cells).
func where(path string, e validate.FieldError) string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d", path, e.Row)
	}
	return fmt.Sprintf("%s:%d:%s", path, e.Row, e.Column)
}

type validateReport struct {
	File       string    `json:"file"`
	SHA256     string    `json:"sha256"`
	Rows       int       `json:"rows"`
	Valid      int       `json:"valid"`
	Invalid    int       `json:"invalid"`
	TotalCents int64     `json:"total_cents"`
	Errors     []problem `json:"errors"`
	Warnings   []problem `json:"warnings"`
	Notes      []string  `json:"notes"`
}

type rowReport struct {
	Row      int              `json:"row"`
	Valid    bool             `json:"valid"`
	Errors   []problem        `json:"errors"`
	Warnings []problem        `json:"warnings"`
	Payout   *validate.Payout `json:"payout"`
}

// problem is a validation error or warning as scripts read it.
type problem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Value   string `json:"value"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// The message's key and arguments, for text in another language.
	key  string
	args []string
}

func newProblem(is check.Issue) problem {
	return problem{Row: is.Row, Column: is.Column, Value: is.Value, Code: is.Code, Message: is.Message, key: is.Key, args: is.Args}
}

func problems(es []validate.FieldError) []problem {
	ps := make([]problem, len(es))
	for i, e := range es {
		ps[i] = newProblem(check.IssueOf(e, false))
	}
	return ps
}

// fileSHA256 returns the hex SHA-256 of a file's bytes: the batch id.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
