package asbuilt

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Tables made for the tests: a one-row header (another layout than the
// sample's), Chinese survey convention X = northing, Y = easting, near
// (E 500000, N 4059000) in EPSG:4548.
const hdr = "物探点号,连接点号,管线材料,管径,特征,附属物,X,Y,备注\n"

func table(rows ...string) []byte { return []byte(hdr + strings.Join(rows, "\n") + "\n") }

// row writes a table row: point, connecting point, material, DN, feature,
// appurtenance, and the position as easting/northing offsets from the
// origin (500000, 4059000).
func row(pt, conn, mat, dn, feat, app string, de, dn2 float64) string {
	return fmt.Sprintf("%s,%s,%s,%s,%s,%s,%.3f,%.3f,", pt, conn, mat, dn, feat, app, 4059000+dn2, 500000+de)
}

// clean is a small valid survey: a tee T with three branches, tied into the
// live main at A (非普查).
func cleanRows() []string {
	return []string{
		row("A", "B", "球墨铸铁", "200", "非普查", "", 0, 0),
		row("B", "A", "球墨铸铁", "200", "直线点", "阀门", 50, 0),
		row("", "T", "球墨铸铁", "200", "直线点", "阀门", 50, 0),
		row("T", "B", "球墨铸铁", "200", "三通", "", 100, 0),
		row("", "C", "球墨铸铁", "200", "三通", "", 100, 0),
		row("", "H", "球墨铸铁", "100", "三通", "", 100, 0),
		row("C", "", "球墨铸铁", "200", "预留口", "", 150, 0),
		row("H", "T", "球墨铸铁", "100", "终止点", "消火栓", 100, 5),
	}
}

// liveNet is a live network: a main along northing 4059000 - 0 … the
// survey's A lies on it, fed by a source.
func liveNet() *gis.Dataset {
	return &gis.Dataset{SRID: 4548,
		Pipes: []gis.Pipe{{ID: "M1", DN: 400, Material: "球墨铸铁", Status: gis.StatusInService,
			Geom: orb.LineString{{500000, 4058900}, {500000, 4059100}}}},
		Sources: []gis.Source{{ID: "S1", Type: "plant", Geom: orb.Point{500000, 4058900}}},
	}
}

func check(t *testing.T, name string, data []byte, live *gis.Dataset, opt ReadOptions) []Issue {
	t.Helper()
	if opt.StorageSRID == 0 {
		opt.StorageSRID = 4548
	}
	if opt.CRS.IsZero() {
		opt.CRS = CRS{SRID: 4548}
	}
	d, err := Read(name, data, opt)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return e.Issues
		}
		t.Fatalf("Read: %v", err)
	}
	return Validate(d, live, ValidateOptions{Mapping: opt.Mapping}).Issues
}

func find(issues []Issue, code string) *Issue {
	for i := range issues {
		if issues[i].Code == code {
			return &issues[i]
		}
	}
	return nil
}

func expect(t *testing.T, issues []Issue, code, sev string, row int) *Issue {
	t.Helper()
	is := find(issues, code)
	if is == nil {
		var got []string
		for _, i := range issues {
			got = append(got, i.String())
		}
		t.Fatalf("no %s; got:\n%s", code, strings.Join(got, "\n"))
	}
	if is.Severity != sev {
		t.Errorf("%s: severity %s, want %s", code, is.Severity, sev)
	}
	if row > 0 && (len(is.Rows) == 0 || is.Rows[0] != row) {
		t.Errorf("%s: rows %v, want first row %d (%s)", code, is.Rows, row, is)
	}
	if is.Where == "" || is.Msg == "" {
		t.Errorf("%s: no where or message: %+v", code, is)
	}
	return is
}

