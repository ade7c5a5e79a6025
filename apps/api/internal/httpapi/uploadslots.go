package httpapi

import (
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
)

// uploadSlots bounds proxy uploads in flight, on this instance and per
// account: each may hold the object store's part buffers (about 48 MiB on
// S3) for as long as its client keeps sending, so without a bound a few
// slow clients could exhaust the server's memory.
type uploadSlots struct {
	mu         sync.Mutex
	total      int
	perAccount map[string]int
	max, each  int
}

func newUploadSlots(max, each int) *uploadSlots {
	return &uploadSlots{max: max, each: each, perAccount: map[string]int{}}
}

// errBusyUploads answers an upload over either bound: retry shortly.
func errBusyUploads(scope string) error {
	e := core.RateLimited(5 * time.Second)
	e.Message = "too many uploads in flight " + scope + "; retry shortly, or use a presigned upload"
	return e
}

// acquire takes a slot for account or fails at once; release gives it back.
func (u *uploadSlots) acquire(account string) (release func(), err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.total >= u.max {
		return nil, errBusyUploads("on this server")
	}
	if u.perAccount[account] >= u.each {
		return nil, errBusyUploads("for this account")
	}
	u.total++
	u.perAccount[account]++
	return func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.total--
		if u.perAccount[account]--; u.perAccount[account] <= 0 {
			delete(u.perAccount, account)
		}
	}, nil
}
