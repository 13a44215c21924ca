package validate

// STRParticipant resolves an 8-digit ISPB or a 3-digit COMPE code against
// the embedded directory, as Stone's API resolves a TED's
// target.account.institution_code: only institutions on the RSFN network
// (reachable by TED) are found. It returns the ISPB, the COMPE code and the
// long name. The emulator (stone/stonetest) uses it so that it knows the
// same institutions lote validates against.
func STRParticipant(code string) (ispb, number, name string, ok bool) {
	in, found := Institutions().Lookup(code)
	if !found || !in.TED {
		return "", "", "", false
	}
	return in.ISPB, in.Code, in.LongName, true
}
