package main

// plural picks the message for a count: one when n is 1, else other. Each
// is a whole format, never a noun pasted into a sentence, so that a
// message catalogue can give each language its own forms later.
func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
