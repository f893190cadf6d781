package asbuilt

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fields of a point table a column can map to.
const (
	FieldPoint        = "point"        // 物探点号 / 管线点预编号: the point this row describes
	FieldFinalPoint   = "final_point"  // 管线点号: the final number, often blank
	FieldConnect      = "connect"      // 连接点号: the other end of the pipe this row describes
	FieldBurial       = "burial"       // 埋设方式
	FieldMaterial     = "material"     // 管线材料
	FieldDN           = "dn"           // 管径或断面尺寸
	FieldFeature      = "feature"      // 特征
	FieldAppurtenance = "appurtenance" // 附属物
	FieldX            = "x"            // X: northing
	FieldY            = "y"            // Y: easting
	FieldGround       = "ground"       // 地面高程
	FieldTop          = "top"          // 管顶高程
	FieldBottom       = "bottom"       // 管内底高程
	FieldDepth        = "depth"        // 埋深
	FieldRemark       = "remark"       // 备注
)

// aliases are the column names (normalized by normHeader) each field is
// known by in delivered tables. A mapping file adds to them.
var aliases = map[string][]string{
	FieldPoint: {"管线点预编号", "预编号", "物探点号", "外业点号", "测点号", "点号", "管点号", "管线点编号", "管点编号", "点编号",
		"图上点号", "编号", "pointno", "pointid", "point", "点名"},
	FieldFinalPoint: {"管线点号", "成果点号", "图上管线点号", "最终点号"},
	FieldConnect: {"连接点号", "连接点", "连接方向", "连接点号方向", "连接管线点号", "连接点编号", "相连点号", "连向点号", "下一点号",
		"去向点号", "下游点号", "终点点号", "connectto", "connect", "topoint", "nextpoint"},
	FieldBurial:       {"埋设方式", "埋设", "敷设方式", "埋设类型"},
	FieldMaterial:     {"管线材料", "材料", "材质", "管材", "管线材质", "管道材质", "管道材料", "material"},
	FieldDN:           {"管径或断面尺寸", "管径或断面尺寸mm", "管径断面尺寸", "管径", "断面尺寸", "规格", "管径规格", "口径", "公称直径", "dn", "diameter", "size"},
	FieldFeature:      {"特征", "特征点", "点特征", "管线点类别特征", "特征点类别", "管点特征", "feature"},
	FieldAppurtenance: {"附属物", "附属设施", "附属物名称", "管线点类别附属物", "附属物类别", "appurtenance"},
	FieldX:            {"x", "x坐标", "平面坐标x", "坐标x", "纵坐标x", "纵坐标", "北坐标", "北坐标x", "northing", "n"},
	FieldY:            {"y", "y坐标", "平面坐标y", "坐标y", "横坐标y", "横坐标", "东坐标", "东坐标y", "easting", "e"},
	FieldGround:       {"地面", "地面高程", "高程地面", "地面标高", "地面高", "groundelevation", "ground"},
	FieldTop:          {"管顶", "管顶高程", "高程管顶", "管外顶", "管顶标高", "高程管外顶"},
	FieldBottom:       {"管内底", "管底", "管底高程", "高程管内底", "高程管底", "内底", "管内底高程", "管底标高"},
	FieldDepth:        {"埋深", "管顶埋深", "埋深管顶", "埋深m", "depth"},
	FieldRemark:       {"备注", "说明", "remark", "remarks", "note"},
}

