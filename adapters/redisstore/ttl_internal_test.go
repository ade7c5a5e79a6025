package redisstore

import (
	"testing"
	"time"
)

func TestPXTTLRoundsUpToMilliseconds(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]time.Duration{
		-time.Hour:              time.Millisecond,
		0:                       time.Millisecond,
		time.Nanosecond:         time.Millisecond,
		time.Millisecond:        time.Millisecond,
		2500 * time.Microsecond: 3 * time.Millisecond,
		time.Second:             time.Second,
		time.Second + 1:         time.Second + time.Millisecond,
	} {
		if got := pxTTL(in); got != want {
			t.Errorf("pxTTL(%s) = %s, want %s", in, got, want)
		}
	}
}
