package stonetest

import "lote/stone"

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
