package asbuilt

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
)

// Issue is one finding about a delivery, located where it can be: the
// source rows (1-based, as a spreadsheet numbers them) and a point in the
// dataset's coordinates (after the store's transform: the storage CRS).
type Issue struct {
	Severity string     `json:"severity"`
	Code     string     `json:"code"`
	Where    string     `json:"where"` // "file[sheet]:row", "file: feature N" or "file"
	Rows     []int      `json:"rows,omitempty"`
	Feature  string     `json:"feature,omitempty"` // kind:id when known
	Msg      string     `json:"message"`
	Fix      string     `json:"fix,omitempty"`
	At       *orb.Point `json:"at,omitempty"`     // in the dataset's CRS
	LonLat   *orb.Point `json:"lonlat,omitempty"` // filled by the store for the map
}

func (i Issue) String() string {
	s := i.Severity + " " + i.Where + ": " + i.Code + ": " + i.Msg
	if i.Feature != "" {
		s = i.Severity + " " + i.Where + " (" + i.Feature + "): " + i.Code + ": " + i.Msg
	}
	if i.Fix != "" {
		s += " (fix: " + i.Fix + ")"
	}
	return s
}

// Error is returned when a delivery cannot be read at all (wrong type,
// corrupt, too large, no table): Issues says why.
type Error struct{ Issues []Issue }

func (e *Error) Error() string {
	if len(e.Issues) == 0 {
		return "asbuilt: unreadable input"
	}
	if len(e.Issues) == 1 {
		return "asbuilt: " + e.Issues[0].String()
	}
	return fmt.Sprintf("asbuilt: %s (and %d more)", e.Issues[0].String(), len(e.Issues)-1)
}

func fileError(code, where, msg, fix string) *Error {
	return &Error{Issues: []Issue{{Severity: SevError, Code: code, Where: where, Msg: msg, Fix: fix}}}
}

// Count returns the numbers of errors and warnings.
func Count(issues []Issue) (errs, warns int) {
	for _, i := range issues {
		if i.Severity == SevError {
			errs++
		} else {
			warns++
		}
	}
	return
}

// SortIssues orders issues errors first, then by first row, code and where.
func SortIssues(issues []Issue) {
	sort.SliceStable(issues, func(a, b int) bool {
		x, y := issues[a], issues[b]
		if x.Severity != y.Severity {
			return x.Severity == SevError
		}
		rx, ry := firstRow(x), firstRow(y)
		if rx != ry {
			return rx < ry
		}
		if x.Code != y.Code {
			return x.Code < y.Code
		}
		return x.Where < y.Where
	})
}

func firstRow(i Issue) int {
	if len(i.Rows) == 0 {
		return 1 << 30
	}
	return i.Rows[0]
}

// issues collects issues up to a cap.
type issues struct {
	list []Issue
	cap  int
	over int
}

func (is *issues) add(i Issue) {
	if is.cap > 0 && len(is.list) >= is.cap {
		is.over++
		return
	}
	is.list = append(is.list, i)
}

func (is *issues) done(where string) []Issue {
	if is.over > 0 {
		is.list = append(is.list, Issue{Severity: SevError, Code: CodeTooManyIssues, Where: where,
			Msg: fmt.Sprintf("%d more issues were not listed", is.over), Fix: "fix the ones listed (often one cause) and upload again"})
	}
	return is.list
}
