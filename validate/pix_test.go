package validate

import "testing"

func TestPixParticipant(t *testing.T) {
	for _, tc := range []struct {
		code string
		want PixMode
		ok   bool
	}{
		{"00000000", PixDirect, true}, // Banco do Brasil: an all-zero ISPB is a real one
		{"001", PixDirect, true},      // Banco do Brasil by COMPE code
		{"16501555", PixDirect, true}, // Stone
		{"197", PixDirect, true},      // Stone by COMPE code
		{"90400888", PixDirect, true}, // Santander
		{"341", PixDirect, true},      // Itaú
		{"33657248", "", false},       // BNDES: no Pix
		{"007", "", false},            // BNDES by COMPE code
		{"1", "", false},              // not padded
		{"999", "", false},            // no such code
		{"", "", false},
	} {
		got, ok := PixParticipant(tc.code)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PixParticipant(%q) = %q, %v; want %q, %v", tc.code, got, ok, tc.want, tc.ok)
		}
	}
}

// TestPixParticipantsKnown: every Pix participant of the embedded list is
// an institution of the embedded directory, and indirect ones are listed.
func TestPixParticipantsKnown(t *testing.T) {
	m := pixByISPB()
	if len(m) < 250 {
		t.Fatalf("%d Pix participants embedded, want the snapshot's 280", len(m))
	}
	indirect := 0
	for ispb, mode := range m {
		if _, ok := Institutions().Lookup(ispb); !ok {
			t.Errorf("Pix participant %s is not in institutions.csv", ispb)
		}
		if mode == PixIndirect {
			indirect++
		}
	}
	if indirect == 0 {
		t.Error("no indirect participant embedded")
	}
}
