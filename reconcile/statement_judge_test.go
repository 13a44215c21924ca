package reconcile

import (
	"strings"
	"testing"
	"time"

	"lote/stone"
)

// debit and refund are statement entries of a TED of amount and fee.
func debit(id string, amount, fee int64) stone.StatementEntry {
	return stone.StatementEntry{ID: id, Type: stone.StatementExternal, Operation: "debit", Amount: -(amount + fee), OperationAmount: amount, FeeAmount: fee}
}

func refund(id string, amount, fee int64) stone.StatementEntry {
	return stone.StatementEntry{ID: id, Type: stone.StatementExternalRefund, Operation: "credit", Amount: amount + fee, OperationAmount: amount, FeeAmount: fee}
}

// TestJudgeStatement: each way a statement can disagree with a row's
// outcome, with the words the report shows.
func TestJudgeStatement(t *testing.T) {
	settled := emuStart
	soon, late := settled.Add(time.Hour), settled.Add(DefaultStatementLag)
	tests := []struct {
		name   string
		sr     statementRow
		now    time.Time
		state  StatementState
		detail string // a part of it
	}{
		{"paid", statementRow{cat: CategoryPaid, amount: 1000, fee: 400, debits: []stone.StatementEntry{debit("e1", 1000, 400)}}, late, StatementOK, ""},
		{"paid, no debit yet", statementRow{cat: CategoryPaid, amount: 1000, fee: 400}, soon, StatementNotYet, ""},
		{"paid, no debit", statementRow{cat: CategoryPaid, amount: 1000, fee: 400}, late, StatementDiffers,
			"no debit of R$ 14,00 in the statement, 6 h after Stone's transfer says it finished"},
		{"paid twice", statementRow{cat: CategoryPaid, amount: 1000, fee: 400, debits: []stone.StatementEntry{debit("e1", 1000, 400), debit("e2", 1000, 400)}},
			soon, StatementDiffers, "debited 2 times (entries e1, e2)"},
		{"other amount", statementRow{cat: CategoryPaid, amount: 1000, fee: 400, debits: []stone.StatementEntry{debit("e1", 1001, 400)}},
			soon, StatementDiffers, "statement amount R$ 10,01, ledger R$ 10,00 (entry e1)"},
		{"debit not its parts", statementRow{cat: CategoryPaid, amount: 1000, fee: 400,
			debits: []stone.StatementEntry{{ID: "e1", Type: stone.StatementExternal, Amount: -1500, OperationAmount: 1000, FeeAmount: 400}}},
			soon, StatementDiffers, "statement debit R$ 15,00, expected R$ 14,00 (amount + fee) (entry e1)"},
		{"refund of a finished one", statementRow{cat: CategoryPaid, amount: 1000, fee: 400,
			debits: []stone.StatementEntry{debit("e1", 1000, 400)}, refunds: []stone.StatementEntry{refund("e2", 1000, 400)}},
			soon, StatementDiffers, "a refund of R$ 14,00 came back (entry e2) but the transfer is FINISHED"},
		{"returned", statementRow{cat: CategoryReturned, amount: 1000, fee: 400,
			debits: []stone.StatementEntry{debit("e1", 1000, 400)}, refunds: []stone.StatementEntry{refund("e2", 1000, 400)}}, late, StatementOK, ""},
		{"returned without the fee", statementRow{cat: CategoryReturned, amount: 1000, fee: 400,
			debits: []stone.StatementEntry{debit("e1", 1000, 400)}, refunds: []stone.StatementEntry{refund("e2", 1000, 0)}},
			soon, StatementDiffers, "refund credit R$ 10,00, the debit was R$ 14,00: amount and fee did not both come back"},
		{"refund not back yet", statementRow{cat: CategoryReturned, amount: 1000, fee: 400, debits: []stone.StatementEntry{debit("e1", 1000, 400)}},
			soon, StatementNotYet, ""},
		{"refund without debit", statementRow{cat: CategoryReturned, amount: 1000, fee: 400, refunds: []stone.StatementEntry{refund("e2", 1000, 400)}},
			soon, StatementDiffers, "a refund of R$ 14,00 (entry e2) without its debit"},
		{"scheduled short of funds", statementRow{cat: CategoryReturned, amount: 1000, fee: 400, failureCode: "1"}, late, StatementOK, ""},
		{"returned, nothing in the statement", statementRow{cat: CategoryReturned, amount: 1000, fee: 400}, late, StatementDiffers,
			"neither the debit of R$ 14,00 nor its refund is in the statement"},
		{"failed", statementRow{cat: CategoryFailed, amount: 1000}, late, StatementOK, ""},
		{"failed but debited", statementRow{cat: CategoryFailed, amount: 1000, fee: 0, debits: []stone.StatementEntry{debit("e1", 1000, 400)}},
			soon, StatementDiffers, "the transfer failed, but the statement moved -R$ 14,00 (entries e1)"},
		{"failed, debited and returned", statementRow{cat: CategoryFailed, amount: 1000,
			debits: []stone.StatementEntry{debit("e1", 1000, 400)}, refunds: []stone.StatementEntry{refund("e2", 1000, 400)}}, soon, StatementOK, ""},
		{"another type", statementRow{cat: CategoryPaid, amount: 1000, fee: 400, debits: []stone.StatementEntry{debit("e1", 1000, 400)},
			unexpectedOthers: []stone.StatementEntry{{ID: "e3", Type: stone.StatementExternal, Amount: 5}}},
			soon, StatementDiffers, "unexpected external entry e3 of R$ 0,05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sr.settled = settled
			got := judgeStatement(&tt.sr, tt.now, DefaultStatementLag)
			if got.State != tt.state || !strings.Contains(got.Detail, tt.detail) || (tt.state != StatementDiffers && got.Detail != "") {
				t.Errorf("got %s %q, want %s %q", got.State, got.Detail, tt.state, tt.detail)
			}
		})
	}
}

