package validate

import (
	_ "embed" // the derived list of Pix participants
	"strings"
	"sync"
)

// pixParticipants lists, by ISPB, the institutions that take part in Pix and
// how: "DRCT" (a direct participant of the SPI) or "IDRT" (indirect, through
// another institution). It is derived from the PixType column of the
// snapshot in ../shared/data/institutions.csv (a compilation of the Central
// Bank's participant lists, 2026-08-22); institutions without a PixType are
// left out. go generate ./validate rebuilds it (internal/genpix).
//
//go:generate go run ./internal/genpix -in ../../shared/data/institutions.csv -out pix_participants.csv
//go:embed pix_participants.csv
var pixParticipants string

// PixMode is how an institution takes part in Pix.
type PixMode string

// Pix participation modes, as the Central Bank's list of Pix participants
// names them.
const (
	PixDirect   PixMode = "DRCT" // settles in the SPI itself
	PixIndirect PixMode = "IDRT" // settles through a direct participant
)

var pixByISPB = sync.OnceValue(func() map[string]PixMode {
	lines := strings.Split(strings.TrimSpace(pixParticipants), "\n")
	m := make(map[string]PixMode, len(lines))
	for _, l := range lines[1:] { // the first line is the header
		ispb, mode, ok := strings.Cut(strings.TrimSpace(l), ",")
		if !ok || len(ispb) != 8 || !allDigits(ispb) || (mode != string(PixDirect) && mode != string(PixIndirect)) {
			// The file is generated and committed with the code; a
			// broken line is a build mistake, caught by the tests.
			panic("validate: embedded pix_participants.csv: bad line " + l)
		}
		m[ispb] = PixMode(mode)
	}
	return m
})

// PixParticipant reports whether the institution named by an 8-digit ISPB
// or a 3-digit COMPE code takes part in Pix, and how, according to the
// embedded list. The code is taken exactly as given (no padding); a COMPE
// code is resolved to its ISPB with the embedded institution directory. An
// institution that takes part in Pix can be paid by Pix with bank data
// instead of a TED.
func PixParticipant(code string) (PixMode, bool) {
	ispb := code
	if len(code) == 3 {
		in, ok := Institutions().Lookup(code)
		if !ok {
			return "", false
		}
		ispb = in.ISPB
	}
	if len(ispb) != 8 {
		return "", false
	}
	mode, ok := pixByISPB()[ispb]
	return mode, ok
}