func TestCleanTable(t *testing.T) {
	d, err := Read("clean.csv", table(cleanRows()...), ReadOptions{CRS: CRS{SRID: 4548}})
	if err != nil {
		t.Fatal(err)
	}
	v := Validate(d, liveNet(), ValidateOptions{})
	for _, is := range v.Issues {
		t.Errorf("unexpected issue: %s", is)
	}
	if len(d.Dataset.Pipes) != 4 || len(d.Dataset.Valves) != 1 || len(d.Dataset.Hydrants) != 1 {
		t.Fatalf("%d pipes %d valves %d hydrants", len(d.Dataset.Pipes), len(d.Dataset.Valves), len(d.Dataset.Hydrants))
	}
	var split *Change
	for i, c := range v.Changes {
		if c.Action == ActSplit {
			split = &v.Changes[i]
		}
	}
	if split == nil || split.ID != "M1" || len(split.At) != 1 || split.At[0] != 100 {
		t.Errorf("the live main is not split at the tie-in: %+v", v.Changes)
	}
	if d.Dataset.Valves[0].Pipe != "A-B" && d.Dataset.Valves[0].Pipe != "B-T" {
		t.Errorf("valve on %q", d.Dataset.Valves[0].Pipe)
	}
	if d.Dataset.Hydrants[0].Pipe != "H-T" {
		t.Errorf("hydrant on %q", d.Dataset.Hydrants[0].Pipe)
	}
}

func TestFileCodes(t *testing.T) {
	sample := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("xl/workbook.xml")
		w.Write([]byte("<workbook/>"))
		zw.Close()
		return buf.Bytes()
	}
	bomb := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("xl/worksheets/sheet1.xml")
		zero := make([]byte, 1<<20)
		for i := 0; i < 80; i++ {
			w.Write(zero)
		}
		zw.Close()
		return buf.Bytes()
	}
	cases := []struct {
		name, file string
		data       []byte
		lim        Limits
		code       string
	}{
		{"truncated workbook", "t.xlsx", sample()[:40], Limits{}, CodeFileUnreadable},
		{"broken workbook", "t.xlsx", sample(), Limits{}, CodeFileUnreadable},
		{"old xls", "t.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), Limits{}, CodeFileWrongType},
		{"pdf", "t.csv", []byte("%PDF-1.4 ..."), Limits{}, CodeFileWrongType},
		{"binary csv", "t.csv", []byte("a,b\x00c\n"), Limits{}, CodeFileWrongType},
		{"too large", "t.csv", table(cleanRows()...), Limits{MaxBytes: 100}, CodeFileTooLarge},
		{"zip bomb", "t.xlsx", bomb(), Limits{MaxUnzipped: 32 << 20}, CodeFileZipBomb},
		{"encoding", "t.csv", []byte("点号,X\n\x81\x20\x81,1\n"), Limits{}, CodeFileEncoding},
		{"empty", "t.csv", nil, Limits{}, CodeFileEmpty},
		{"no table", "t.csv", []byte("a,b,c\n1,2,3\n"), Limits{}, CodeSheetNotFound},
		{"no X column", "t.csv", []byte("点号,连接点号,Y\nJ1,J2,500000\n"), Limits{}, CodeColumnMissing},
		{"bad csv", "t.csv", []byte("点号,连接点号,X,Y\n\"J1,J2,1,2\n"), Limits{}, CodeFileUnreadable},
		{"too many rows", "t.csv", table(cleanRows()...), Limits{MaxRows: 1}, CodeFileTooLarge},
		{"named .xlsx, is text", "t.xlsx", []byte("hello"), Limits{}, CodeFileUnreadable},
		{"zip without shp", "t.zip", sample(), Limits{}, CodeFileWrongType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.file, c.data, ReadOptions{Limits: c.lim, CRS: CRS{SRID: 4548}, OGR2OGR: "ogr2ogr"})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want an *Error %s", err, c.code)
			}
			if e.Issues[0].Code != c.code || e.Issues[0].Severity != SevError {
				t.Fatalf("got %s, want %s", e.Issues[0], c.code)
			}
		})
	}
}

