package argon2id_test

import (
	"testing"

	"github.com/gellhub/gellhub/adapters/argon2id"
)

// BenchmarkVerifyDefault is the cost of one login's password check.
func BenchmarkVerifyDefault(b *testing.B) {
	h := argon2id.New(argon2id.DefaultParams)
	enc, err := h.Hash("a long password")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, err := h.Verify(enc, "a long password"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
