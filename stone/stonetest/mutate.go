package stonetest

import (
	"slices"

	"lote/stone"
)

// Mutate changes the stored transfer id with f, as if Stone's record of it
// had changed behind the client's back (a different amount or target), so
// that tests can check that reconciliation notices. It returns false when
// no transfer has the id. f must not keep the pointer.
func (s *Server) Mutate(id string, f func(*stone.Transfer)) bool {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.transfers[id]
	if rec == nil {
		return false
	}
	f(&rec.t)
	return true
}

// MutateEntry changes the statement entry id with f, as if Stone's
// statement had recorded the movement differently (another fee, another
// amount), so that tests can check that reconciliation notices. It
// returns false when no entry has the id. The balance is left as it was.
func (s *Server) MutateEntry(id string, f func(*stone.StatementEntry)) bool {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	en := s.entries[id]
	if en == nil {
		return false
	}
	f(&en.e)
	return true
}

// DropEntry removes the statement entry id, as if the statement had not
// recorded the movement (yet). It returns false when no entry has the id.
func (s *Server) DropEntry(id string) bool {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	en := s.entries[id]
	if en == nil {
		return false
	}
	delete(s.entries, id)
	if a := s.accounts[en.accountID]; a != nil {
		a.entries = slices.DeleteFunc(a.entries, func(x *statementEntry) bool { return x == en })
	}
	return true
}
