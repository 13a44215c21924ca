package sheet

import "testing"

// Reais is exact at the edges of int64, where a float would round.
func TestReais(t *testing.T) {
	for _, tt := range []struct {
		cents int64
		mark  byte
		want  string
	}{
		{0, ',', "0,00"}, {5, '.', "0.05"}, {-5, ',', "-0,05"}, {123456, ',', "1234,56"},
		{9007199254740993, '.', "90071992547409.93"},
		{-9223372036854775808, ',', "-92233720368547758,08"},
	} {
		if got := Reais(tt.cents, tt.mark); got != tt.want {
			t.Errorf("Reais(%d, %q) = %q, want %q", tt.cents, tt.mark, got, tt.want)
		}
	}
}
