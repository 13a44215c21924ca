package validate

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cell is one input cell. Column is the header as the user wrote it (for
// messages). Present is false when the sheet has no such column.
type Cell struct {
	Column  string
	Value   string
	Kind    Kind
	Present bool
}

// Input is one data row, its cells by canonical field. Row is 1-based as
// Excel numbers it (the header is row 1).
type Input struct {
	Row int
	Amount, AmountCents, Name, Document, DocumentType, Institution,
	Branch, Account, AccountType, ScheduledTo, Reference Cell
	// AccountDigit and BranchDigit are separate check-digit columns: the
	// account's digit is appended to it, the branch's is checked and left
	// out (Stone takes the account with its digit, the branch without).
	AccountDigit, BranchDigit Cell
	// CPF and CNPJ are separate CPF and CNPJ columns, used instead of
	// Document: per row, the one that is filled.
	CPF, CNPJ Cell
	// PixKey is a Pix key column: a row with a key is paid by Pix to it,
	// and needs no bank data.
	PixKey Cell
	// TotalsLabel says that a cell of the row outside these columns is a
	// totals label (IsTotalsLabel): with no payee data, the row is a
	// totals row.
	TotalsLabel bool
}

// Payout is what pays one row: for a TED exactly the JSON body that would
// be POSTed to /api/v1/external_transfers, less account_id (stone-api.md
// §2.1); Rail and PixKey say when it goes another way. For a Pix to a key,
// Target holds the payee's name and document only, to check the owner of
// the key before the payment is confirmed.
type Payout struct {
	Amount      int64        `json:"amount"` // cents
	Target      PayoutTarget `json:"target"`
	ScheduledTo string       `json:"scheduled_to,omitempty"` // yyyy-mm-dd
	// Rail is RailInternal or RailPix; "" is a TED (RailOf).
	Rail string `json:"rail,omitempty"`
	// PixKey and PixKeyKind are the key of a Pix to a key, as PixKey
	// normalised it.
	PixKey     string `json:"pix_key,omitempty"`
	PixKeyKind string `json:"pix_key_kind,omitempty"`
}

// PayoutTarget is the receiving account and its owner.
type PayoutTarget struct {
	Account PayoutAccount `json:"account"`
	Entity  PayoutEntity  `json:"entity"`
}

// PayoutAccount is the receiving account as Stone wants it.
type PayoutAccount struct {
	AccountCode     string `json:"account_code"`          // digits with check digit, no leading zeros
	BranchCode      string `json:"branch_code,omitempty"` // 1-4 digits; empty for PG
	InstitutionCode string `json:"institution_code"`      // the 8-digit ISPB
	AccountType     string `json:"account_type"`          // CC, CD, CG, PG or PP
}

// PayoutEntity is the owner of the receiving account.
type PayoutEntity struct {
	Name         string `json:"name"`
	Document     string `json:"document"`      // digits and upper-case letters only
	DocumentType string `json:"document_type"` // "cpf" or "cnpj"
}

// Result is the outcome of one row.
type Result struct {
	Row int // 1-based, as Excel numbers it
	// Payout is nil when the row is invalid. The payouts of neighbouring
	// valid rows share one allocation, each its own element: keeping a
	// Result keeps that allocation (up to 240 payouts, 32 KiB) alive.
	// With Options.ReusePayouts, it is valid only until the Checker's next
	// call.
	Payout      *Payout
	Institution Institution // resolved, when found
	Reference   string      // normalised reference, "" when none
	Errors      []FieldError
	Warnings    []FieldError
	// Total is set on a totals row: a row with no payee data whose amount
	// is the sum of the valid rows above it (or since the previous totals
	// row), or that is labelled total, soma or subtotal. It is not a
	// payee: no errors, no payout. TotalNote says what it held, for the
	// user.
	Total     bool
	TotalNote string
}

// Valid reports whether the row can be paid.
func (r Result) Valid() bool { return r.Payout != nil && len(r.Errors) == 0 }

// Options are the file-level settings of a Checker. The zero value is safe:
// decimal convention inferred, duplicates refused, embedded institutions,
// today's date from the clock.
type Options struct {
	Decimal         Decimal    // DecimalAuto infers the file's convention
	AllowDuplicates bool       // accept rows that repeat an earlier row
	Institutions    *Directory // nil: the embedded list
	Today           time.Time  // zero: time.Now(); its date in America/Sao_Paulo counts

	// ReusePayouts lets the Checker reuse the memory of the payouts it
	// returns: a Result's Payout then stays valid only until the next call
	// to Add, AddAll, AddPrepared or Close. It is for a caller that uses
	// each result at once (reports it, counts it) and keeps no pointer to a
	// payout; copying one keeps it. On a large file it saves allocating a
	// payout per valid row.
	ReusePayouts bool

	// BankRail is how a row with bank data outside Stone is paid: RailTED
	// (also ""), RailPix (Pix by bank data; an institution outside Pix is
	// an error) or RailAuto (Pix when the institution takes part in Pix
	// and the account can receive one, else TED).
	BankRail string
}

// RailAuto is the BankRail that picks Pix or TED per row.
const RailAuto = "auto"

// ErrNoPix is the rule of a row that --rail pix cannot pay by Pix.
var ErrNoPix = &Rule{"institution_not_pix", "cannot receive a Pix by bank data"}

// MaxAmbiguousWait is how many rows a Checker holds back while an ambiguous
// amount waits for the file to show its decimal convention.
const MaxAmbiguousWait = 10000

// Checker validates the rows of one file in order and keeps the file-level
// state: the decimal convention seen so far and the rows already accepted,
// to refuse duplicates. Memory stays bounded: a 64-bit fingerprint and a
// row number per valid row (at most 24 bytes with the table's free slots),
// plus at most MaxAmbiguousWait held-back rows. A Checker is not safe for
// concurrent use.
type Checker struct {
	dir             *Directory
	bankRail        string
	today           time.Time
	fixed           Decimal // from Options: never inferred
	conv            Decimal // the file's convention once known
	allowDuplicates bool
	queue           []pendingRow  // held back, waiting for the decimal convention
	final           []*pendingRow // amounts settled, duplicates not yet checked
	drained         []pendingRow  // the held-back rows among final
	lookups         []lookup      // scratch for finish
	scratch         []Prepared    // for AddAll
	payouts         []Payout      // the valid rows' payouts are carved from it
	reusePayouts    bool          // Options.ReusePayouts: payouts is rewound by each finish
	seen            *seenTable
	// sumAbove and sumSection add up the valid rows' amounts: all of them
	// so far, and those since the last totals row; nAbove and nSection
	// count them.
	sumAbove, sumSection int64
	nAbove, nSection     int
}

// pendingRow is a checked row whose amount may still wait for the file's
// decimal convention.
type pendingRow struct {
	res     Result
	payout  Payout
	waiting bool // the amount is ambiguous until the convention is known
	amount  amountText
	cell    Cell // the amount cell, for messages

	// A text amount read by prepare but not yet settled against the file's
	// convention: what it proves (evidence), and where in Errors and
	// Warnings its findings go, so that they keep the order of the columns'
	// checks.
	unsettled bool

	// A row with no payee data may be a totals row, decided in row order
	// against the sums of the rows above.
	totalCandidate, totalLabelled bool
	text                          Cell // the amount cell read as text
	evidence                      Decimal
	evidenceCents                 int64 // the amount read under evidence
	errIndex, warnIndex           int
}

// NewChecker returns a Checker for one file.
func NewChecker(opts Options) *Checker {
	c := &Checker{
		dir:             opts.Institutions,
		fixed:           opts.Decimal,
		conv:            opts.Decimal,
		allowDuplicates: opts.AllowDuplicates,
		reusePayouts:    opts.ReusePayouts,
		bankRail:        opts.BankRail,
		seen:            newSeenTable(),
	}
	if c.dir == nil {
		c.dir = Institutions()
	}
	today := opts.Today
	if today.IsZero() {
		today = time.Now()
	}
	c.today = today.In(saoPaulo())
	return c
}

// Add validates one row. It returns the results that are now final, in row
// order: usually just this row's; none while an ambiguous amount waits for
// the file's decimal convention to be known (later calls then return the
// waiting rows too, in order). After MaxAmbiguousWait held-back rows, the
// waiting ambiguous amounts become errors showing both readings.
func (c *Checker) Add(in Input) []Result {
	return c.AddAll(nil, []Input{in})
}

// AddAll validates rows in order, exactly as calling Add on each would, and
// appends the results that are now final to dst, in row order. It returns
// the extended slice.
//
// On a large file it costs less than Add row by row: the earlier payments
// of all the rows are looked up in one pass, so that the memory latency of
// the lookups overlaps instead of adding up, and dst can be reused between
// calls.
func (c *Checker) AddAll(dst []Result, ins []Input) []Result {
	ps := c.scratch[:0]
	for i := range ins {
		ps = c.Prepare(ps, ins[i])
	}
	dst = c.AddPrepared(dst, ps)
	c.scratch = ps[:0]
	return dst
}

// Reserve makes room for rows more valid rows in the memory that refuses
// duplicates, when the caller can estimate how many the file has (from its
// size, say). It only saves time: growing that memory as rows come costs
// more than sizing it once, and the larger heap from the start makes the
// garbage collector run less often. An estimate too low is harmless; one
// far too high wastes 24 bytes per row it overstates.
func (c *Checker) Reserve(rows int) {
	c.seen.reserve(c.seen.count + rows)
}

// Prepared is a row checked on its own by Prepare: every cell is checked,
// but not what depends on the rest of the file (the decimal convention of
// text amounts, duplicates). AddPrepared finishes it.
type Prepared struct {
	p pendingRow
}

// Prepare checks what can be checked in one row alone, and appends the
// prepared row to ps. Unlike the other methods, it may be called from any
// goroutine, concurrently with AddAll, AddPrepared and itself: it only reads
// the Checker's options. That lets a caller check the cells of the next
// rows on one goroutine while another finishes the previous ones.
func (c *Checker) Prepare(ps []Prepared, in Input) []Prepared {
	// Filled in place: a prepared row is large, and copying it again would
	// cost more than checking some of its cells. prepare sets every field,
	// so the slot needs no zeroing first.
	ps = slices.Grow(ps, 1)[:len(ps)+1]
	c.prepare(&ps[len(ps)-1].p, &in)
	return ps
}

// AddPrepared finishes rows made by Prepare, exactly as AddAll would have
// validated the rows they were made from, and appends the results that are
// now final to dst, in row order. Every prepared row must be added once, in
// row order. ps may be reused once AddPrepared returns.
func (c *Checker) AddPrepared(dst []Result, ps []Prepared) []Result {
	for i := range ps {
		c.add(&ps[i].p)
	}
	return c.finish(dst)
}

// add settles a prepared row's amount with the file's convention, then
// either makes it final or holds it back behind (or as) an ambiguous
// amount.
func (c *Checker) add(p *pendingRow) {
	c.settle(p)
	if len(c.queue) == 0 && !p.waiting {
		c.final = append(c.final, p)
		return
	}
	c.queue = append(c.queue, *p)
	switch {
	case c.conv != DecimalAuto:
		c.drain(whyNoEvidence)
	case len(c.queue) >= MaxAmbiguousWait:
		c.drain("the first " + strconv.Itoa(MaxAmbiguousWait) + " rows held back do not show which separator the file uses.")
	}
}

// Close returns the rows still waiting, resolved with what the whole file
// showed: ambiguous amounts in a file that never showed its convention are
// errors showing both readings.
func (c *Checker) Close() []Result {
	c.drain(whyNoEvidence)
	return c.finish(nil)
}

// drain moves every held-back row to c.final, resolving its amount with
// what the file has shown so far. The rows are kept in c.drained until
// finish: c.final points at them. Should a later drain in the same call
// move c.drained, the earlier pointers still reach the rows, in the old
// array, and nothing else writes there.
func (c *Checker) drain(why string) {
	for i := range c.queue {
		c.resolve(&c.queue[i], why)
	}
	start := len(c.drained)
	c.drained = append(c.drained, c.queue...)
	for i := start; i < len(c.drained); i++ {
		c.final = append(c.final, &c.drained[i])
	}
	clear(c.queue)
	c.queue = c.queue[:0]
}

// finish refuses duplicates among the rows in c.final, builds their payouts
// and appends their results to dst, in row order.
//
// The duplicate table is far larger than the CPU caches on a large file, so
// every lookup is a cache miss. The fingerprints are computed first, their
// slots loaded all at once (many misses in flight together), and then
// looked up in a tight loop; interleaved with the rest of a row's checks,
// each miss would wait alone. Lookups stay in row order, so "the earlier
// row" of a duplicate is still the first one in the file.
func (c *Checker) finish(dst []Result) []Result {
	if len(c.final) == 0 {
		return dst
	}
	if c.reusePayouts {
		// The payouts of the previous call are no longer used.
		c.payouts = c.payouts[:0]
	}
	look := c.lookups[:0]
	for _, p := range c.final {
		if len(p.res.Errors) == 0 {
			look = append(look, lookup{fp: c.seen.fingerprint(&p.payout), row: int32(p.res.Row)})
		}
	}
	c.seen.warm(look)
	for k := range look {
		look[k].prev, look[k].dup = c.seen.addOrGet(look[k].fp, look[k].row)
	}
	k := 0
	for _, p := range c.final {
		if len(p.res.Errors) == 0 {
			c.dedupe(p, look[k])
			k++
			if p.res.Payout != nil {
				c.sumAbove += p.payout.Amount
				c.sumSection += p.payout.Amount
				c.nAbove++
				c.nSection++
			}
		} else if p.totalCandidate {
			c.total(p)
		}
		dst = append(dst, p.res)
	}
	// c.drained is not cleared: each entry is overwritten whole before it
	// is read again, and what it keeps alive meanwhile is bounded by its
	// length. Clearing would write every byte of every row once more.
	clear(c.final) // the caller may reuse the rows it passed
	c.final, c.drained, c.lookups = c.final[:0], c.drained[:0], look[:0]
	return dst
}

// lookup is one accepted row's search for an earlier row making the same
// payment.
type lookup struct {
	fp   uint64
	row  int32
	prev int32 // the earlier row, when dup
	dup  bool
}

// dedupe refuses a row that repeats an earlier row's payment, unless
// duplicates are allowed, and otherwise builds its payout.
func (c *Checker) dedupe(p *pendingRow, l lookup) {
	if l.dup && !c.allowDuplicates {
		p.res.Errors = append(p.res.Errors, FieldError{
			Row: p.res.Row, Column: column(p.cell, "amount"), Value: p.cell.Value, Code: ErrDuplicateRow.code,
			Err: fail(ErrDuplicateRow, "Row %s has the same payee, bank, branch, account, amount and date; paying both would pay twice. Remove one, or allow duplicates if both payments are intended.", strconv.Itoa(int(l.prev))),
		})
		return
	}
	// One allocation per payoutSlab valid rows rather than one per row: on
	// a million-row file, per-row payouts were a quarter of all the bytes
	// allocated. Appending within the capacity never moves the slab, so
	// the pointers handed out stay valid (until finish rewinds the slab,
	// with ReusePayouts).
	if len(c.payouts) == cap(c.payouts) {
		if c.reusePayouts {
			// This slab is rewound by the next call, so it may be large: it
			// grows to what one call needs and then stays. The payouts
			// already handed out stay in the old one.
			c.payouts = make([]Payout, 0, max(2*cap(c.payouts), payoutSlab))
		} else {
			c.payouts = make([]Payout, 0, min(max(2*cap(c.payouts), 8), payoutSlab))
		}
	}
	c.payouts = append(c.payouts, p.payout)
	p.res.Payout = &c.payouts[len(c.payouts)-1]
}

// total makes a row with no payee data a totals row when it is labelled
// as one or its amount is the sum of two or more valid rows above it (all
// of them, or those since the previous totals row): the amount of one row
// repeated below it is more likely a payee whose details were left out.
// Any other such row stays an invalid payee, with its errors.
func (c *Checker) total(p *pendingRow) {
	amountOK := p.payout.Amount > 0
	for _, e := range p.res.Errors {
		if e.Column == column(p.cell, "amount") {
			amountOK = false
		}
	}
	a := p.payout.Amount
	var note string
	switch {
	case amountOK && a == c.sumAbove && (c.nAbove > 1 || p.totalLabelled):
		note = FormatBRL(a) + ", the sum of the valid rows above"
	case amountOK && a == c.sumSection && (c.nSection > 1 || p.totalLabelled):
		note = FormatBRL(a) + ", the sum of the valid rows since the last total"
	case !p.totalLabelled:
		return
	case amountOK:
		note = FormatBRL(a) + "; the valid rows above add up to " + FormatBRL(c.sumAbove)
	default:
		note = "its amount " + strconv.Quote(p.cell.Value) + " not read"
	}
	p.res.Errors, p.res.Warnings = nil, nil
	p.res.Total, p.res.TotalNote = true, note
	c.sumSection, c.nSection = 0, 0
}

// IsTotalsLabel reports whether a cell labels a totals row: "TOTAL",
// "Total geral", "Soma:", "Subtotal", "Totais".
func IsTotalsLabel(s string) bool {
	v := trimSpace(s)
	if v == "" || len(v) > 40 {
		return false
	}
	f := Fold(v)
	for _, w := range [...]string{"total", "subtotal", "soma", "somatorio"} {
		if len(f) >= len(w) && f[:len(w)] == w {
			return true
		}
	}
	return false
}

// payoutSlab is how many payouts share one allocation: 240 payouts are
// 31.9 KiB, within Go's largest small-object size class (larger
// allocations take a slower path). Small files start smaller, so that
// checking one row does not allocate for hundreds.
const payoutSlab = 240

func column(cell Cell, canonical string) string {
	if cell.Column != "" {
		return cell.Column
	}
	return canonical
}

func (p *pendingRow) errorf(cell Cell, canonical string, err error) {
	p.res.Errors = append(p.res.Errors, FieldError{Row: p.res.Row, Column: column(cell, canonical), Value: cell.Value, Code: codeOf(err), Err: err})
}

func (p *pendingRow) warn(cell Cell, canonical string, rule *Rule, format string, args ...string) {
	p.res.Warnings = append(p.res.Warnings, FieldError{Row: p.res.Row, Column: column(cell, canonical), Value: cell.Value, Code: rule.code, Err: fail(rule, format, args...)})
}

// errorAt is errorf for the amount settled after the later columns were
// checked: its error goes where checking the columns in order puts it.
func (p *pendingRow) errorAt(cell Cell, canonical string, err error) {
	p.res.Errors = insertAt(p.res.Errors, p.errIndex, FieldError{Row: p.res.Row, Column: column(cell, canonical), Value: cell.Value, Code: codeOf(err), Err: err})
}

// warnAt is warn for the amount settled after the later columns were
// checked.
func (p *pendingRow) warnAt(cell Cell, canonical string, rule *Rule, format string, args ...string) {
	p.res.Warnings = insertAt(p.res.Warnings, p.warnIndex, FieldError{Row: p.res.Row, Column: column(cell, canonical), Value: cell.Value, Code: rule.code, Err: fail(rule, format, args...)})
}

func insertAt(list []FieldError, i int, e FieldError) []FieldError {
	list = append(list, FieldError{})
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

// digitsOf returns the digits a numeric cell holds, so that "1.2345678909E10"
// reads as the number Excel shows; text is returned as is.
func digitsOf(cell Cell) string {
	if cell.Kind == Number {
		if d, ok := numberDigits(cell.Value); ok {
			return d
		}
	}
	return cell.Value
}

// prepare validates every cell of a row; a text amount is only read, and
// left for settle. It reads nothing of c that changes after NewChecker.
func (c *Checker) prepare(p *pendingRow, in *Input) {
	*p = pendingRow{res: Result{Row: in.Row}}
	pay := &p.payout

	if name, err := Name(in.Name.Value); err != nil {
		p.errorf(in.Name, "name", err)
	} else {
		pay.Target.Entity.Name = name
	}

	dt, dtErr := DocumentType(in.DocumentType.Value)
	if dtErr != nil {
		p.errorf(in.DocumentType, "document_type", dtErr)
	}
	docCell := in.Document
	var docErr error
	if in.CPF.Present || in.CNPJ.Present {
		docCell, dt, docErr = splitDocument(in, dt)
	}
	if docErr != nil {
		p.errorf(docCell, "document", docErr)
	} else if doc, err := Document(digitsOf(docCell), dt); err != nil {
		p.errorf(docCell, "document", err)
	} else {
		pay.Target.Entity.Document, pay.Target.Entity.DocumentType = doc.Number, doc.Type
		if doc.ZerosRestored {
			if doc.AlsoCNPJ != "" {
				p.warn(docCell, "document", WarnDocumentZerosRestored, "Excel dropped the leading zeros of this number; it was restored as %s, whose check digits match. If the payee is a company with the CNPJ %s, write it in full or set the document type.", formatDocument(doc), formatCNPJ(doc.AlsoCNPJ))
			} else {
				p.warn(docCell, "document", WarnDocumentZerosRestored, "Excel dropped the leading zeros of this number; it was restored as %s, whose check digits match.", formatDocument(doc))
			}
		}
	}

	byKey := false
	if in.PixKey.Present && trimSpace(in.PixKey.Value) != "" {
		if key, kind, err := PixKey(in.PixKey.Value); err != nil {
			p.errorf(in.PixKey, "pix_key", err)
		} else {
			pay.Rail, pay.PixKey, pay.PixKeyKind = RailPix, key, kind
		}
		byKey = true
	}
	if byKey && blankBank(in) {
		// Paid to the key: no bank data to check.
	} else {
		if byKey {
			p.warn(in.Institution, "institution_code", WarnBankDataNotUsed, "This row has a Pix key and bank data; it is paid by Pix to the key, and the bank data are not used. Clear the key to pay the account instead.")
		}
		c.bankData(p, in, byKey)
		if !byKey && pay.Rail == "" && (c.bankRail == RailPix || c.bankRail == RailAuto) {
			c.pixByBankData(p, in)
		}
	}

	c.checkAmount(p, in)
	if blankPayee(in) && (trimSpace(in.Amount.Value) != "" || trimSpace(in.AmountCents.Value) != "") {
		p.totalLabelled = in.TotalsLabel || IsTotalsLabel(in.Name.Value)
		p.totalCandidate = p.totalLabelled || trimSpace(in.Name.Value) == ""
	}

	if in.ScheduledTo.Kind == Number {
		p.errorf(in.ScheduledTo, "scheduled_to", fail(ErrInvalidDate, "This is a number, not a date: format the cell as a date, or write dd/mm/yyyy."))
	} else if dc, err := ScheduledDate(in.ScheduledTo.Value, c.today); err != nil {
		p.errorf(in.ScheduledTo, "scheduled_to", err)
	} else {
		pay.ScheduledTo = dc.Date
		if dc.Past {
			p.warn(in.ScheduledTo, "scheduled_to", WarnDateInPast, "The date has passed; the transfer will be sent at once, without a date.")
		}
	}

	if ref, err := Reference(digitsOf(in.Reference)); err != nil {
		p.errorf(in.Reference, "reference", err)
	} else {
		p.res.Reference = ref
	}
}

// bankData reads the row's bank account into its payout. byKey says the
// row is paid to a Pix key: the account is then checked but not used.
func (c *Checker) bankData(p *pendingRow, in *Input, byKey bool) {
	pay := &p.payout
	if byKey {
		pay = &Payout{}
	}
	var inst Institution
	var restored, named bool
	var err error
	var byName string
	if in.Institution.Kind == Text {
		// "341 - Itaú Unibanco", "Nubank": a bank as people write it.
		inst, byName, named, err = c.dir.ResolveText(in.Institution.Value)
	}
	if !named {
		inst, restored, err = c.dir.Resolve(in.Institution.Value, in.Institution.Kind)
	}
	if errors.Is(err, ErrStoneInstitution) {
		// An account at Stone is paid by an internal transfer.
		inst, err = Institution{ISPB: StoneISPB, Code: StoneCode, ShortName: "Stone", LongName: "Stone Instituição de Pagamento S.A."}, nil
		if !byKey {
			pay.Rail = RailInternal
		}
	}
	if err != nil {
		p.errorf(in.Institution, "institution_code", err)
	} else {
		p.res.Institution = inst
		pay.Target.Account.InstitutionCode = inst.ISPB
		if byName != "" {
			p.warn(in.Institution, "institution_code", WarnInstitutionByName, strings.ReplaceAll(byName, "%", "%%"))
		}
		if restored {
			if trimLeftZeros(inst.Code) == trimLeftZeros(digitsOf(in.Institution)) && len(digitsOf(in.Institution)) < 3 {
				p.warn(in.Institution, "institution_code", WarnInstitutionZerosRestored, "Excel dropped the leading zeros; read as bank code %s (%s).", inst.Code, inst.ShortName)
			} else {
				p.warn(in.Institution, "institution_code", WarnInstitutionZerosRestored, "Excel dropped the leading zeros; read as ISPB %s (%s).", inst.ISPB, inst.ShortName)
			}
		}
	}

	accountText, digitCell, accErr := accountWithDigit(in.Account, in.AccountDigit)
	var account string
	if accErr != nil {
		p.errorf(digitCell, "account_digit", accErr)
	} else if account, accErr = Account(accountText, inst.ShortName); accErr != nil {
		p.errorf(in.Account, "account_code", accErr)
	}
	branch, brErr := Branch(digitsOf(in.Branch))
	if brErr != nil {
		p.errorf(in.Branch, "branch_code", brErr)
	}
	if err := branchDigit(in.BranchDigit); err != nil {
		p.errorf(in.BranchDigit, "branch_digit", err)
		brErr = err
	}
	typ, typErr := AccountType(in.AccountType.Value)
	if typErr != nil {
		p.errorf(in.AccountType, "account_type", typErr)
	}
	if accErr == nil && brErr == nil && typErr == nil {
		typ2, branch2, note := AccountRules(typ, branch, account)
		if note != "" {
			p.warn(in.AccountType, "account_type", WarnAccountTypeChanged, strings.ReplaceAll(note, "%", "%%"))
		}
		pay.Target.Account.AccountCode, pay.Target.Account.BranchCode, pay.Target.Account.AccountType = account, branch2, typ2
	}

}

// pixByBankData sends a row with bank data by Pix when its institution
// takes part in Pix and its account can receive one (a checking, savings
// or payment account with a branch); with BankRail RailPix a row that
// cannot is an error, with RailAuto it stays a TED.
func (c *Checker) pixByBankData(p *pendingRow, in *Input) {
	a := p.payout.Target.Account
	if a.InstitutionCode == "" || a.AccountCode == "" {
		return // its bank data have errors already
	}
	_, inPix := PixParticipant(a.InstitutionCode)
	okAccount := a.BranchCode != "" && (a.AccountType == "CC" || a.AccountType == "PP" || a.AccountType == "PG")
	switch {
	case inPix && okAccount:
		p.payout.Rail = RailPix
	case c.bankRail == RailAuto:
	case !inPix:
		p.errorf(in.Institution, "institution_code", fail(ErrNoPix, "This institution does not take part in Pix, so --rail pix cannot pay it: pay it by TED (--rail ted or auto) or by its Pix key."))
	default:
		p.errorf(in.AccountType, "account_type", fail(ErrNoPix, "A Pix by bank data goes to a checking, savings or payment account with a branch: pay this one by TED (--rail ted or auto) or by its Pix key."))
	}
}

// blankBank reports whether a row has no bank, branch, account or account
// type.
func blankBank(in *Input) bool {
	for _, v := range [...]string{in.Institution.Value, in.Branch.Value, in.Account.Value, in.AccountDigit.Value, in.BranchDigit.Value, in.AccountType.Value} {
		if trimSpace(v) != "" {
			return false
		}
	}
	return true
}

// blankPayee reports whether a row names no payee account: no document,
// bank, branch or account.
func blankPayee(in *Input) bool {
	for _, v := range [...]string{in.Document.Value, in.CPF.Value, in.CNPJ.Value, in.Institution.Value, in.Branch.Value, in.Account.Value, in.AccountDigit.Value, in.PixKey.Value} {
		if trimSpace(v) != "" {
			return false
		}
	}
	return true
}

func (c *Checker) checkAmount(p *pendingRow, in *Input) {
	p.cell = in.Amount
	if trimSpace(in.AmountCents.Value) != "" || !in.Amount.Present && in.AmountCents.Present {
		p.cell = in.AmountCents
	}
	hasAmount := trimSpace(in.Amount.Value) != ""
	hasCents := trimSpace(in.AmountCents.Value) != ""
	switch {
	case hasAmount && hasCents:
		p.errorf(in.AmountCents, "amount_cents", fail(ErrInvalidAmount, "Fill either the amount in reais or the amount in cents, not both."))
		return
	case hasCents:
		cents, err := ParseAmountCents(in.AmountCents.Value, in.AmountCents.Kind)
		if err != nil {
			p.errorf(in.AmountCents, "amount_cents", err)
		}
		p.payout.Amount = cents
		return
	case !hasAmount:
		cell, name := in.Amount, "amount"
		if !in.Amount.Present && in.AmountCents.Present {
			cell, name = in.AmountCents, "amount_cents"
		}
		p.errorf(cell, name, fail(ErrRequired, "The amount is missing."))
		return
	}
	cell := in.Amount
	switch cell.Kind {
	case Number:
		cents, err := ParseAmountNumber(cell.Value)
		if err != nil {
			p.errorf(cell, "amount", err)
		}
		p.payout.Amount = cents
		return
	case Date:
		p.errorf(cell, "amount", fail(ErrInvalidAmount, "This is a date, not an amount: format the cell as a number."))
		return
	}
	p.text, p.unsettled = cell, true
	p.errIndex, p.warnIndex = len(p.res.Errors), len(p.res.Warnings)
	var ev Decimal
	var cents int64
	var ok bool
	if p.amount, ev, cents, ok = readPlainAmount(cell.Value); !ok {
		p.amount = readAmountText(cell.Value)
		ev, cents = p.amount.evidence()
	}
	if c.fixed == DecimalAuto && ev != DecimalAuto {
		p.evidence, p.evidenceCents = ev, cents
	}
}

// settle reads a prepared text amount under the file's convention, which it
// may learn from this very amount. Rows are settled in row order: what the
// file has shown so far decides.
func (c *Checker) settle(p *pendingRow) {
	if !p.unsettled {
		return
	}
	p.unsettled = false
	a := &p.amount
	if c.fixed == DecimalAuto {
		if ev := p.evidence; ev != DecimalAuto {
			if c.conv == DecimalAuto {
				c.conv = ev
			} else if c.conv != ev {
				p.warnAt(p.text, "amount", WarnAmountMixedConvention, "This amount can only be read with a decimal %s, but the rest of the file uses a decimal %s; read as %s.", sepName(ev), sepName(c.conv), FormatBRL(p.evidenceCents))
			}
			p.payout.Amount = p.evidenceCents
			return
		}
		if a.ambiguous() && c.conv == DecimalAuto {
			p.waiting = true
			return
		}
	}
	cents, err := a.resolve(p.text.Value, c.conv, whyNoEvidence)
	if err != nil {
		p.errorAt(p.text, "amount", err)
	}
	p.payout.Amount = cents
}

func sepName(d Decimal) string {
	if d == DecimalComma {
		return "comma (1.234,56)"
	}
	return "point (1,234.56)"
}

// resolve settles a waiting amount with the file's convention as known now.
func (c *Checker) resolve(p *pendingRow, why string) {
	if p.waiting {
		cents, err := p.amount.resolve(p.cell.Value, c.conv, why)
		if err != nil {
			p.errorf(p.cell, "amount", err)
		}
		p.payout.Amount = cents
		p.waiting = false
	}
}
