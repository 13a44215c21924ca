package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ShortIDLen is how many hex digits of a batch id name it to a person: in
// messages, logs, the page and file names.
const ShortIDLen = 12

// ShortID is a batch id's first ShortIDLen hex digits, or the whole id when
// it is shorter.
func ShortID(id string) string {
	if len(id) > ShortIDLen {
		return id[:ShortIDLen]
	}
	return id
}

// ErrBatchMismatch is returned when a batch is run or reconciled with
// another account or environment than the one it was imported for.
var ErrBatchMismatch = errors.New("batch belongs to another account or environment")

// FindBatch resolves a batch id, or a prefix of one that names a single
// batch, as a person types it (any case, spaces around it ignored). An id
// that matches none is ErrNotFound; one that matches several is an error
// that asks for more of it.
func (l *Ledger) FindBatch(ctx context.Context, id string) (Batch, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return Batch{}, errors.New("a batch id is required")
	}
	if len(id) == 64 {
		return l.Batch(ctx, id)
	}
	all, err := l.Batches(ctx)
	if err != nil {
		return Batch{}, err
	}
	var found []Batch
	for _, b := range all {
		if strings.HasPrefix(b.ID, id) {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return Batch{}, fmt.Errorf("batch %s: %w (`lote status` lists the batches)", id, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Batch{}, fmt.Errorf("batch %s: %d batches start with it; give more of the id", id, len(found))
}
