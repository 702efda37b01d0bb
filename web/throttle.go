package web

import (
	"strings"
	"sync"
	"time"
)

// throttle slows password guessing: after freeFailures wrong passwords for
// an account (freeFailuresAddr from one client address: a township office
// shares one), each further try must wait
// twice as long as the last (lockBase, 2×, 4× … up to lockMax). A right
// password does not get through while locked; it clears the record once
// it does.
type throttle struct {
	mu   sync.Mutex
	byID map[string]*failures
}

type failures struct {
	n     int
	until time.Time
}

const (
	freeFailures     = 5
	freeFailuresAddr = 20
	lockBase         = time.Second
	lockMax          = 15 * time.Minute
	maxTracked       = 10000 // keys remembered; beyond it the oldest locks are forgotten
)

// wait is how long key must still wait, 0 if not locked.
func (t *throttle) wait(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		if f := t.byID[k]; f != nil && now.Before(f.until) {
			d = max(d, f.until.Sub(now))
		}
	}
	return d
}

// fail records a wrong password for keys and reports the longest lock it
// set (0 while within freeFailures).
func (t *throttle) fail(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil || len(t.byID) > maxTracked {
		t.byID = map[string]*failures{}
	}
	var longest time.Duration
	for _, k := range keys {
		f := t.byID[k]
		if f == nil {
			f = &failures{}
			t.byID[k] = f
		}
		f.n++
		free := freeFailures
		if strings.HasPrefix(k, "addr:") {
			free = freeFailuresAddr
		}
		if f.n > free {
			d := min(lockBase<<min(f.n-free-1, 20), lockMax)
			f.until = now.Add(d)
			longest = max(longest, d)
		}
	}
	return longest
}

// ok forgets the failures of keys after a right password.
func (t *throttle) ok(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		delete(t.byID, k)
	}
}

// locked lists the accounts locked at now, for the admin overview.
func (t *throttle) locked(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k, f := range t.byID {
		if name, ok := strings.CutPrefix(k, "user:"); ok && now.Before(f.until) {
			out = append(out, name)
		}
	}
	return out
}
