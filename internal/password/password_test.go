package password

import (
	"errors"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		pw   string
		ok   bool
		note string
	}{
		{"aaaaaaaaaa", false, "issue 13: accepted before; too short and one character"},
		{"aaaaaaaaaaaa", false, "one character"},
		{"abcabcabcabc", false, "a short run repeated"},
		{"123456789012", false, "counting up"},
		{"987654321098", false, "counting down"},
		{"1q2w3e4r5t6y", false, "keyboard walk"},
		{"qwertyuiopas", false, "keyboard walk"},
		{"Password1234", false, "common word and digits"},
		{"P@ssw0rd2024!", false, "common word in look-alike digits"},
		{"Senha@2024!!", false, "Portuguese"},
		{"flamengo1981", false, "a club"},
		{"corinthians10", false, "a club"},
		{"amoramoramor", false, "a word repeated"},
		{"deusefiel123", false, "a phrase in the list"},
		{"bia.bia.bia.", false, "the user's name"},
		{"202412312359", false, "mostly digits"},
		{"correct horse battery", true, "four words"},
		{"Tapioca-na-chapa-77", true, "a phrase"},
		{"vento frio de agosto", true, "a phrase with a month inside"},
		{"çãoçãoçãoção", false, "a short run repeated, accented"},
	}
	for _, tt := range tests {
		err := Check(tt.pw, "bia")
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v (%s)", tt.pw, err, tt.ok, tt.note)
		}
		if err != nil && !errors.Is(err, ErrWeak) {
			t.Errorf("Check(%q) = %v, not ErrWeak", tt.pw, err)
		}
	}
	long := "tapioca de queijo com coco e leite condensado, por favor, com cafe!!"
	if err := Check(long+"xyz12", "bia"); err == nil {
		t.Errorf("a password of %d bytes was accepted; bcrypt reads only %d", len(long)+5, MaxBytes)
	}
}

// FuzzCheck: Check never panics, refuses anything short, and decides the
// same twice.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"correct horse battery", "Password1234", "aaaaaaaaaaaa", "1q2w3e4r5t6y", "\xff\xfe", "ｐａｓｓｗｏｒｄ１２３４"} {
		f.Add(s, "bia")
	}
	f.Fuzz(func(t *testing.T, pw, user string) {
		err := Check(pw, user)
		if utf8.RuneCountInString(pw) < MinLength && err == nil {
			t.Errorf("Check(%q) accepted %d characters", pw, utf8.RuneCountInString(pw))
		}
		if (Check(pw, user) == nil) != (err == nil) {
			t.Errorf("Check(%q) decided twice differently", pw)
		}
	})
}
