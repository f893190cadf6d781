package repair

import (
	"strings"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis/store"
)

func TestNoticeLeadTimes(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	custs := []store.CustomerInfo{
		{ID: "h", Name: "市立医院", Category: "hospital", Address: "经十路 100号"},
		{ID: "r", Name: "张三", Category: "residential", Address: "经十路 102号"},
		{ID: "p", Name: "热电厂", Category: "thermal_power", Address: "历山路 1号"},
	}
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, loc)
	rules := DefaultNoticeRules()
	cases := []struct {
		issued time.Time
		late   []string
	}{
		{start.Add(-72 * time.Hour), nil},                               // exactly 3 days: everyone in time
		{start.Add(-71*time.Hour - 59*time.Minute), []string{"h", "p"}}, // a minute short for the critical ones
		{start.Add(-24 * time.Hour), []string{"h", "p"}},
		{start.Add(-23 * time.Hour), []string{"h", "p", "r"}},
	}
	for _, c := range cases {
		n := MakeNotice(rules, NoticeRequest{Planned: true, Start: start, Restore: start.Add(6 * time.Hour), IssuedAt: c.issued}, custs, loc)
		var got []string
		for _, l := range n.Late {
			got = append(got, l.CustomerID)
		}
		if strings.Join(sortStrings(got), ",") != strings.Join(c.late, ",") {
			t.Errorf("issued %v before: late %v, want %v", start.Sub(c.issued), got, c.late)
		}
	}
	n := MakeNotice(rules, NoticeRequest{Start: start, Restore: start.Add(6 * time.Hour)}, custs, loc)
	if !strings.Contains(n.ZH, "2026-12-03 09:00") || !strings.Contains(n.ZH, "经十路") || !strings.Contains(n.ZH, "共影响3户") {
		t.Errorf("zh notice: %s", n.ZH)
	}
	if n.Area[0] != "经十路" || !strings.Contains(n.EN, "emergency repair") || n.Late != nil {
		t.Errorf("notice: %+v", n)
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}