// FuzzJudgeStatement: whatever entries Stone's statement holds, the
// verdict never panics, a difference always says what, and "ok" for a
// paid row means exactly one debit of the amount plus the fee and no
// refund.
func FuzzJudgeStatement(f *testing.F) {
	f.Add(uint8(0), int64(1000), int64(400), int64(-1400), int64(1000), int64(400), false, int64(0), uint8(1), int64(0))
	f.Add(uint8(1), int64(1000), int64(400), int64(-1400), int64(1000), int64(400), true, int64(1400), uint8(1), int64(3600))
	f.Add(uint8(2), int64(1000), int64(0), int64(0), int64(0), int64(0), false, int64(0), uint8(0), int64(-5))
	f.Fuzz(func(t *testing.T, cat uint8, amount, fee, dAmount, dOp, dFee int64, withRefund bool, rAmount int64, debits uint8, ageSeconds int64) {
		sr := statementRow{cat: []Category{CategoryPaid, CategoryReturned, CategoryFailed}[int(cat)%3], amount: amount, fee: fee, settled: emuStart}
		for i := range int(debits % 4) {
			sr.debits = append(sr.debits, stone.StatementEntry{ID: "d" + string(rune('0'+i)), Type: stone.StatementExternal, Amount: dAmount, OperationAmount: dOp, FeeAmount: dFee})
		}
		if withRefund {
			sr.refunds = []stone.StatementEntry{{ID: "r", Type: stone.StatementExternalRefund, Amount: rAmount}}
		}
		got := judgeStatement(&sr, emuStart.Add(time.Duration(ageSeconds)*time.Second), DefaultStatementLag)
		switch got.State {
		case StatementDiffers:
			if got.Detail == "" {
				t.Fatal("a difference without a detail")
			}
		case StatementOK, StatementNotYet:
			if got.Detail != "" {
				t.Fatalf("%s with detail %q", got.State, got.Detail)
			}
		default:
			t.Fatalf("state %q", got.State)
		}
		if got.State == StatementOK && sr.cat == CategoryPaid &&
			(len(sr.debits) != 1 || len(sr.refunds) != 0 || dAmount != -(amount+fee) || dOp != amount || dFee != fee) {
			t.Fatalf("ok for a paid row with debits %+v, refunds %+v (amount %d, fee %d)", sr.debits, sr.refunds, amount, fee)
		}
	})
}
