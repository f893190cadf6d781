package repair

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
)

// NoticeRules are the notice lead times of the service standard (§2, §5).
type NoticeRules struct {
	// LeadHours is the notice every affected customer gets before a
	// planned shutoff (24 h: communities, property managers, VIPs).
	LeadHours int `toml:"lead_hours" json:"lead_hours"`
	// CriticalLeadHours is the notice for the categories in
	// CriticalCategories (3 days for hospitals and thermal power).
	CriticalLeadHours  int      `toml:"critical_lead_hours" json:"critical_lead_hours"`
	CriticalCategories []string `toml:"critical_categories" json:"critical_categories"`
}

// DefaultNoticeRules are the standard's.
func DefaultNoticeRules() NoticeRules {
	return NoticeRules{LeadHours: 24, CriticalLeadHours: 72, CriticalCategories: []string{"hospital", "thermal_power"}}
}

// Validate checks the rules.
func (r NoticeRules) Validate() error {
	if r.LeadHours < 0 || r.CriticalLeadHours < 0 {
		return fmt.Errorf("notice: lead hours must not be negative")
	}
	return nil
}

// NoticeRequest describes the shutoff to announce.
type NoticeRequest struct {
	Reason  string    `json:"reason"`
	Start   time.Time `json:"start"`
	Restore time.Time `json:"restore"`
	Planned bool      `json:"planned"`
	// IssuedAt is when the notice goes out (to check lead times).
	IssuedAt time.Time `json:"issued_at"`
}

// LateNotice flags customers who get less notice than the rules require.
type LateNotice struct {
	CustomerID string  `json:"customer_id"`
	Name       string  `json:"name"`
	Category   string  `json:"category"`
	NeedHours  int     `json:"need_hours"`
	GivenHours float64 `json:"given_hours"`
}

// Notice is a shutoff notice in Chinese and English, with its checks.
type Notice struct {
	ZH    string       `json:"zh"`
	EN    string       `json:"en"`
	Area  []string     `json:"area"`
	Late  []LateNotice `json:"late,omitempty"`
	Count int          `json:"customers"`
}

// street reduces an address to its street: the text before the first digit
// ("经十路 123号" → "经十路", "Sant Ramon, 176" → "Sant Ramon").
func street(addr string) string {
	i := strings.IndexFunc(addr, unicode.IsDigit)
	if i >= 0 {
		addr = addr[:i]
	}
	return strings.TrimRight(strings.TrimSpace(addr), ", ")
}

// MakeNotice writes the notice for the affected customers of a plan and,
// for a planned shutoff, flags the customers it reaches too late. Times are
// shown in loc.
func MakeNotice(rules NoticeRules, req NoticeRequest, customers []store.CustomerInfo, loc *time.Location) Notice {
	counts := map[string]int{}
	for _, c := range customers {
		if s := street(c.Address); s != "" {
			counts[s]++
		}
	}
	area := make([]string, 0, len(counts))
	for s := range counts {
		area = append(area, s)
	}
	sort.Slice(area, func(a, b int) bool {
		if counts[area[a]] != counts[area[b]] {
			return counts[area[a]] > counts[area[b]]
		}
		return area[a] < area[b]
	})
	if len(area) > 8 {
		area = area[:8]
	}
	const layout = "2006-01-02 15:04"
	start, restore := req.Start.In(loc).Format(layout), req.Restore.In(loc).Format(layout)
	reason := req.Reason
	if reason == "" {
		reason = "供水管道抢修"
		if req.Planned {
			reason = "供水管网计划施工"
		}
	}
	zhArea, enArea := strings.Join(area, "、"), strings.Join(area, ", ")
	if zhArea == "" {
		zhArea, enArea = "相关区域", "the affected area"
	}
	n := Notice{Area: area, Count: len(customers)}
	n.ZH = fmt.Sprintf("停水通知\n因%s，定于%s至%s对%s停止供水，共影响%d户用户。请提前做好储水准备，给您带来不便，敬请谅解。恢复供水时间如有变化，将另行通知。",
		reason, start, restore, zhArea, len(customers))
	enReason := req.Reason
	if enReason == "" {
		enReason = "emergency repair of a water main"
		if req.Planned {
			enReason = "planned work on the water network"
		}
	}
	n.EN = fmt.Sprintf("Water supply interruption\nDue to %s, the water supply to %s will be interrupted from %s to %s, affecting %d customers. Please store water in advance. We apologise for the inconvenience; if the restore time changes, we will let you know.",
		enReason, enArea, start, restore, len(customers))
	if req.Planned && !req.IssuedAt.IsZero() {
		given := req.Start.Sub(req.IssuedAt).Hours()
		crit := map[string]bool{}
		for _, c := range rules.CriticalCategories {
			crit[c] = true
		}
		for _, c := range customers {
			need := rules.LeadHours
			if crit[c.Category] {
				need = rules.CriticalLeadHours
			}
			if given < float64(need) {
				n.Late = append(n.Late, LateNotice{CustomerID: c.ID, Name: c.Name, Category: c.Category, NeedHours: need, GivenHours: given})
			}
		}
		sort.SliceStable(n.Late, func(a, b int) bool { return n.Late[a].NeedHours > n.Late[b].NeedHours })
	}
	return n
}

// NoticeFor plans the shutoff and writes its notice. A zero IssuedAt means
// now.
func (p *Planner) NoticeFor(ctx context.Context, plan PlanRequest, req NoticeRequest, now time.Time) (*Notice, error) {
	if req.Start.IsZero() || req.Restore.IsZero() {
		return nil, gis.Errorf(gis.Invalid, "notice.times", "give the start and the expected restore time (RFC 3339)")
	}
	if !req.Restore.After(req.Start) {
		return nil, gis.Errorf(gis.Invalid, "notice.times", "the restore time must be after the start")
	}
	if req.IssuedAt.IsZero() {
		req.IssuedAt = now
	}
	no := false
	plan.Contingency = &no
	resp, err := p.Plan(ctx, plan)
	if err != nil {
		return nil, err
	}
	custs, err := p.Store.Customers(ctx, resp.Customers)
	if err != nil {
		return nil, err
	}
	loc := p.TZ
	if loc == nil {
		loc = time.UTC
	}
	n := MakeNotice(p.NoticeRules, req, custs, loc)
	return &n, nil
}
