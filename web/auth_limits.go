package web

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ClassLimits bound the requests of one class of routes.
type ClassLimits struct {
	// Timeout is the handler's deadline (its context ends; database calls
	// stop) and, plus a margin, the deadline for writing the response.
	Timeout time.Duration
	// ReadTimeout is the time a client has to send the request body.
	ReadTimeout time.Duration
	// Rate and Burst limit each client (a signed-in user, else an IP
	// address): Rate requests a second on average, Burst at once. Rate 0:
	// no limit.
	Rate  rate.Limit
	Burst int
	// Concurrent bounds the requests of the class served at once, across
	// clients (0: no bound); a request waits up to QueueWait for a turn.
	Concurrent int
}

// Limits bound what one request, and one client, can take. The zero
// value of a class takes the default.
type Limits struct {
	Light, Heavy, Export, Upload, Login ClassLimits
	// QueueWait is how long a request waits for a turn in its class
	// (default 10 s); then it is answered 503 with Retry-After.
	QueueWait time.Duration
	// MaxClients bounds the clients whose rates are tracked (default
	// 10000); the least recently seen are forgotten first.
	MaxClients int
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry (set it behind a reverse proxy that appends it).
	TrustProxy bool
	// BodyBudget bounds the request bodies held in memory at once, in
	// bytes (default 512 MiB); a request waits QueueWait for room.
	BodyBudget int64
}

// DefaultLimits are the limits of a production server; heavy classes may
// take at most half the database pool of poolSize connections.
func DefaultLimits(poolSize int) Limits {
	half := max(2, poolSize/2)
	return Limits{
		Light:      ClassLimits{Timeout: 30 * time.Second, ReadTimeout: 30 * time.Second},
		Heavy:      ClassLimits{Timeout: 60 * time.Second, ReadTimeout: 30 * time.Second, Rate: 10, Burst: 30, Concurrent: half},
		Export:     ClassLimits{Timeout: 120 * time.Second, ReadTimeout: 30 * time.Second, Rate: 1, Burst: 10, Concurrent: max(2, half/2)},
		Upload:     ClassLimits{Timeout: 300 * time.Second, ReadTimeout: 300 * time.Second, Rate: 1, Burst: 10, Concurrent: 4},
		Login:      ClassLimits{Timeout: 15 * time.Second, ReadTimeout: 15 * time.Second, Rate: 0.2, Burst: 10},
		QueueWait:  10 * time.Second,
		MaxClients: 10000,
		BodyBudget: 512 << 20,
	}
}

func (l *Limits) fill(def Limits) {
	for _, p := range []struct{ dst, d *ClassLimits }{{&l.Light, &def.Light}, {&l.Heavy, &def.Heavy}, {&l.Export, &def.Export}, {&l.Upload, &def.Upload}, {&l.Login, &def.Login}} {
		if *p.dst == (ClassLimits{}) {
			*p.dst = *p.d
		}
		if p.dst.Timeout == 0 {
			p.dst.Timeout = p.d.Timeout
		}
		if p.dst.ReadTimeout == 0 {
			p.dst.ReadTimeout = p.d.ReadTimeout
		}
	}
	if l.QueueWait == 0 {
		l.QueueWait = def.QueueWait
	}
	if l.MaxClients == 0 {
		l.MaxClients = def.MaxClients
	}
	if l.BodyBudget == 0 {
		l.BodyBudget = def.BodyBudget
	}
}

func (l *Limits) of(c class) *ClassLimits {
	switch c {
	case classHeavy:
		return &l.Heavy
	case classExport:
		return &l.Export
	case classUpload:
		return &l.Upload
	case classLogin:
		return &l.Login
	}
	return &l.Light
}

// limiter keeps a token bucket per client and class, in a bounded map.
type limiter struct {
	mu      sync.Mutex
	max     int
	clients map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(max int, now func() time.Time) *limiter {
	return &limiter{max: max, clients: map[string]*bucket{}, now: now}
}

// allow takes a token of key's bucket (created with r and burst); when
// none is left it returns how long until one is.
func (l *limiter) allow(key string, r rate.Limit, burst int) (bool, time.Duration) {
	if r == 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= l.max {
			l.evict(now)
		}
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		l.clients[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	l.mu.Unlock()
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evict forgets the clients idle longest: those idle over ten minutes,
// and at least a tenth of the map. Called with mu held.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.clients {
		if now.Sub(b.seen) > 10*time.Minute {
			delete(l.clients, k)
		}
	}
	if len(l.clients) < l.max {
		return
	}
	// Still full: drop the oldest tenth (a partial selection by age).
	n := max(1, l.max/10)
	var cut time.Time
	ages := make([]time.Time, 0, len(l.clients))
	for _, b := range l.clients {
		ages = append(ages, b.seen)
	}
	cut = nthOldest(ages, n)
	for k, b := range l.clients {
		if !b.seen.After(cut) {
			delete(l.clients, k)
		}
	}
}

// nthOldest returns the n-th smallest time (1-based) by quickselect.
func nthOldest(ts []time.Time, n int) time.Time {
	lo, hi, k := 0, len(ts)-1, n-1
	for lo < hi {
		p := ts[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for ts[i].Before(p) {
				i++
			}
			for p.Before(ts[j]) {
				j--
			}
			if i <= j {
				ts[i], ts[j] = ts[j], ts[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return ts[k]
		}
	}
	return ts[k]
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// slots bounds the requests of a class served at once.
type slots chan struct{}

// take waits for a slot until ctx ends or wait passes.
func (s slots) take(ctx context.Context, wait time.Duration) bool {
	if s == nil {
		return true
	}
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s slots) give() {
	if s != nil {
		<-s
	}
}

// clientIP is the request's client address: the connection's peer, or
// with trustProxy the last X-Forwarded-For entry.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