func TestMappingBad(t *testing.T) {
	for _, m := range []string{`{"columns": {"nope": "A"}}`, `{"sheet": 1}`, `{"appurtenances": {"x": "pump"}}`, `{"header_rows": [1,2,3]}`} {
		if _, err := ParseMapping([]byte(m)); err == nil || err.(*Error).Issues[0].Code != CodeMappingBad {
			t.Errorf("%s: %v", m, err)
		}
	}
	m, err := ParseMapping([]byte(`{"columns": {"point": "测点编号", "x": "B", "y": "C"}}`))
	if err != nil {
		t.Fatal(err)
	}
	// A table whose names no alias knows, mapped by name and by letter.
	data := []byte("测点编号,north,east,去向,管径,材质\nP1,4059000,500000,P2,200,钢\nP2,4059000,500050,,200,钢\n")
	m.Columns["connect"] = "去向"
	m.Columns["material"] = "材质"
	d, err := Read("m.csv", data, ReadOptions{Mapping: m, CRS: CRS{SRID: 4548}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Dataset.Pipes) != 1 || d.Dataset.Pipes[0].DN != 200 || d.Dataset.Pipes[0].Geom[1] != (orb.Point{500050, 4059000}) {
		t.Fatalf("mapped table: %+v", d.Dataset.Pipes)
	}
}

func TestRowCodes(t *testing.T) {
	live := liveNet()
	r := cleanRows()
	with := func(i int, s string) []string {
		c := append([]string(nil), r...)
		c[i] = s
		return c
	}
	cases := []struct {
		name string
		rows []string
		code string
		sev  string
		row  int // first source row (header is row 1)
	}{
		{"no number", append([]string{row("", "B", "钢", "200", "直线点", "", 0, 0)}, r...), CodePointNoNumber, SevError, 2},
		{"bad number", with(3, "T,B,球墨铸铁,200,三通,,4059000.000,5000x0,"), CodeCellBadNumber, SevError, 5},
		{"no coordinates", with(6, "C,,球墨铸铁,200,预留口,,,,"), CodePointNoCoordinates, SevError, 8},
		{"duplicate point", append(r, row("C", "", "球墨铸铁", "200", "预留口", "", 160, 0)), CodePointDuplicate, SevError, 8},
		{"unknown connection", append(r, row("C", "Z9", "球墨铸铁", "200", "预留口", "", 150, 0)), CodePointUnknownConnect, SevError, 10},
		{"listing conflict", with(1, row("B", "A", "钢", "300", "直线点", "阀门", 50, 0)), CodePipeListingConflict, SevWarning, 2},
		{"zero length", append(r, row("C2", "C", "球墨铸铁", "200", "预留口", "", 150, 0)), CodePipeZeroLength, SevError, 10},
		{"self loop", append(r, row("C", "C", "球墨铸铁", "200", "预留口", "", 150, 0)), CodePipeZeroLength, SevError, 10},
		{"dangling end", with(6, row("C", "", "球墨铸铁", "200", "直线点", "", 150, 0)), CodePipeDanglingEnd, SevWarning, 8},
		{"dn missing", with(4, row("", "C", "球墨铸铁", "", "三通", "", 100, 0)), CodePipeDNMissing, SevError, 6},
		{"dn implausible", with(4, row("", "C", "球墨铸铁", "20000", "三通", "", 100, 0)), CodePipeDNImplausible, SevError, 6},
		{"dn unreadable", with(4, row("", "C", "球墨铸铁", "big", "三通", "", 100, 0)), CodePipeDNImplausible, SevError, 6},
		{"dn nonstandard", with(4, row("", "C", "球墨铸铁", "210", "三通", "", 100, 0)), CodePipeDNNonstandard, SevWarning, 6},
		{"material missing", with(4, row("", "C", "", "200", "三通", "", 100, 0)), CodePipeMaterialMissing, SevWarning, 6},
		{"material unknown", with(4, row("", "C", "木头", "200", "三通", "", 100, 0)), CodePipeMaterialUnknown, SevWarning, 6},
		{"valve not on pipe", append(r, row("V9", "", "", "", "直线点", "阀门", 300, 300)), CodeValveNotOnPipe, SevError, 10},
		{"hydrant not on pipe", append(r, row("H9", "", "", "", "终止点", "消火栓", 300, 300)), CodeHydrantNotOnPipe, SevWarning, 10},
		{"tee wrong degree", with(3, row("T", "B", "球墨铸铁", "200", "四通", "", 100, 0)), CodeTeeWrongDegree, SevError, 5},
		{"near miss", append(r, row("N1", "N2", "球墨铸铁", "200", "预留口", "", 150.3, 0), row("N2", "", "球墨铸铁", "200", "预留口", "", 150.3, 40)), CodePipeNearMiss, SevWarning, 6},
		{"crossing", append(r, row("X1", "X2", "PE", "160", "预留口", "", 125, -20), row("X2", "", "PE", "160", "预留口", "", 125, 20)), CodePipeCrossingNoNode, SevWarning, 6},
		{"island", with(0, row("A", "B", "球墨铸铁", "200", "非普查", "", 30, 0)), CodeNetworkIsland, SevError, 2},
		{"tie snapped", with(0, row("A", "B", "球墨铸铁", "200", "非普查", "", 0.3, 0)), CodeTieSnapped, SevWarning, 2},
		{"tie not found", with(0, row("A", "B", "球墨铸铁", "200", "非普查", "", 3, 0)), CodeTieNotFound, SevWarning, 2},
		{"duplicates live", append(r, row("D1", "D2", "球墨铸铁", "400", "预留口", "", 0, 20), row("D2", "", "球墨铸铁", "400", "预留口", "", 0, 80)), CodePipeDuplicatesLive, SevError, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect(t, check(t, "t.csv", table(c.rows...), live, ReadOptions{}), c.code, c.sev, c.row)
		})
	}
	t.Run("no sources", func(t *testing.T) {
		l := liveNet()
		l.Sources = nil
		expect(t, check(t, "t.csv", table(r...), l, ReadOptions{}), CodeNetworkNoSources, SevWarning, 0)
	})
	t.Run("too many issues", func(t *testing.T) {
		var rows []string
		for i := 0; i < 50; i++ {
			rows = append(rows, fmt.Sprintf("P%d,Q%d,钢,200,直线点,,1,1,", i, i))
		}
		d, err := Read("t.csv", table(rows...), ReadOptions{CRS: CRS{SRID: 4548}, Limits: Limits{MaxIssues: 10}})
		if err != nil {
			t.Fatal(err)
		}
		expect(t, d.Issues, CodeTooManyIssues, SevError, 0)
	})
	t.Run("issues are located", func(t *testing.T) {
		is := expect(t, check(t, "t.csv", table(with(3, row("T", "B", "球墨铸铁", "200", "四通", "", 100, 0))...), live, ReadOptions{}), CodeTeeWrongDegree, SevError, 5)
		if is.At == nil || *is.At != (orb.Point{500100, 4059000}) {
			t.Errorf("tee issue at %v", is.At)
		}
	})
}

