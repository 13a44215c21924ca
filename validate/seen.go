package validate

import (
	"encoding/binary"
	"hash/maphash"
)

// seenTable remembers the payments a file has accepted, as 64-bit
// fingerprints, so that a later row paying the same again is refused.
//
// It is an open-addressing table with linear probing, grown by doubling
// before it is half full: 12 bytes per slot (fingerprint and row), about
// 24 bytes per accepted row at worst, and one cache miss per lookup for the
// million-row sheets lote must check quickly. A Go map keyed by a wider
// hash costs several times that in both.
//
// Two different payments share a fingerprint with probability about
// n²/2⁶⁵ for n accepted rows (3·10⁻⁸ for a million). A collision can only
// make the second payment look like a duplicate of the first: an error a
// person reads and overrides, never a missed duplicate, so the money rule
// holds whatever the hash does. The seed is random per table, so no input
// collides on purpose.
type seenTable struct {
	seed  maphash.Seed
	fps   []uint64 // 0 marks an empty slot
	rows  []int32  // the row that first made the payment in the same slot
	count int
}

func newSeenTable() *seenTable {
	const initial = 1 << 10
	return &seenTable{seed: maphash.MakeSeed(), fps: make([]uint64, initial), rows: make([]int32, initial)}
}

// fingerprint hashes what makes two payouts the same payment: payee
// document, institution, branch, account, amount, date. The NUL separators
// keep "12"+"3" apart from "1"+"23" (no field holds a NUL); 0 is reserved
// for empty slots.
func (t *seenTable) fingerprint(p *Payout) uint64 {
	var buf [160]byte
	b := buf[:0]
	b = append(b, p.Target.Entity.Document...)
	b = append(b, 0)
	b = append(b, p.Target.Account.InstitutionCode...)
	b = append(b, 0)
	b = append(b, p.Target.Account.BranchCode...)
	b = append(b, 0)
	b = append(b, p.Target.Account.AccountCode...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Amount))
	b = append(b, p.ScheduledTo...)
	fp := maphash.Bytes(t.seed, b)
	if fp == 0 {
		fp = 1
	}
	return fp
}

// addOrGet records that row makes payment fp, unless an earlier row made it:
// then it returns that earlier row and true, and records nothing.
func (t *seenTable) addOrGet(fp uint64, row int32) (int32, bool) {
	mask := uint64(len(t.fps) - 1)
	// The low bits pick the slot; maphash mixes every bit, so they are as
	// good as any.
	for i := fp & mask; ; i = (i + 1) & mask {
		switch t.fps[i] {
		case fp:
			return t.rows[i], true
		case 0:
			t.fps[i], t.rows[i] = fp, row
			t.count++
			if 2*t.count > len(t.fps) {
				t.grow()
			}
			return 0, false
		}
	}
}

// grow doubles the table and re-inserts every fingerprint.
func (t *seenTable) grow() {
	fps, rows := t.fps, t.rows
	t.fps, t.rows = make([]uint64, 2*len(fps)), make([]int32, 2*len(rows))
	mask := uint64(len(t.fps) - 1)
	for j, fp := range fps {
		if fp == 0 {
			continue
		}
		i := fp & mask
		for t.fps[i] != 0 {
			i = (i + 1) & mask
		}
		t.fps[i], t.rows[i] = fp, rows[j]
	}
}