// normHeader reduces a header cell to what matters for matching: NFKC
// (full-width letters and brackets become ASCII), no whitespace at all
// (cells hold line breaks), no bracketed parts ("(m)", "(沟块)"), no
// diameter signs, lower case.
func normHeader(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '[' || r == '【' || r == '〔':
			depth++
		case r == ')' || r == ']' || r == '】' || r == '〕':
			if depth > 0 {
				depth--
			}
		case depth > 0, unicode.IsSpace(r), r == 'φ', r == 'Φ', r == 'ф', r == '∅', r == 'ϕ', r == ':', r == '_', r == '-', r == '.':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Mapping overrides how a table is read: which sheet, which columns hold
// which field (by header text or by column letter), the header rows, and
// extra appurtenance words. Fields not named keep automatic detection.
//
//	{"sheet": "给水", "columns": {"point": "物探点号", "x": "I", "y": "J"},
//	 "header_rows": [3, 4], "appurtenances": {"闸阀": "valve"}, "terminal_features": ["堵头"]}
type Mapping struct {
	Sheet      string            `json:"sheet,omitempty"`
	Columns    map[string]string `json:"columns,omitempty"`
	HeaderRows []int             `json:"header_rows,omitempty"` // 1-based; one or two rows
	// Appurtenances maps a word of the 附属物 (or 特征) column to valve,
	// hydrant, air_valve, drain_valve or other.
	Appurtenances    map[string]string `json:"appurtenances,omitempty"`
	TerminalFeatures []string          `json:"terminal_features,omitempty"`
	// Attributes maps Network GeoJSON properties (id, dn, material,
	// kind…) to attribute names of a Shapefile/GeoPackage/DXF layer.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Layers maps a GIS layer (or a DXF layer name) to a kind: pipe, valve,
	// hydrant, or ignore.
	Layers map[string]string `json:"layers,omitempty"`
}

// ParseMapping reads a mapping file (JSON).
func ParseMapping(b []byte) (*Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fileError(CodeMappingBad, "mapping", "the mapping file is not valid: "+err.Error(),
			`write it as {"sheet": "J", "columns": {"point": "物探点号", "x": "I"}}`)
	}
	for f := range m.Columns {
		if _, ok := aliases[f]; !ok {
			return nil, fileError(CodeMappingBad, "mapping", fmt.Sprintf("unknown field %q in columns", f), "use one of: "+strings.Join(fieldNames(), ", "))
		}
	}
	if len(m.HeaderRows) > 2 {
		return nil, fileError(CodeMappingBad, "mapping", "header_rows holds one or two row numbers", "")
	}
	for _, v := range m.Appurtenances {
		switch v {
		case "valve", "hydrant", "air_valve", "drain_valve", "other":
		default:
			return nil, fileError(CodeMappingBad, "mapping", fmt.Sprintf("appurtenance kind %q: want valve, hydrant, air_valve, drain_valve or other", v), "")
		}
	}
	return &m, nil
}

func fieldNames() []string {
	var out []string
	for f := range aliases {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// colIndex reads a column letter ("A", "AB") as a 0-based index; -1 if s
// is not one.
func colIndex(s string) int {
	if s == "" || len(s) > 3 {
		return -1
	}
	n := 0
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return -1
		}
		n = n*26 + int(r-'A'+1)
	}
	return n - 1
}

// ColumnName renders a 0-based column index as a letter.
func ColumnName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// header is a detected header: its rows (0-based) and each field's column.
type header struct {
	first, n int            // header rows: first..first+n-1
	cols     map[string]int // field → column
	names    []string       // the normalized name of each column
	points   []int          // candidate point-number columns (pre-number, final number)
}

func cell(rows [][]string, r, c int) string {
	if r < 0 || r >= len(rows) || c < 0 || c >= len(rows[r]) {
		return ""
	}
	return rows[r][c]
}

func rowWidth(rows [][]string, from, to int) int {
	w := 0
	for r := from; r < to && r < len(rows); r++ {
		if len(rows[r]) > w {
			w = len(rows[r])
		}
	}
	return w
}

// lookup is the alias table inverted, with a mapping's header names added.
func lookup(m *Mapping) map[string]string {
	out := map[string]string{}
	for f, as := range aliases {
		for _, a := range as {
			out[a] = f
		}
	}
	if m != nil {
		for f, name := range m.Columns {
			if colIndex(name) < 0 {
				out[normHeader(name)] = f
			}
		}
	}
	return out
}

