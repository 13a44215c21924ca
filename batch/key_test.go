package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"lote/validate"
)

// readableRE is the rule IdempotencyKey documents, written independently of
// readableReference so that the tests check one against the other.
var readableRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$`)

// payoutKey is the documented key of a payout without a reference.
func payoutKey(fp, day string) string {
	sum := sha256.Sum256([]byte("payout\x00" + fp + "\x00" + day))
	return "lote-p" + hex.EncodeToString(sum[:])[:40]
}

// hashedKey is the documented key of a reference that is not readable.
func hashedKey(account, ref string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + ref))
	return "lote-" + hex.EncodeToString(sum[:])[:40]
}

func TestIdempotencyKey(t *testing.T) {
	fp := strings.Repeat("ab", 32) // a payout's fingerprint
	day := "2026-12-03"
	ref48 := "NF" + strings.Repeat("0123456789", 4) + "012345"
	ref49 := ref48 + "6"
	if len(ref48) != 48 || len(ref49) != 49 {
		t.Fatalf("test references are %d and %d characters", len(ref48), len(ref49))
	}
	// "cf9df9b9" is the first 8 hex digits of SHA-256("acc-1").
	tests := []struct {
		name string
		ref  string
		row  int
		want string
	}{
		{"no reference: the payout and the day", "", 7, payoutKey(fp, day)},
		{"readable business id", "PAY-2026-11-001", 7, "lote-cf9df9b9-PAY-2026-11-001"},
		{"readable digits and letters", "NF12345", 2, "lote-cf9df9b9-NF12345"},
		{"readable with dot and underscore", "a.b_C-9", 2, "lote-cf9df9b9-a.b_C-9"},
		{"one character", "7", 2, "lote-cf9df9b9-7"},
		{"48 characters stay readable", ref48, 2, "lote-cf9df9b9-" + ref48},
		{"49 characters are hashed", ref49, 2, hashedKey("acc-1", ref49)},
		{"space is hashed", "NF 1", 2, "lote-d752406a1577d5d857c82ff8c57b886cc15a26dc"},
		{"accent is hashed", "Pagamento-João", 2, hashedKey("acc-1", "Pagamento-João")},
		{"slash is hashed", "NF/1", 2, hashedKey("acc-1", "NF/1")},
		{"leading hyphen is hashed", "-NF1", 2, hashedKey("acc-1", "-NF1")},
		{"leading dot is hashed", ".NF1", 2, hashedKey("acc-1", ".NF1")},
		{"trailing space is hashed", "NF1 ", 2, hashedKey("acc-1", "NF1 ")},
		{"other punctuation is hashed", "NF#1", 2, hashedKey("acc-1", "NF#1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IdempotencyKey("acc-1", tt.ref, fp, day)
			if got != tt.want {
				t.Errorf("IdempotencyKey(%q, %d) = %q; want %q", tt.ref, tt.row, got, tt.want)
			}
			if len(got) > 72 {
				t.Errorf("key %q is %d characters, over Stone's 72", got, len(got))
			}
			if tt.ref == "" {
				// Another day, another payout: another key.
				if other := IdempotencyKey("acc-1", "", fp, "2026-12-04"); other == got {
					t.Errorf("the same payout on two days shares key %q", got)
				}
				if other := IdempotencyKey("acc-1", "", strings.Repeat("cd", 32), day); other == got {
					t.Errorf("two payouts share key %q", got)
				}
				return
			}
			// The same reference for another payout, another day, is the same key.
			if other := IdempotencyKey("acc-1", tt.ref, strings.Repeat("cd", 32), "2027-01-01"); other != got {
				t.Errorf("reference %q: key %q in one file, %q in another", tt.ref, got, other)
			}
			// Another paying account never shares it.
			if other := IdempotencyKey("acc-2", tt.ref, fp, day); other == got {
				t.Errorf("reference %q: acc-1 and acc-2 share key %q", tt.ref, got)
			}
			// Index 13 tells the forms apart: '-' only in the readable one.
			if readable := readableRE.MatchString(tt.ref); (got[13] == '-') != readable {
				t.Errorf("reference %q (readable %v): key %q has %q at index 13", tt.ref, readable, got, got[13])
			}
		})
	}
	if got, want := IdempotencyKey("acc-2", "PAY-2026-11-001", fp, day), "lote-a75990ab-PAY-2026-11-001"; got != want {
		t.Errorf("acc-2 key = %q; want %q", got, want)
	}
}

// TestIdempotencyKeyFormsDisjoint checks the case that would break
// "one key, one payout" if the forms could overlap: a reference whose
// readable key spells out what a hashed key looks like.
func TestIdempotencyKeyFormsDisjoint(t *testing.T) {
	hashed := IdempotencyKey("acc-1", "NF 1", "", "") // lote-d752406a1577…
	// The longest readable reference that imitates it still carries the
	// account's 8 hex digits and a '-' in front of it.
	imitation := strings.TrimPrefix(hashed, "lote-")
	got := IdempotencyKey("acc-1", imitation, "", "")
	if got == hashed || got[13] != '-' || hashed[13] == '-' {
		t.Errorf("readable %q and hashed %q are not told apart at index 13", got, hashed)
	}
	noRef := IdempotencyKey("acc-1", "", strings.Repeat("ab", 32), "2026-12-03")
	if noRef[13] == '-' || len(noRef) == 45 || noRef[5] != 'p' {
		t.Errorf("no-reference key %q could be mistaken for another form", noRef)
	}
}

func FuzzIdempotencyKey(f *testing.F) {
	f.Add("acc-1", "PAY-2026-11-001", "acc-1", "NF 1", int64(2))
	f.Add("acc-1", "d752406a1577d5d857c82ff8c57b886cc15a26dc", "acc-1", "NF 1", int64(3))
	f.Add("acc-1", "", "acc-2", "-NF1", int64(-1))
	f.Add("", "Pagamento-João", "", "Pagamento-Joao", int64(1048576))
	f.Fuzz(func(t *testing.T, acc1, ref1, acc2, ref2 string, row int64) {
		seed := sha256.Sum256([]byte(acc1 + "\x00" + ref1))
		fp := hex.EncodeToString(seed[:]) // fingerprints are hex SHA-256
		day := time.Unix(row, 0).UTC().Format(time.DateOnly)
		check := func(acc, ref string) string {
			k := IdempotencyKey(acc, ref, fp, day)
			if len(k) > 72 || !strings.HasPrefix(k, "lote-") {
				t.Fatalf("IdempotencyKey(%q, %q) = %q: %d characters", acc, ref, k, len(k))
			}
			for i := 0; i < len(k); i++ {
				if k[i] <= 0x20 || k[i] > 0x7e {
					t.Fatalf("IdempotencyKey(%q, %q) = %q: byte %d is %#x", acc, ref, k, i, k[i])
				}
			}
			if again := IdempotencyKey(acc, ref, fp, day); again != k {
				t.Fatalf("IdempotencyKey(%q, %q) gave %q then %q", acc, ref, k, again)
			}
			switch {
			case ref == "":
				if want := payoutKey(fp, day); k != want {
					t.Fatalf("no reference: %q; want %q", k, want)
				}
			case readableRE.MatchString(ref):
				acct := sha256.Sum256([]byte(acc))
				if want := "lote-" + hex.EncodeToString(acct[:4]) + "-" + ref; k != want {
					t.Fatalf("readable %q: %q; want %q", ref, k, want)
				}
			default:
				if want := hashedKey(acc, ref); k != want {
					t.Fatalf("hashed %q: %q; want %q", ref, k, want)
				}
			}
			if ref != "" {
				if other := IdempotencyKey(acc, ref, strings.Repeat("0", 64), "1999-01-01"); other != k {
					t.Fatalf("reference %q: key depends on the file or row: %q, %q", ref, k, other)
				}
			}
			return k
		}
		k1, k2 := check(acc1, ref1), check(acc2, ref2)
		if acc1 == acc2 && ref1 == ref2 {
			return
		}
		form := func(ref string) int {
			switch {
			case ref == "":
				return 0
			case readableRE.MatchString(ref):
				return 1
			}
			return 2
		}
		// Different forms never meet; within one account, different
		// references never meet (the readable form is the reference itself).
		if (form(ref1) != form(ref2) || (acc1 == acc2 && ref1 != ref2 && ref1 != "" && ref2 != "")) && k1 == k2 {
			t.Fatalf("(%q, %q) and (%q, %q) share key %q", acc1, ref1, acc2, ref2, k1)
		}
	})
}

func TestNextKey(t *testing.T) {
	base := payoutKey(strings.Repeat("ab", 32), "2026-12-03")
	tests := []struct{ key, want string }{
		{base, base + "-2"},
		{base + "-2", base + "-3"},
		{base + "-99", base + "-100"},
		{"lote-cf9df9b9-PAY-1", ""},                          // a reference: reuse is the user's to fix
		{hashedKey("acc-1", "NF 1"), ""},                     // likewise
		{base + "-1", ""},                                    // never written
		{base + "x", ""},                                     // not a payout key
		{ReleasedKey(base, strings.Repeat("cd", 32), 7), ""}, // a released row keeps its own
	}
	for _, tt := range tests {
		if got := NextKey(tt.key); got != tt.want {
			t.Errorf("NextKey(%q) = %q; want %q", tt.key, got, tt.want)
		}
		if got := NextKey(tt.key); len(got) > 72 {
			t.Errorf("NextKey(%q) is %d characters", tt.key, len(got))
		}
	}
}

// TestFingerprintIgnoresTheFile checks what makes two rows one payout:
// the payee's account, the amount, the date, the occurrence and the paying
// side; never anything the file or its reference says.
func TestFingerprintIgnoresTheFile(t *testing.T) {
	p := validate.Payout{Amount: 425075, ScheduledTo: "2026-12-05", Target: validate.PayoutTarget{
		Account: validate.PayoutAccount{AccountCode: "123456", BranchCode: "1", InstitutionCode: "60701190", AccountType: "CC"},
		Entity:  validate.PayoutEntity{Name: "Maria", Document: "52601815907", DocumentType: "cpf"}}}
	base := Fingerprint("sim", "acc-1", &p, 1)
	if len(base) != 64 {
		t.Fatalf("fingerprint %q is not 64 hex digits", base)
	}
	same := p
	same.Target.Entity.Name = "MARIA DA SILVA" // a name is how the sheet spells it
	same.Target.Account.AccountType = "CC"
	if got := Fingerprint("sim", "acc-1", &same, 1); got != base {
		t.Errorf("the payee's name changed the fingerprint")
	}
	change := map[string]func(*validate.Payout){
		"amount":   func(q *validate.Payout) { q.Amount++ },
		"date":     func(q *validate.Payout) { q.ScheduledTo = "" },
		"document": func(q *validate.Payout) { q.Target.Entity.Document = "11144477735" },
		"bank":     func(q *validate.Payout) { q.Target.Account.InstitutionCode = "00000000" },
		"branch":   func(q *validate.Payout) { q.Target.Account.BranchCode = "2" },
		"account":  func(q *validate.Payout) { q.Target.Account.AccountCode = "123457" },
	}
	for name, fn := range change {
		q := p
		fn(&q)
		if Fingerprint("sim", "acc-1", &q, 1) == base {
			t.Errorf("another %s gave the same fingerprint", name)
		}
	}
	for _, other := range []string{
		Fingerprint("production", "acc-1", &p, 1),
		Fingerprint("sim", "acc-2", &p, 1),
		Fingerprint("sim", "acc-1", &p, 2),
	} {
		if other == base {
			t.Errorf("another environment, account or occurrence gave the same fingerprint")
		}
	}
}
