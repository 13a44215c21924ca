package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"lote/validate"
)

// maxReadableReference is the longest reference that is kept readable in
// its key: "lote-" + 8 hex + "-" + 48 characters = 62, under Stone's 72.
const maxReadableReference = 48

// IdempotencyKey returns the key a row is sent with for its whole life
// (DESIGN.md "Exactly once"; Stone allows at most 72 printable ASCII
// characters, stone-api.md §5). It has three forms:
//
//   - A readable reference, one that matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$
//     (what business ids usually are: "PAY-2026-11-001", "NF12345"):
//     "lote-" + the first 8 hex digits of SHA-256(accountID) + "-" +
//     reference, at most 62 characters. Sequential business references
//     give keys that sort in the order rows arrive, so the ledger's UNIQUE
//     key index is appended to rather than written at random places, and a
//     large import stays fast; and a person matching Stone's records to the
//     sheet sees the reference in the key.
//   - Any other reference (spaces, accents, other punctuation, longer):
//     "lote-" + the first 40 hex digits of SHA-256(accountID + NUL +
//     reference), 45 characters.
//   - No reference: "lote-p" + the first 40 hex digits of
//     SHA-256("payout" + NUL + fingerprint + NUL + day), 46 characters,
//     where fingerprint is the payout's (Fingerprint: it names the paying
//     account) and day the date in Brasília (yyyy-mm-dd) on which the row
//     is first sent. The same payout sent from another file (the sheet
//     saved again, with other line ends, encoding or separator), another
//     ledger or another host on the same day has the same key, so Stone
//     replays the first answer instead of paying again (its key cache
//     lasts about a day, §5); next month's identical payroll has another
//     key, which Stone does not mistake for a reused one (409). Until it
//     is sent, such a row holds ProvisionalKey: the key is written in the
//     transaction that marks the row attempted, before its request
//     leaves, and never changes after.
//
// With a reference the key depends only on the paying account and the
// reference, never on the file or the row, so the same reference in
// another file is the same key and is recognised as the same payout
// (reference_reused, reference_repeated). The forms never collide: the
// readable form has '-' at index 13, the others a hex digit; the hashed
// form is exactly 45 characters without a second '-', the payout form has
// 'p' at index 5. When a payout key is already taken in the ledger (the
// same payout paid, rejected or released earlier that day), NextKey gives
// the row the next one.
func IdempotencyKey(accountID, reference, fingerprint, day string) string {
	if readableReference(reference) {
		acct := sha256.Sum256([]byte(accountID))
		return "lote-" + hex.EncodeToString(acct[:4]) + "-" + reference
	}
	if reference != "" {
		sum := sha256.Sum256([]byte(accountID + "\x00" + reference))
		return "lote-" + hex.EncodeToString(sum[:])[:40]
	}
	sum := sha256.Sum256([]byte("payout\x00" + fingerprint + "\x00" + day))
	return "lote-p" + hex.EncodeToString(sum[:])[:40]
}

// ProvisionalKey is the key a row without a reference holds from its
// import until it is sent, when it gets its payout key: "lote-" +
// batchID[:40] + "-" + row. It is never sent. Rows imported in file order
// get keys that sort together, so a large import appends to the ledger's
// key index instead of writing it at a random place per row.
func ProvisionalKey(batchID string, row int) string {
	id := batchID
	if len(id) > 40 {
		id = id[:40]
	}
	return "lote-" + id + "-" + strconv.Itoa(row)
}

// payoutKeyLen is the length of a payout key before any NextKey suffix.
const payoutKeyLen = len("lote-p") + 40

// NextKey returns the key a row without a reference takes when key is
// already taken in the ledger: "-2" appended to a payout key, then "-3",
// and so on. It returns "" for keys derived from a reference, whose
// reuse is an error the user fixes.
func NextKey(key string) string {
	if len(key) < payoutKeyLen || !strings.HasPrefix(key, "lote-p") {
		return ""
	}
	n := 1
	if rest := key[payoutKeyLen:]; rest != "" {
		if rest[0] != '-' {
			return ""
		}
		var err error
		if n, err = strconv.Atoi(rest[1:]); err != nil || n < 2 {
			return ""
		}
	}
	return key[:payoutKeyLen] + "-" + strconv.Itoa(n+1)
}

// ReleasedKey is the key of a held row released by a person: the payout
// it repeats may have been sent with the row's own key (same payout, same
// day), so the released row gets a key of its own, derived from the batch
// and the row.
func ReleasedKey(key, batchID string, row int) string {
	sum := sha256.Sum256([]byte("released\x00" + key + "\x00" + batchID + "\x00" + strconv.Itoa(row)))
	return "lote-r" + hex.EncodeToString(sum[:])[:40]
}

// Fingerprint returns what identifies one payout whatever file, batch or
// ledger carries it, as 64 hex digits: SHA-256 of the environment, the
// paying account, the payee's document, bank (ISPB), branch and account as
// normalised, the amount in cents, the scheduled date (yyyy-mm-dd, empty
// when the row has none) and occurrence, the 1-based count of identical
// rows so far in the same sheet (identical rows are refused unless
// duplicates are allowed). The file's bytes, its row order and the
// reference do not enter it.
func Fingerprint(env, accountID string, p *validate.Payout, occurrence int) string {
	a := p.Target.Account
	h := sha256.New()
	for _, s := range []string{"lote-payout-v1", env, accountID, p.Target.Entity.Document, a.InstitutionCode, a.BranchCode,
		a.AccountCode, strconv.FormatInt(p.Amount, 10), p.ScheduledTo, strconv.Itoa(occurrence)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if p.PixKey != "" {
		// A Pix to a key: the key is the payee's account. TED and
		// internal payouts keep the fingerprints they always had.
		h.Write([]byte("pix-key\x00" + p.PixKey))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// occurrences counts the payouts of one sheet, in row order, to give each
// its occurrence among identical rows (Fingerprint). A payout is kept as
// the first 16 bytes of its first occurrence's fingerprint.
type occurrences map[[16]byte]int

// next counts p once more and returns its fingerprint.
func (o occurrences) next(env, accountID string, p *validate.Payout) string {
	base := Fingerprint(env, accountID, p, 1)
	var k [16]byte
	hex.Decode(k[:], []byte(base[:32]))
	o[k]++
	if o[k] == 1 {
		return base
	}
	return Fingerprint(env, accountID, p, o[k])
}

// brasilia is Brasília time, which has had no daylight saving time since
// 2019: the day of a payout key, without the time zone database.
var brasilia = time.FixedZone("BRT", -3*60*60)

// keyDay is the date in Brasília of t, yyyy-mm-dd.
func keyDay(t time.Time) string { return t.In(brasilia).Format(time.DateOnly) }

// readableReference reports whether ref can stand in a key as it is:
// 1 to 48 ASCII letters, digits, '.', '_' or '-', not starting with '.',
// '_' or '-'.
func readableReference(ref string) bool {
	if ref == "" || len(ref) > maxReadableReference {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// PixConfirmKey returns the idempotency key of a Pix's confirmation, from
// the key of its create: the two steps have keys of their own (Stone
// requires it), and the same row always confirms with the same key.
func PixConfirmKey(createKey string) string {
	sum := sha256.Sum256([]byte("lote-pix-confirm\x00" + createKey))
	return "lote-c" + hex.EncodeToString(sum[:])[:40]
}
