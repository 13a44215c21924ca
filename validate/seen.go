package validate

import (
	"encoding/binary"
	"hash/maphash"
)

// seenTable remembers the payments a file has accepted, as 64-bit
// fingerprints, so that a later row paying the same again is refused.
//
// It is an open-addressing table with linear probing, grown by doubling
// before it is half full: 12 bytes per slot (fingerprint and row, side by
// side so that a lookup or an insert touches one cache line), about 24
// bytes per accepted row at worst. A Go map keyed by a wider hash costs
// several times that, in memory and in cache misses, on the million-row
// sheets lote must check quickly.
//
// Two different payments share a fingerprint with probability about
// n²/2⁶⁵ for n accepted rows (3·10⁻⁸ for a million). A collision can only
// make the second payment look like a duplicate of the first: an error a
// person reads and overrides, never a missed duplicate, so the money rule
// holds whatever the hash does. The seed is random per table, so no input
// collides on purpose.
type seenTable struct {
	seed   maphash.Seed
	slots  []seenSlot
	count  int
	warmth uint32 // see warm
}

// seenSlot is a fingerprint, split so that the slot packs into 12 bytes,
// and the row that first made the payment. hi == 0 && lo == 0 marks an
// empty slot.
type seenSlot struct {
	hi, lo uint32
	row    int32
}

func newSeenTable() *seenTable {
	const initial = 1 << 10
	return &seenTable{seed: maphash.MakeSeed(), slots: make([]seenSlot, initial)}
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
	b = append(b, p.PixKey...) // at most 77 characters: buf still holds it
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Amount))
	b = append(b, p.ScheduledTo...)
	fp := maphash.Bytes(t.seed, b)
	if fp == 0 {
		fp = 1
	}
	return fp
}

// reserve grows the table, if needed, so that n payments fit without
// growing again.
func (t *seenTable) reserve(n int) {
	size := len(t.slots)
	for size/2 < n {
		size *= 2
	}
	if size > len(t.slots) {
		t.rehash(size)
	}
}

// warm loads the slots where the lookups of look start, all at once, so
// that their cache misses overlap; the lookups that follow, one after the
// other, then find those slots in the cache. The sum is kept only so that
// the loads are not optimised away.
func (t *seenTable) warm(look []lookup) {
	mask := uint64(len(t.slots) - 1)
	var sum uint32
	for i := range look {
		sum += t.slots[look[i].fp&mask].hi
	}
	t.warmth = sum
}

// addOrGet records that row makes payment fp, unless an earlier row made it:
// then it returns that earlier row and true, and records nothing.
func (t *seenTable) addOrGet(fp uint64, row int32) (int32, bool) {
	hi, lo := uint32(fp>>32), uint32(fp)
	mask := uint64(len(t.slots) - 1)
	// The low bits pick the slot; maphash mixes every bit, so they are as
	// good as any.
	for i := fp & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch {
		case s.hi == hi && s.lo == lo:
			return s.row, true
		case s.hi == 0 && s.lo == 0:
			*s = seenSlot{hi: hi, lo: lo, row: row}
			t.count++
			if 2*t.count > len(t.slots) {
				t.rehash(2 * len(t.slots))
			}
			return 0, false
		}
	}
}

// rehash moves every fingerprint to a table of size slots, a larger power
// of two. Reading the old table in order writes the new one in sequential
// runs (a slot's new home is its old one plus a multiple of the old
// length), which keeps growing cheap for the cache.
func (t *seenTable) rehash(size int) {
	old := t.slots
	t.slots = make([]seenSlot, size)
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.hi == 0 && s.lo == 0 {
			continue
		}
		i := (uint64(s.hi)<<32 | uint64(s.lo)) & mask
		for t.slots[i].hi != 0 || t.slots[i].lo != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
