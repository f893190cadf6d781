package asbuilt

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Point is a surveyed point (管线点) after fill-down: its number, position
// as written (X northing, Y easting), attributes, and the rows that list it.
type Point struct {
	ID           string   `json:"id"`
	X            float64  `json:"x"` // northing as written
	Y            float64  `json:"y"` // easting as written
	HasXY        bool     `json:"-"`
	Feature      string   `json:"feature,omitempty"`
	Appurtenance string   `json:"appurtenance,omitempty"`
	Ground       *float64 `json:"ground,omitempty"`
	Remark       string   `json:"remark,omitempty"`
	Rows         []int    `json:"rows"`
}

// Line is a pipe of the table: the unordered pair of point numbers (A < B
// in byte order) with the attributes of its first listing.
type Line struct {
	A, B     string
	DN       int    // mm; for a box section the larger side
	Section  string // "800X600" for a box section
	DNText   string // as written
	Material string
	Burial   string
	TopA     *float64 // pipe-top elevation at A (from A's listing)
	TopB     *float64
	DepthA   *float64
	DepthB   *float64
	Rows     []int // every row that lists it
	Listings int   // 1 or 2 (or more when repeated)
}

// Survey is a point table as read: where the table is in the sheet, its
// points and its pipes.
type Survey struct {
	File     string            `json:"file"`
	Sheet    string            `json:"sheet"`
	Encoding string            `json:"encoding,omitempty"` // of a CSV
	Columns  map[string]string `json:"columns"`            // field → column letter
	// Layout, 1-based rows as the spreadsheet numbers them.
	TitleRows    []int `json:"title_rows"`
	HeaderRows   []int `json:"header_rows"`
	FirstDataRow int   `json:"first_data_row"`
	LastDataRow  int   `json:"last_data_row"`
	DataRows     int   `json:"data_rows"`

	Points             []Point `json:"-"` // in order of first appearance
	Lines              []Line  `json:"-"` // sorted by (A, B)
	RowsWithoutConnect int     `json:"rows_without_connecting_point"`

	byID map[string]int
}

// where renders a row reference.
func (s *Survey) where(rows ...int) string {
	w := s.File
	if s.Sheet != "" {
		w += "[" + s.Sheet + "]"
	}
	if len(rows) > 0 && rows[0] > 0 {
		w += ":" + strconv.Itoa(rows[0])
	}
	return w
}

// PointByID returns a point by its number.
func (s *Survey) PointByID(id string) (*Point, bool) {
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.Points[i], true
}

// cleanText trims a cell and folds full-width forms (NFKC).
func cleanText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.TrimSpace(norm.NFKC.String(s))
		}
	}
	return s
}

// cleanID trims a point number and drops every space inside it.
func cleanID(s string) string {
	s = cleanText(s)
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Join(strings.Fields(s), "")
	}
	return s
}

// parseNumber reads a numeric cell: text or number, full-width digits,
// thousands separators.
func parseNumber(s string) (float64, bool, bool) {
	s = cleanText(s)
	if s == "" {
		return 0, false, true
	}
	s = strings.ReplaceAll(s, ",", "")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, false
	}
	return f, true, true
}