func TestCRSCodes(t *testing.T) {
	r := cleanRows()
	swapped := func(rows []string) []byte {
		// X and Y columns exchanged: X holds eastings.
		b := string(table(rows...))
		return []byte(strings.Replace(b, ",X,Y,", ",Y,X,", 1))
	}
	prefixed := func(rows []string, zone int) []byte {
		var out []string
		for _, s := range rows {
			f := strings.Split(s, ",")
			f[7] = fmt.Sprintf("%d%s", zone, f[7])
			out = append(out, strings.Join(f, ","))
		}
		return table(out...)
	}
	t.Run("swapped", func(t *testing.T) {
		d, err := Read("t.csv", swapped(r), ReadOptions{CRS: CRS{SRID: 4548}})
		if err != nil {
			t.Fatal(err)
		}
		is := expect(t, d.Issues, CodeCRSSwappedXY, SevWarning, 0)
		if !d.Swap || is.Fix == "" || d.PointAt["B"] != (orb.Point{500050, 4059000}) {
			t.Errorf("swap %v, B at %v, fix %q", d.Swap, d.PointAt["B"], is.Fix)
		}
		expect(t, Validate(d, liveNet(), ValidateOptions{}).Issues, CodeCRSSwappedXY, SevWarning, 0)
	})
	t.Run("zone prefix", func(t *testing.T) {
		d, err := Read("t.csv", prefixed(r, 39), ReadOptions{CRS: CRS{SRID: 4548}})
		if err != nil {
			t.Fatal(err)
		}
		is := expect(t, d.Issues, CodeCRSZonePrefix, SevWarning, 0)
		if d.CRS.SRID != 4527 || !strings.Contains(is.Fix, "EPSG:4527") {
			t.Errorf("crs %v, fix %q", d.CRS, is.Fix)
		}
	})
	t.Run("zone prefix declared, none written", func(t *testing.T) {
		d, _ := Read("t.csv", table(r...), ReadOptions{CRS: CRS{SRID: 4527}})
		expect(t, d.Issues, CodeCRSZonePrefix, SevWarning, 0)
		if d.CRS.SRID != 4548 {
			t.Errorf("crs %v", d.CRS)
		}
	})
	t.Run("assumed from prefix", func(t *testing.T) {
		d, _ := Read("t.csv", prefixed(r, 39), ReadOptions{StorageSRID: 4548})
		expect(t, d.Issues, CodeCRSAssumed, SevWarning, 0)
		if d.CRS.SRID != 4527 {
			t.Errorf("crs %v", d.CRS)
		}
	})
	t.Run("assumed storage", func(t *testing.T) {
		d, _ := Read("t.csv", table(r...), ReadOptions{StorageSRID: 4548})
		expect(t, d.Issues, CodeCRSAssumed, SevWarning, 0)
		if d.CRS.SRID != 4548 {
			t.Errorf("crs %v", d.CRS)
		}
	})
	t.Run("wrong zone", func(t *testing.T) {
		d, _ := Read("t.csv", prefixed(r, 38), ReadOptions{CRS: CRS{SRID: 4548}})
		expect(t, d.Issues, CodeCRSImplausible, SevError, 0)
	})
	t.Run("degrees declared projected", func(t *testing.T) {
		d, _ := Read("t.csv", []byte(hdr+"A,B,钢,200,,,36.67,117.01,\nB,,钢,200,,,36.671,117.01,\n"), ReadOptions{CRS: CRS{SRID: 4548}})
		expect(t, d.Issues, CodeCRSImplausible, SevError, 0)
	})
	t.Run("degrees", func(t *testing.T) {
		d, _ := Read("t.csv", []byte(hdr+"A,B,钢,200,,,36.67,117.01,\nB,,钢,200,,,36.671,117.01,\n"), ReadOptions{})
		expect(t, d.Issues, CodeCRSAssumed, SevWarning, 0)
		if d.CRS.SRID != 4490 || d.PointAt["A"] != (orb.Point{117.01, 36.67}) {
			t.Errorf("crs %v, A %v", d.CRS, d.PointAt["A"])
		}
	})
	t.Run("missing", func(t *testing.T) {
		d, _ := Read("t.csv", []byte(hdr+"A,B,钢,200,,,-5000,-7000,\nB,,钢,200,,,-5010,-7000,\n"), ReadOptions{CRS: CRS{}})
		expect(t, d.Issues, CodeCRSMissing, SevError, 0)
	})
	t.Run("unknown", func(t *testing.T) {
		if _, err := ParseCRS("EPSG:abc"); err == nil {
			t.Error("EPSG:abc parsed")
		}
		for in, want := range map[string]CRS{"EPSG:4548": {SRID: 4548}, "4527": {SRID: 4527}, "urn:ogc:def:crs:EPSG::4490": {SRID: 4490},
			"local:jinan": {Local: "jinan"}, "+proj=tmerc +lon_0=117": {Proj: "+proj=tmerc +lon_0=117"}} {
			if got, err := ParseCRS(in); err != nil || got != want {
				t.Errorf("%s: %v %v", in, got, err)
			}
		}
		_, err := Read("t.geojson", []byte(`{"type":"FeatureCollection","features":[]}`), ReadOptions{CRS: CRS{Local: "x", Proj: "+proj=longlat"}})
		if e, ok := err.(*Error); !ok || e.Issues[0].Code != CodeCRSUnknown {
			t.Errorf("local CRS on GeoJSON: %v", err)
		}
	})
}