// tryHeader maps the columns of a header of n rows (1 or 2) starting at row
// h. In a two-row header a group title in the first row spans the columns
// whose second-row cells are filled (merged cells keep their value in the
// first cell only), so an empty first-row cell takes the title to its left.
func tryHeader(rows [][]string, h, n int, lk map[string]string) header {
	hd := header{first: h, n: n, cols: map[string]int{}}
	w := rowWidth(rows, h, h+n)
	hd.names = make([]string, w)
	group := ""
	for c := 0; c < w; c++ {
		top := normHeader(cell(rows, h, c))
		sub := ""
		if n == 2 {
			sub = normHeader(cell(rows, h+1, c))
			if top != "" {
				group = top
			} else if sub != "" {
				top = group
			} else {
				group = ""
			}
		}
		var cands []string
		if sub != "" {
			cands = append(cands, sub, top+sub)
		}
		if top != "" {
			cands = append(cands, top)
		}
		for _, cnd := range cands {
			f, ok := lk[cnd]
			if !ok {
				continue
			}
			hd.names[c] = cnd
			if f == FieldPoint || f == FieldFinalPoint {
				hd.points = append(hd.points, c)
			}
			if _, dup := hd.cols[f]; !dup {
				hd.cols[f] = c
			}
			break
		}
	}
	return hd
}

func (hd header) score() int {
	s := len(hd.cols)
	for _, f := range []string{FieldX, FieldY, FieldConnect} {
		if _, ok := hd.cols[f]; ok {
			s += 10
		}
	}
	if len(hd.points) > 0 {
		s += 10
	}
	return s
}

// findHeader looks for the header in the first 40 rows: the one- or
// two-row header that names the most fields (the point number, X, Y and
// the connecting point count most). Ties go to the earlier, shorter one.
func findHeader(rows [][]string, m *Mapping) (header, bool) {
	lk := lookup(m)
	var best header
	bestScore := -1
	if m != nil && len(m.HeaderRows) > 0 {
		h := m.HeaderRows[0] - 1
		best = tryHeader(rows, h, len(m.HeaderRows), lk)
		bestScore = best.score()
	} else {
		// A two-row header counts only where it names more than either of
		// its rows alone (else a title row above a one-row header would be
		// taken for the header's first row).
		one := make([]int, 0, 41)
		for h := 0; h < len(rows) && h < 41; h++ {
			one = append(one, tryHeader(rows, h, 1, lk).score())
		}
		for h := 0; h < len(rows) && h < 40; h++ {
			if one[h] > bestScore {
				best, bestScore = tryHeader(rows, h, 1, lk), one[h]
			}
			if h+1 < len(one) {
				hd := tryHeader(rows, h, 2, lk)
				if sc := hd.score(); sc > bestScore && sc > one[h] && sc > one[h+1] {
					best, bestScore = hd, sc
				}
			}
		}
	}
	// Columns named by letter in the mapping override detection.
	if m != nil {
		for f, name := range m.Columns {
			if c := colIndex(name); c >= 0 {
				best.cols[f] = c
				if f == FieldPoint || f == FieldFinalPoint {
					best.points = []int{c}
				}
			} else if f == FieldPoint || f == FieldFinalPoint {
				if c, ok := best.cols[f]; ok {
					best.points = []int{c}
				}
			}
		}
	}
	_, hasX := best.cols[FieldX]
	_, hasY := best.cols[FieldY]
	return best, bestScore > 0 && len(best.points) > 0 && hasX && hasY
}

// isHeaderRepeat tells a header row repeated on a later page of a printed
// table from a data row.
func isHeaderRepeat(row []string, hd header, lk map[string]string) bool {
	for _, c := range hd.points {
		if f, ok := lk[normHeader(cell([][]string{row}, 0, c))]; ok && (f == FieldPoint || f == FieldFinalPoint) {
			return true
		}
	}
	return false
}
