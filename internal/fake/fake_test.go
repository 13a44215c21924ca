package fake

import (
	"fmt"
	"testing"

	"lote/validate"
)

func TestCPF(t *testing.T) {
	for body, want := range map[int]string{
		529982247:  "52998224725", // examples known to be valid
		123456789:  "12345678909",
		1529982247: "52998224725", // modulo 10⁹
	} {
		if got := CPF(body); got != want {
			t.Errorf("CPF(%d) = %s; want %s", body, got, want)
		}
	}
	// lote's own check accepts them all, and the body is kept, padded.
	for body := 0; body < 1_000_000_000; body += 999_983 {
		got := CPF(body)
		if got[:9] != fmt.Sprintf("%09d", body) {
			t.Fatalf("CPF(%d) = %s: body changed", body, got)
		}
		if _, err := validate.CPF(got); err != nil && body%111_111_111 != 0 {
			t.Fatalf("CPF(%d) = %s: %v", body, got, err)
		}
	}
}
