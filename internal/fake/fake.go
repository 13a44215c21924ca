// Package fake makes what tests and benchmarks share: data that passes
// lote's checks (CPFs with their check digits), a clock that moves only
// when told to, and one RSA key per test binary.
package fake

// CPF returns body modulo 10⁹ as a zero-padded 9-digit CPF base followed
// by its two mod-11 check digits: CPF(52998224) is "05299822406". body
// must not be negative.
func CPF(body int) string {
	var d [11]byte
	b := body % 1_000_000_000
	for i := 8; i >= 0; i-- {
		d[i] = byte('0' + b%10)
		b /= 10
	}
	// The first check digit weighs the 9 body digits 10 down to 2, the
	// second the 10 digits before it 11 down to 2.
	for n := 9; n <= 10; n++ {
		sum := 0
		for i := 0; i < n; i++ {
			sum += int(d[i]-'0') * (n + 1 - i)
		}
		if r := sum % 11; r < 2 {
			d[n] = '0'
		} else {
			d[n] = byte('0' + 11 - r)
		}
	}
	return string(d[:])
}
