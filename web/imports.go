package web

import "net/http"

// DefaultMaxImports is how many uploads are checked and imported at once
// when Options.MaxImports is 0. Each holds a sheet reader's memory (a few
// rows, the shared strings of a workbook: tens of MB at most, by the
// sheet package's limits) and a ledger import; a handful of people
// uploading at the same moment wait a few seconds, and a script posting
// uploads in a loop cannot make the server hold more.
const DefaultMaxImports = 2

// startImport takes one of the import slots, or reports that all are
// taken; endImport gives it back.
func (s *Server) startImport() bool {
	select {
	case s.imports <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Server) endImport() { <-s.imports }

// busy answers an upload that found every import slot taken. The file
// stays stored, so the same upload again goes on from it.
func (s *Server) busy(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("upload refused: imports busy", "user", sessionFrom(r).user, "slots", cap(s.imports))
	w.Header().Set("Retry-After", "30")
	s.showList(w, r, http.StatusServiceUnavailable, "The server is busy checking other uploads. Try again in a minute.")
}