// TestHeaderVariants reads tables laid out otherwise than the sample.
func TestHeaderVariants(t *testing.T) {
	want := func(t *testing.T, d *Delivery, err error, pipes int) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Dataset.Pipes) != pipes {
			t.Fatalf("%d pipes, want %d; issues %v", len(d.Dataset.Pipes), pipes, d.Issues)
		}
	}
	t.Run("title rows and units row names", func(t *testing.T) {
		data := "给水管线点成果表\n工程:测试,,,\n外业点号,连接方向,材质,管径(mm),特征点,附属设施,X坐标(m),Y坐标(m)\nG1,G2,钢,DN300,,阀门,4059000,500000\nG2,,钢,300,,,4059000,500010\n"
		d, err := Read("v.csv", []byte(data), ReadOptions{CRS: CRS{SRID: 4548}})
		want(t, d, err, 1)
		if d.Survey.FirstDataRow != 4 || len(d.Survey.TitleRows) != 2 || len(d.Dataset.Valves) != 1 {
			t.Errorf("layout %+v valves %d", d.Survey, len(d.Dataset.Valves))
		}
	})
	t.Run("numeric cells and full-width", func(t *testing.T) {
		data := "点号,连接点号,管材,口径,Ｘ,Ｙ\nP1,P2,PE,１６０,\"4,059,000.5\",500000\nP2,P3,PE,160,4059000.5,500020\nP3,,PE,160,4059000.5,500040\n"
		d, err := Read("v.csv", []byte(data), ReadOptions{CRS: CRS{SRID: 4548}})
		want(t, d, err, 2)
		if d.Dataset.Pipes[0].DN != 160 || d.Dataset.Pipes[0].Geom[0][1] != 4059000.5 {
			t.Errorf("%+v", d.Dataset.Pipes[0])
		}
	})
	t.Run("box section", func(t *testing.T) {
		dn, sec, ok := ParseDN("800X600")
		if !ok || dn != 800 || sec != "800X600" {
			t.Errorf("%d %q %v", dn, sec, ok)
		}
		for _, s := range []string{"300", "DN300", "Φ300", "300mm", "de300", "300.0"} {
			if dn, _, ok := ParseDN(s); !ok || dn != 300 {
				t.Errorf("%s: %d %v", s, dn, ok)
			}
		}
	})
	t.Run("repeated header on a later page", func(t *testing.T) {
		data := "点号,连接点号,X,Y,管径,材质\nP1,P2,4059000,500000,200,钢\n点号,连接点号,X,Y,管径,材质\nP2,,4059000,500010,200,钢\n"
		d, err := Read("v.csv", []byte(data), ReadOptions{CRS: CRS{SRID: 4548}})
		want(t, d, err, 1)
	})
	t.Run("tab separated GBK", func(t *testing.T) {
		gbk := []byte("\xb5\xe3\xba\xc5\t\xc1\xac\xbd\xd3\xb5\xe3\xba\xc5\tX\tY\nP1\tP2\t4059000\t500000\nP2\t\t4059000\t500010\n") // 点号 连接点号
		d, err := Read("v.txt", gbk, ReadOptions{CRS: CRS{SRID: 4548}})
		want(t, d, err, 1)
		if d.Survey.Encoding != "GBK/GB18030" {
			t.Errorf("encoding %q", d.Survey.Encoding)
		}
	})
}