// ParseDN reads a diameter: "300", "DN300", "Φ300", "de160", "300mm",
// "800X600" (a box: the larger side, with the section kept). ok is false
// when the text is not a diameter; empty text gives 0, "", true.
func ParseDN(s string) (dn int, section string, ok bool) {
	t := strings.ToUpper(cleanText(s))
	if t == "" {
		return 0, "", true
	}
	for _, p := range []string{"DN", "DE", "D", "Φ", "Ф", "∅", "ϕ"} {
		t = strings.TrimPrefix(t, p)
	}
	t = strings.TrimSuffix(strings.TrimSpace(t), "MM")
	t = strings.TrimSpace(t)
	for _, sep := range []string{"X", "×", "*"} {
		if i := strings.Index(t, sep); i > 0 {
			a, e1 := strconv.ParseFloat(strings.TrimSpace(t[:i]), 64)
			b, e2 := strconv.ParseFloat(strings.TrimSpace(t[i+len(sep):]), 64)
			if e1 != nil || e2 != nil || a <= 0 || b <= 0 || a > 1e5 || b > 1e5 {
				return 0, "", false
			}
			return int(math.Round(math.Max(a, b))), fmt.Sprintf("%gX%g", a, b), true
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f > 1e5 || math.IsNaN(f) {
		return 0, "", false
	}
	return int(math.Round(f)), "", true
}

// waterSheets are the sheet names of the water-supply class, in order of
// preference.
var waterSheets = []string{"J", "JS", "给水", "给水管线", "给水管", "供水", "供水管线", "上水", "GS"}

// selectSheet picks the sheet to read: the one the mapping names, else
// one named for water supply (J, JS, 给水…), else the first sheet whose
// header can be found.
func selectSheet(sheets []Sheet, name string, m *Mapping) (*Sheet, header, *Error) {
	want := ""
	if m != nil {
		want = m.Sheet
	}
	if want != "" {
		for i := range sheets {
			if sheets[i].Name == want || normHeader(sheets[i].Name) == normHeader(want) {
				hd, ok := findHeader(sheets[i].Rows, m)
				if !ok {
					return nil, hd, headerError(name, &sheets[i], hd)
				}
				return &sheets[i], hd, nil
			}
		}
		return nil, header{}, fileError(CodeSheetNotFound, name, fmt.Sprintf("no sheet named %q (sheets: %s)", want, sheetNames(sheets)), "name an existing sheet in the mapping")
	}
	for _, w := range waterSheets {
		for i := range sheets {
			if strings.EqualFold(strings.TrimSpace(sheets[i].Name), w) {
				hd, ok := findHeader(sheets[i].Rows, m)
				if !ok {
					return nil, hd, headerError(name, &sheets[i], hd)
				}
				return &sheets[i], hd, nil
			}
		}
	}
	var firstBad *Sheet
	var firstHd header
	for i := range sheets {
		hd, ok := findHeader(sheets[i].Rows, m)
		if ok {
			return &sheets[i], hd, nil
		}
		if firstBad == nil && len(hd.cols) > 0 {
			firstBad, firstHd = &sheets[i], hd
		}
	}
	if firstBad != nil {
		return nil, firstHd, headerError(name, firstBad, firstHd)
	}
	return nil, header{}, fileError(CodeSheetNotFound, name, fmt.Sprintf("no sheet holds a pipeline point table (sheets: %s)", sheetNames(sheets)),
		"the table needs columns for the point number, the connecting point, X and Y; name them in a mapping file if they are called otherwise")
}

func sheetNames(sheets []Sheet) string {
	var n []string
	for _, s := range sheets {
		n = append(n, fmt.Sprintf("%q", s.Name))
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

func headerError(name string, sh *Sheet, hd header) *Error {
	where := name
	if sh.Name != "" {
		where += "[" + sh.Name + "]"
	}
	var missing []string
	if len(hd.points) == 0 {
		missing = append(missing, "point number (物探点号/管线点预编号)")
	}
	if _, ok := hd.cols[FieldX]; !ok {
		missing = append(missing, "X (northing)")
	}
	if _, ok := hd.cols[FieldY]; !ok {
		missing = append(missing, "Y (easting)")
	}
	return fileError(CodeColumnMissing, where, "the table has no column for: "+strings.Join(missing, ", "),
		`name the columns in a mapping file, e.g. {"columns": {"point": "测点编号", "x": "北坐标"}}`)
}

// ParseSheet reads a point table from a sheet whose header has been found.
func parseSheet(sh *Sheet, hd header, file, enc string, m *Mapping, lim Limits) (*Survey, []Issue) {
	s := &Survey{File: file, Sheet: sh.Name, Encoding: enc, Columns: map[string]string{}, byID: map[string]int{}}
	is := &issues{cap: lim.MaxIssues}
	rows := sh.Rows
	lk := lookup(m)
	for r := 0; r < hd.first; r++ {
		if !emptyRow(rows[r]) {
			s.TitleRows = append(s.TitleRows, r+1)
		}
	}
	for r := hd.first; r < hd.first+hd.n; r++ {
		s.HeaderRows = append(s.HeaderRows, r+1)
	}
	// The point column: of the candidates (pre-number, final number), the
	// one that most connecting-point values refer to, then the fuller one.
	pcol := hd.points[0]
	ccol, hasConnect := hd.cols[FieldConnect]
	if len(hd.points) > 1 {
		best, bestKey := -1, [2]int{-1, -1}
		for _, c := range hd.points {
			vals := map[string]bool{}
			filled := 0
			for r := hd.first + hd.n; r < len(rows); r++ {
				if v := cleanID(cell(rows, r, c)); v != "" {
					vals[v] = true
					filled++
				}
			}
			refs := 0
			if hasConnect {
				for r := hd.first + hd.n; r < len(rows); r++ {
					if vals[cleanID(cell(rows, r, ccol))] {
						refs++
					}
				}
			}
			if key := [2]int{refs, filled}; key[0] > bestKey[0] || (key[0] == bestKey[0] && key[1] > bestKey[1]) {
				best, bestKey = c, key
			}
		}
		pcol = best
	}
	s.Columns[FieldPoint] = ColumnName(pcol)
	for f, c := range hd.cols {
		if f != FieldPoint && f != FieldFinalPoint {
			s.Columns[f] = ColumnName(c)
		}
	}
	if !hasConnect {
		is.add(Issue{Severity: SevError, Code: CodeColumnMissing, Where: s.where(s.HeaderRows...),
			Msg: "the table has no connecting point column (连接点号): no pipe can be built", Fix: `name it in a mapping file: {"columns": {"connect": "…"}}`})
	}
	col := func(f string) int {
		if c, ok := hd.cols[f]; ok {
			return c
		}
		return -1
	}
	xc, yc := col(FieldX), col(FieldY)
	get := func(row []string, f string) string {
		c := col(f)
		if c < 0 || c >= len(row) {
			return ""
		}
		return row[c]
	}
	num := func(row []string, r int, f string) *float64 {
		c := col(f)
		if c < 0 || c >= len(row) {
			return nil
		}
		v, ok, good := parseNumber(row[c])
		if !good {
			is.add(Issue{Severity: SevError, Code: CodeCellBadNumber, Where: s.where(r), Rows: []int{r},
				Msg: fmt.Sprintf("column %s (%s) holds %q, not a number", ColumnName(c), f, row[c]), Fix: "write a plain number"})
			return nil
		}
		if !ok {
			return nil
		}
		return &v
	}
	type listing struct {
		row          int
		from, to     string
		dn, mat, bur string
		top, depth   *float64
	}
	var listings []listing
	cur := -1 // index of the current point
	for r := hd.first + hd.n; r < len(rows); r++ {
		row := rows[r]
		rn := r + 1
		if emptyRow(row) {
			continue
		}
		if isHeaderRepeat(row, hd, lk) {
			continue
		}
		id := cleanID(cell(rows, r, pcol))
		conn := cleanID(get(row, FieldConnect))
		xs, ys := cleanText(cell(rows, r, xc)), cleanText(cell(rows, r, yc))
		if id == "" && conn == "" && xs == "" && ys == "" {
			continue // a row with only remarks or borders
		}
		if s.FirstDataRow == 0 {
			s.FirstDataRow = rn
		}
		s.LastDataRow = rn
		s.DataRows++
		if id == "" {
			if cur < 0 {
				is.add(Issue{Severity: SevError, Code: CodePointNoNumber, Where: s.where(rn), Rows: []int{rn},
					Msg: "a data row with no point number and none above it to fill down", Fix: "write the point number on the first row of each point"})
				continue
			}
			id = s.Points[cur].ID
		}
		x, hasX, goodX := parseNumber(xs)
		y, hasY, goodY := parseNumber(ys)
		if !goodX || !goodY {
			bad, c := xs, xc
			if goodX {
				bad, c = ys, yc
			}
			is.add(Issue{Severity: SevError, Code: CodeCellBadNumber, Where: s.where(rn), Rows: []int{rn}, Feature: "point:" + id,
				Msg: fmt.Sprintf("column %s holds %q, not a coordinate", ColumnName(c), bad), Fix: "write the coordinate as a plain number, e.g. 4059371.862"})
		}
		k, seen := s.byID[id]
		if !seen {
			k = len(s.Points)
			s.byID[id] = k
			s.Points = append(s.Points, Point{ID: id})
		}
		p := &s.Points[k]
		contiguous := k == cur
		cur = k
		p.Rows = append(p.Rows, rn)
		if hasX && hasY && goodX && goodY {
			if !p.HasXY {
				p.X, p.Y, p.HasXY = x, y, true
			} else if d := math.Hypot(p.X-x, p.Y-y); d > 0.01 {
				msg := fmt.Sprintf("point %s is listed at (X %.3f, Y %.3f) on row %d and at (X %.3f, Y %.3f) here, %.3f m apart", id, p.X, p.Y, p.Rows[0], x, y, d)
				if contiguous {
					msg = fmt.Sprintf("the rows of point %s disagree on its position: (X %.3f, Y %.3f) on row %d, (X %.3f, Y %.3f) here, %.3f m apart", id, p.X, p.Y, p.Rows[0], x, y, d)
				}
				is.add(Issue{Severity: SevError, Code: CodePointDuplicate, Where: s.where(rn), Rows: []int{p.Rows[0], rn}, Feature: "point:" + id,
					Msg: msg, Fix: "give the second point its own number, or correct the coordinates"})
			}
		}
		if v := cleanText(get(row, FieldFeature)); v != "" && p.Feature == "" {
			p.Feature = v
		}
		if v := cleanText(get(row, FieldAppurtenance)); v != "" && p.Appurtenance == "" {
			p.Appurtenance = v
		}
		if v := cleanText(get(row, FieldRemark)); v != "" && p.Remark == "" {
			p.Remark = v
		}
		if g := num(row, rn, FieldGround); g != nil && p.Ground == nil {
			p.Ground = g
		}
		top, depth := num(row, rn, FieldTop), num(row, rn, FieldDepth)
		if conn == "" {
			s.RowsWithoutConnect++
			continue
		}
		listings = append(listings, listing{row: rn, from: id, to: conn, dn: get(row, FieldDN), mat: cleanText(get(row, FieldMaterial)),
			bur: cleanText(get(row, FieldBurial)), top: top, depth: depth})
	}
	// Points without coordinates.
	for i := range s.Points {
		if p := &s.Points[i]; !p.HasXY {
			is.add(Issue{Severity: SevError, Code: CodePointNoCoordinates, Where: s.where(p.Rows[0]), Rows: p.Rows, Feature: "point:" + p.ID,
				Msg: fmt.Sprintf("point %s has no X/Y on any of its rows", p.ID), Fix: "fill in its coordinates"})
		}
	}
	// Pipes: the unordered pairs, first listing's attributes.
	type key [2]string
	byPair := map[key]int{}
	for _, l := range listings {
		if _, ok := s.byID[l.to]; !ok {
			is.add(Issue{Severity: SevError, Code: CodePointUnknownConnect, Where: s.where(l.row), Rows: []int{l.row}, Feature: "point:" + l.from,
				Msg: fmt.Sprintf("point %s connects to %s, which is not in the table", l.from, l.to), Fix: "correct the connecting point number or add the point"})
			continue
		}
		if l.from == l.to {
			is.add(Issue{Severity: SevError, Code: CodePipeZeroLength, Where: s.where(l.row), Rows: []int{l.row}, Feature: "point:" + l.from,
				Msg: fmt.Sprintf("point %s connects to itself", l.from), Fix: "correct the connecting point number"})
			continue
		}
		a, b := l.from, l.to
		if b < a {
			a, b = b, a
		}
		k := key{a, b}
		dn, section, okDN := ParseDN(l.dn)
		i, seen := byPair[k]
		if !seen {
			i = len(s.Lines)
			byPair[k] = i
			ln := Line{A: a, B: b, DNText: cleanText(l.dn), Material: l.mat, Burial: l.bur}
			if okDN {
				ln.DN, ln.Section = dn, section
			} else {
				ln.DN = -1 // unreadable: reported by validation
			}
			s.Lines = append(s.Lines, ln)
		} else {
			ln := &s.Lines[i]
			if (okDN && ln.DN >= 0 && dn != ln.DN && dn != 0 && ln.DN != 0) || (l.mat != "" && ln.Material != "" && l.mat != ln.Material) {
				is.add(Issue{Severity: SevWarning, Code: CodePipeListingConflict, Where: s.where(l.row), Rows: []int{ln.Rows[0], l.row}, Feature: "pipe:" + a + "-" + b,
					Msg: fmt.Sprintf("pipe %s–%s is listed as %s %s on row %d and as %s %s here; the first is kept", a, b, ln.DNText, ln.Material, ln.Rows[0], cleanText(l.dn), l.mat),
					Fix: "make both listings agree"})
			}
			if ln.DN == 0 && okDN && dn > 0 {
				ln.DN, ln.Section, ln.DNText = dn, section, cleanText(l.dn)
			}
			if ln.Material == "" {
				ln.Material = l.mat
			}
		}
		ln := &s.Lines[i]
		ln.Rows = append(ln.Rows, l.row)
		ln.Listings++
		if l.from == ln.A {
			ln.TopA, ln.DepthA = l.top, l.depth
		} else {
			ln.TopB, ln.DepthB = l.top, l.depth
		}
	}
	sort.Slice(s.Lines, func(i, j int) bool {
		if s.Lines[i].A != s.Lines[j].A {
			return s.Lines[i].A < s.Lines[j].A
		}
		return s.Lines[i].B < s.Lines[j].B
	})
	if s.DataRows == 0 {
		is.add(Issue{Severity: SevError, Code: CodeFileEmpty, Where: s.where(), Msg: "the table has a header but no data rows", Fix: "upload the filled-in table"})
	}
	return s, is.done(s.where())
}

func emptyRow(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
