package epanet

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

const networksDir = "../../../shared/data/networks"

var origin = &orb.Point{117.0, 36.67}

func readFile(t testing.TB, name string, opt Options) (*gis.Dataset, []gis.Issue) {
	t.Helper()
	path := filepath.Join(networksDir, name)
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("sample network missing: %v", err)
	}
	defer f.Close()
	opt.Name = name
	if opt.SRID == 0 && opt.Origin == nil {
		opt.Origin = origin
	}
	ds, warns, err := Read(f, opt)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ds, warns
}

func readString(src string, opt Options) (*gis.Dataset, []gis.Issue, error) {
	if opt.Name == "" {
		opt.Name = "t.inp"
	}
	return Read(strings.NewReader(src), opt)
}

func linkType(p gis.Pipe) string {
	if s, ok := p.Extra["epanet_type"].(string); ok {
		return s
	}
	return "pipe"
}

func lineLen(ls orb.LineString) float64 { return pathLength(ls) }

// The counts of README.md in ../../../shared/data/networks. Two deliberate
// differences in customers, both from EPANET's semantics of base demand:
//   - L-TOWN: the README counts 701 junctions with a [JUNCTIONS] demand > 0;
//     46 more have a zero there but a positive demand in [DEMANDS], which
//     replaces it in EPANET, so 747 customers.
//   - BWSN_Network_2: the README counts 10552 junctions with a non-zero
//     demand; one of them (JUNCTION-12500, -3078 GPM) is an inflow, not a
//     customer, so 10551.
func TestSampleNetworks(t *testing.T) {
	cases := []struct {
		file                 string
		pipes, pumps, valves int
		sources, customers   int
		closed, cv           int
		minDN, maxDN         int
		lengthM              float64 // README total pipe length, in metres
		schematic            bool
		warnings             map[string]int
	}{
		{"Net1.inp", 12, 1, 0, 2, 8, 0, 0, 150, 450, 63530 * ftToM, true, nil},
		{"Net3.inp", 117, 2, 0, 5, 59, 1, 0, 200, 2475, 215712 * ftToM, true, nil},
		{"L-TOWN.inp", 905, 1, 3, 3, 747, 0, 0, 63, 225, 43163, false, nil},
		{"ky12.inp", 2426, 15, 22, 8, 2246, 0, 3, 75, 400, 2128042 * ftToM, false, map[string]int{CodeZeroLength: 37, CodeCoincidentNodes: 3, CodeNodeOnLink: 2}},
		{"BWSN_Network_2.inp", 14822, 4, 5, 4, 10551, 2, 2, 20, 1200, 6050025 * ftToM, false, map[string]int{CodeNegativeDemand: 1, CodeNodeOnLink: 3}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ds, warns := readFile(t, c.file, Options{})
			types := map[string]int{}
			minDN, maxDN := math.MaxInt, 0
			var total float64
			var ratios []float64
			for _, p := range ds.Pipes {
				types[linkType(p)]++
				if p.Status != gis.StatusInService {
					t.Errorf("pipe %s status %q", p.ID, p.Status)
				}
				if len(p.Geom) < 2 {
					t.Errorf("pipe %s has %d points", p.ID, len(p.Geom))
				}
				if linkType(p) == "pipe" {
					minDN, maxDN = min(minDN, p.DN), max(maxDN, p.DN)
					l := p.Extra["epanet_length_m"].(float64)
					total += l
					ratios = append(ratios, lineLen(p.Geom)/l)
				}
			}
			nValves := len(ds.Pipes) - types["pipe"] - types["pump"]
			if types["pipe"] != c.pipes || types["pump"] != c.pumps || nValves != c.valves {
				t.Errorf("pipes/pumps/valves = %d/%d/%d, want %d/%d/%d", types["pipe"], types["pump"], nValves, c.pipes, c.pumps, c.valves)
			}
			if len(ds.Sources) != c.sources {
				t.Errorf("sources = %d, want %d", len(ds.Sources), c.sources)
			}
			if len(ds.Customers) != c.customers {
				t.Errorf("customers = %d, want %d", len(ds.Customers), c.customers)
			}
			if len(ds.Valves) != c.closed {
				t.Errorf("valves (closed pipes) = %d, want %d", len(ds.Valves), c.closed)
			}
			cv := 0
			for _, p := range ds.Pipes {
				if p.Extra["epanet_status"] == "CV" {
					cv++
				}
			}
			if cv != c.cv {
				t.Errorf("CV pipes = %d, want %d", cv, c.cv)
			}
			if minDN != c.minDN || maxDN != c.maxDN {
				t.Errorf("DN range %d–%d, want %d–%d", minDN, maxDN, c.minDN, c.maxDN)
			}
			if math.Abs(total-c.lengthM) > 0.001*c.lengthM {
				t.Errorf("total LENGTH %.0f m, want %.0f m", total, c.lengthM)
			}
			// Whatever the drawing was, the result is to scale in metres.
			if m := median(ratios); m < 0.5 || m > 2 {
				t.Errorf("median drawn/LENGTH after import = %g", m)
			}
			if got := strings.HasPrefix(ds.Provenance["scale"], "schematic drawing rescaled by"); got != c.schematic {
				t.Errorf("provenance scale = %q, schematic want %v", ds.Provenance["scale"], c.schematic)
			}
			if ds.SRID != 0 || ds.Proj != "+proj=tmerc +lat_0=36.67 +lon_0=117 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs" {
				t.Errorf("SRID %d, Proj %q", ds.SRID, ds.Proj)
			}
			got := map[string]int{}
			for _, w := range warns {
				got[w.Code]++
			}
			if fmt.Sprint(got) != fmt.Sprint(c.warnings) && len(got)+len(c.warnings) > 0 {
				t.Errorf("warnings %v, want %v", got, c.warnings)
			}
			// The bbox centre is the origin.
			b := orb.LineString{}
			for _, p := range ds.Pipes {
				b = append(b, p.Geom...)
			}
			for _, s := range ds.Sources {
				b = append(b, s.Geom)
			}
			bound := b.Bound()
			if cx, cy := (bound.Min[0]+bound.Max[0])/2, (bound.Min[1]+bound.Max[1])/2; math.Abs(cx) > 1e-6 || math.Abs(cy) > 1e-6 {
				t.Errorf("bbox centre (%g, %g), want (0, 0)", cx, cy)
			}
			for _, cu := range ds.Customers {
				if cu.Pipe == "" || cu.Geom == nil || cu.Households != 1 || cu.Category != "residential" {
					t.Errorf("customer %+v", cu)
					break
				}
			}
		})
	}
}

func TestNet1(t *testing.T) {
	ds, _ := readFile(t, "Net1.inp", Options{})
	byID := map[string]gis.Pipe{}
	for _, p := range ds.Pipes {
		byID[p.ID] = p
	}
	// 12 in → DN300, 18 in → DN450, 6 in → DN150.
	for id, want := range map[string]int{"22": 300, "10": 450, "31": 150, "11": 350} {
		if got := byID[id].DN; got != want || byID[id].DNInferred {
			t.Errorf("pipe %s DN %d (inferred %v), want %d", id, got, byID[id].DNInferred, want)
		}
	}
	pump := byID["9"]
	if linkType(pump) != "pump" || pump.Role != "booster_main" || !pump.DNInferred || pump.DN != 450 {
		t.Errorf("pump 9: %+v", pump)
	}
	if l := byID["10"].Extra["epanet_length_m"].(float64); math.Abs(l-10530*ftToM) > 1e-9 {
		t.Errorf("pipe 10 length %g", l)
	}
	if r := byID["10"].Extra["roughness"]; r != 100.0 || byID["10"].Material != "" {
		t.Errorf("roughness %v material %q", r, byID["10"].Material)
	}
	// Pipe 110 joins tank 2 (50,90) to junction 12 (50,70): its geometry
	// starts at the tank's point.
	var tank gis.Source
	for _, s := range ds.Sources {
		if s.ID == "2" {
			tank = s
		}
	}
	if tank.Type != "tank" || byID["110"].Geom[0] != tank.Geom {
		t.Errorf("tank %+v, pipe 110 %v", tank, byID["110"].Geom)
	}
	cust := map[string]gis.Customer{}
	for _, c := range ds.Customers {
		cust[c.ID] = c
	}
	// Junction 12: pipes 11, 12, 110, 112 → "11" is the smallest (string order).
	if c := cust["12"]; c.Pipe != "11" || c.Extra["base_demand"] != 150.0 {
		t.Errorf("customer 12: %+v", c)
	}
	// Junction 22: pipes 21, 22, 112, 122 → "112" < "122" < "21" < "22".
	if c := cust["22"]; c.Pipe != "112" {
		t.Errorf("customer 22 pipe %q, want 112", c.Pipe)
	}
	if _, ok := cust["10"]; ok {
		t.Error("junction 10 has no demand but became a customer")
	}
	for _, k := range []string{"dn", "pumps", "crs", "scale", "material", "epanet_units"} {
		if ds.Provenance[k] == "" {
			t.Errorf("provenance %q missing: %v", k, ds.Provenance)
		}
	}
	if _, ok := ds.Provenance["valves"]; ok {
		t.Error("valves provenance without generated valves")
	}
}

// countN1 is Σ(k−1) over nodes with k ≥ 2 incident pipes (pumps and control
// valves excluded), computed independently from the dataset.
func countN1(ds *gis.Dataset) int {
	// Recover the node of each pipe end by matching points with the pipes'
	// own start/end; equivalent here since each EPANET node has one point.
	type key struct{ x, y float64 }
	deg := map[key]map[string]bool{}
	for _, p := range ds.Pipes {
		if linkType(p) != "pipe" {
			continue
		}
		for _, q := range []orb.Point{p.Geom[0], p.Geom[len(p.Geom)-1]} {
			k := key{q[0], q[1]}
			if deg[k] == nil {
				deg[k] = map[string]bool{}
			}
			deg[k][p.ID] = true
		}
	}
	n := 0
	for _, s := range deg {
		if len(s) >= 2 {
			n += len(s) - 1
		}
	}
	return n
}

func TestN1Valves(t *testing.T) {
	for _, file := range []string{"Net1.inp", "Net3.inp", "L-TOWN.inp"} {
		t.Run(file, func(t *testing.T) {
			base, _ := readFile(t, file, Options{})
			closed := len(base.Valves)
			want := countN1(base)
			sets := map[int64]string{}
			for _, seed := range []int64{1, 1, 2, 3} {
				ds, _ := readFile(t, file, Options{Valves: "n-1", Seed: seed})
				gen := ds.Valves[closed:]
				if len(gen) != want {
					t.Fatalf("seed %d: %d valves, want Σ(k−1) = %d", seed, len(gen), want)
				}
				pipes := map[string]gis.Pipe{}
				for _, p := range ds.Pipes {
					pipes[p.ID] = p
				}
				ids := make([]string, len(gen))
				for i, v := range gen {
					ids[i] = v.ID
					p, ok := pipes[v.Pipe]
					if !ok || linkType(p) != "pipe" {
						t.Fatalf("valve %s on %q, not an EPANET pipe", v.ID, v.Pipe)
					}
					if !strings.HasPrefix(v.ID, "v:") || !strings.HasSuffix(v.ID, ":"+v.Pipe) {
						t.Errorf("valve id %s for pipe %s", v.ID, v.Pipe)
					}
					if v.Geom != p.Geom[0] && v.Geom != p.Geom[len(p.Geom)-1] {
						t.Errorf("valve %s is not at an end of pipe %s", v.ID, v.Pipe)
					}
					if !v.NormallyOpen || !v.Operable || v.DN != p.DN {
						t.Errorf("valve %+v", v)
					}
				}
				sort.Strings(ids)
				key := strings.Join(ids, ",")
				if prev, ok := sets[seed]; ok && prev != key {
					t.Errorf("seed %d is not deterministic", seed)
				}
				sets[seed] = key
				if got, want := ds.Provenance["valves"], fmt.Sprintf("generated n-1, seed %d, %d valves", seed, want); got != want {
					t.Errorf("provenance valves %q, want %q", got, want)
				}
			}
			if sets[1] == sets[2] || sets[2] == sets[3] {
				t.Error("different seeds gave the same valve layer")
			}
		})
	}
}

// A small model used by the error tests; each test breaks one thing.
const tiny = `[TITLE]
tiny
[JUNCTIONS]
;ID Elev Demand
 J1  10   0
 J2  10   5
 J3  10   2.5
[RESERVOIRS]
 R1  50
[PIPES]
;ID N1 N2 Length Diam Rough Minor Status
 P1  R1  J1  100  200  100  0  Open
 P2  J1  J2  100  150  100  0  Closed
 P3  J2  J3  100  100  100
 P4  J1  J3  100  100  100  0  CV
[COORDINATES]
 R1  0    0
 J1  100  0
 J2  200  0
 J3  150  80
[VERTICES]
 P4  120 50
[OPTIONS]
 Units LPS
[END]
`

func TestTinyModel(t *testing.T) {
	ds, warns, err := readString(tiny, Options{SRID: 25831})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if ds.SRID != 25831 || ds.Proj != "" {
		t.Errorf("SRID %d Proj %q", ds.SRID, ds.Proj)
	}
	if len(ds.Pipes) != 4 || ds.Pipes[0].DN != 200 || ds.Pipes[3].Geom[1] != (orb.Point{120, 50}) || len(ds.Pipes[3].Geom) != 3 {
		t.Errorf("pipes %+v", ds.Pipes)
	}
	if len(ds.Valves) != 1 {
		t.Fatalf("valves %+v", ds.Valves)
	}
	v := ds.Valves[0]
	if v.ID != "closed:P2" || v.Pipe != "P2" || v.NormallyOpen || !v.Operable || v.Geom != (orb.Point{150, 0}) || v.DN != 150 {
		t.Errorf("closed valve %+v", v)
	}
	if ds.Pipes[1].Status != gis.StatusInService {
		t.Errorf("closed pipe status %q", ds.Pipes[1].Status)
	}
	if !strings.Contains(ds.Provenance["closed_pipes"], "1 CLOSED") || !strings.Contains(ds.Provenance["check_valves"], "1 CV") {
		t.Errorf("provenance %v", ds.Provenance)
	}
	if len(ds.Customers) != 2 || ds.Customers[0].ID != "J2" || ds.Customers[0].Pipe != "P2" || ds.Customers[1].Pipe != "P3" {
		t.Errorf("customers %+v", ds.Customers)
	}
	if ds.Provenance["epanet_title"] != "tiny" {
		t.Errorf("title %q", ds.Provenance["epanet_title"])
	}

	// [STATUS] CLOSED on a pipe closes it too; on a pump it is only noted.
	src := strings.Replace(tiny, "[OPTIONS]", "[STATUS]\n P3 Closed\n[OPTIONS]", 1)
	ds, _, err = readString(src, Options{SRID: 25831})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Valves) != 2 || ds.Valves[1].ID != "closed:P3" {
		t.Errorf("valves %+v", ds.Valves)
	}

	// n-1 on the tiny model: J1 has P1 P2 P4 (2 valves), J2 P2 P3 (1), J3 P3 P4 (1).
	ds, _, err = readString(tiny, Options{SRID: 25831, Valves: "n-1", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ds.Valves) - 1; got != 4 || ds.Provenance["valves"] != "generated n-1, seed 7, 4 valves" {
		t.Errorf("n-1 valves %d, provenance %q", got, ds.Provenance["valves"])
	}
}

func TestPumpsAndValvesUS(t *testing.T) {
	src := `[JUNCTIONS]
 A 0 0
 B 0 1
 C 0 0
 D 0 0
[RESERVOIRS]
 R 10
[PIPES]
 P1 R A 1000 12 100
 P2 B C 1000 8 100
 P3 C D 1000 6 100
[PUMPS]
 PU A B HEAD C1
[VALVES]
 V1 C D 4 prv 40 0
[STATUS]
 PU Closed
[COORDINATES]
 R 0 0
 A 1000 0
 B 1000 10
 C 2000 10
 D 3000 10
[OPTIONS]
 units gpm
`
	ds, warns, err := readString(src, Options{Origin: &orb.Point{2, 41}, Units: "ft"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %v", warns)
	}
	by := map[string]gis.Pipe{}
	for _, p := range ds.Pipes {
		by[p.ID] = p
	}
	if p := by["PU"]; p.DN != 300 || !p.DNInferred || p.Role != "booster_main" || p.Extra["epanet_type"] != "pump" || p.Extra["epanet_initial_status"] != "CLOSED" {
		t.Errorf("pump %+v", p)
	}
	if p := by["V1"]; p.DN != 100 || p.DNInferred || p.Extra["epanet_type"] != "PRV" || p.Extra["setting"] != "40" {
		t.Errorf("valve %+v", p)
	}
	// Drawn to scale in feet: not rescaled, converted to metres.
	if l := lineLen(by["P1"].Geom); math.Abs(l-1000*ftToM) > 1e-9 {
		t.Errorf("P1 drawn length %g m", l)
	}
	if !strings.HasPrefix(ds.Provenance["scale"], "drawing to scale") {
		t.Errorf("scale %q", ds.Provenance["scale"])
	}
	if len(ds.Customers) != 1 || ds.Customers[0].ID != "B" || ds.Customers[0].Pipe != "P2" {
		t.Errorf("customers %+v", ds.Customers)
	}
	// Same drawing read as metres: drawn/LENGTH = 1/0.3048 ≈ 3.28 → rescaled.
	ds, _, err = readString(src, Options{Origin: &orb.Point{2, 41}, Units: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ds.Provenance["scale"], "schematic drawing rescaled by 0.3048") {
		t.Errorf("scale %q", ds.Provenance["scale"])
	}
	if l := lineLen(ds.Pipes[0].Geom); math.Abs(l-1000*ftToM) > 1e-6 {
		t.Errorf("P1 drawn length %g m after rescaling", l)
	}
}

func TestDemandsSection(t *testing.T) {
	src := `[JUNCTIONS]
 A 0 0
 B 0 3
 C 0 0
 D 0 -4
[RESERVOIRS]
 R 10
[PIPES]
 P1 R A 10 100 100
 P2 A B 10 100 100
 P3 B C 10 100 100
 P4 C D 10 100 100
[DEMANDS]
 A 1.5 pat ;residential
 A 0.5 pat2
 B 0
 X 3
[COORDINATES]
 R 0 0
 A 10 0
 B 20 0
 C 30 0
 D 40 0
[OPTIONS]
 UNITS LPS
`
	ds, warns, err := readString(src, Options{SRID: 3857})
	if err != nil {
		t.Fatal(err)
	}
	// A: [DEMANDS] 1.5+0.5 replaces 0. B: [DEMANDS] 0 replaces 3. D: inflow.
	if len(ds.Customers) != 1 || ds.Customers[0].ID != "A" || ds.Customers[0].Extra["base_demand"] != 2.0 {
		t.Errorf("customers %+v", ds.Customers)
	}
	if !hasCode(warns, CodeDemandUnknown) || !hasCode(warns, CodeNegativeDemand) {
		t.Errorf("warnings %v", warns)
	}
}

func hasCode(issues []gis.Issue, code string) bool {
	for _, i := range issues {
		if i.Code == code {
			return true
		}
	}
	return false
}

func TestErrors(t *testing.T) {
	crs := Options{SRID: 25831}
	cases := []struct {
		name, code, where string
		src               string
		opt               Options
	}{
		{"bad number", CodeBadNumber, "t.inp:12", strings.Replace(tiny, "P1  R1  J1  100", "P1  R1  J1  1O0", 1), crs},
		{"bad coordinate", CodeBadNumber, "t.inp:17", strings.Replace(tiny, "R1  0    0", "R1  x    0", 1), crs},
		{"bad value", CodeBadValue, "t.inp:12", strings.Replace(tiny, "P1  R1  J1  100  200", "P1  R1  J1  100  -200", 1), crs},
		{"short row", CodeShortRow, "t.inp:12", strings.Replace(tiny, "P1  R1  J1  100  200  100  0  Open", "P1  R1  J1  100", 1), crs},
		{"unknown node", CodeUnknownNode, "t.inp:13", strings.Replace(tiny, "P2  J1  J2", "P2  J1  J9", 1), crs},
		{"same nodes", CodeSameNodes, "t.inp:13", strings.Replace(tiny, "P2  J1  J2", "P2  J1  J1", 1), crs},
		{"no coordinates", CodeNoCoordinates, "t.inp:6", strings.Replace(tiny, " J2  200  0\n", "", 1), crs},
		{"duplicate node", CodeDuplicateID, "t.inp:6", strings.Replace(tiny, " J2  10   5", " J1  10   5", 1), crs},
		{"duplicate link", CodeDuplicateID, "t.inp:13", strings.Replace(tiny, " P2  J1  J2", " P1  J1  J2", 1), crs},
		{"duplicate coordinates", CodeDuplicateID, "t.inp:21", strings.Replace(tiny, "[VERTICES]", " J3 1 1\n[VERTICES]", 1), crs},
		{"bad status", CodeBadStatus, "t.inp:13", strings.Replace(tiny, "0  Closed", "0  Shut", 1), crs},
		{"bad valve type", CodeBadValveType, "t.inp:17", strings.Replace(tiny, "[COORDINATES]", "[VALVES]\n V1 J1 J3 100 XYZ 1\n[COORDINATES]", 1), crs},
		{"bad units", CodeBadUnits, "t.inp:24", strings.Replace(tiny, "Units LPS", "Units LITRES", 1), crs},
		{"no pipes", CodeNoPipes, "t.inp", "[JUNCTIONS]\n J1 0\n[COORDINATES]\n J1 0 0\n", crs},
		{"too large", CodeTooLarge, "t.inp", tiny, Options{SRID: 25831, MaxBytes: 100}},
		{"crs missing", CodeCRSMissing, "t.inp", tiny, Options{}},
		{"bad option", CodeBadOption, "t.inp", tiny, Options{SRID: 25831, Valves: "all"}},
		{"bad origin", CodeBadOption, "t.inp", tiny, Options{Origin: &orb.Point{200, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, _, err := readString(c.src, c.opt)
			var inv *gis.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v (%T), want *gis.InvalidError", err, err)
			}
			if ds != nil {
				t.Error("dataset returned with an error")
			}
			found := false
			for _, is := range inv.Issues {
				if is.Code == c.code {
					found = true
					if is.Where != c.where {
						t.Errorf("%s where = %q, want %q", c.code, is.Where, c.where)
					}
					if is.Msg == "" || is.Fix == "" {
						t.Errorf("issue without message or fix: %+v", is)
					}
				}
			}
			if !found {
				t.Errorf("issues %v, want code %s", inv.Issues, c.code)
			}
		})
	}
}

func TestCollectsAllErrors(t *testing.T) {
	src := strings.Replace(tiny, "P2  J1  J2", "P2  J1  J9", 1)
	src = strings.Replace(src, "P3  J2  J3  100", "P3  J2  J3  x", 1)
	_, _, err := readString(src, Options{})
	var inv *gis.InvalidError
	if !errors.As(err, &inv) || len(inv.Issues) != 3 {
		t.Fatalf("err = %v, want unknown node, bad number and crs.missing", err)
	}
	want := map[string]bool{CodeUnknownNode: true, CodeBadNumber: true, CodeCRSMissing: true}
	for _, is := range inv.Issues {
		if !want[is.Code] {
			t.Errorf("unexpected %v", is)
		}
	}
	for _, is := range inv.Issues {
		if is.Code == CodeCRSMissing && is.Msg != "EPANET coordinates are a local plane; pass --crs EPSG:N or --origin LON,LAT" {
			t.Errorf("crs.missing message %q", is.Msg)
		}
	}
}

func TestWarnings(t *testing.T) {
	src := strings.Replace(tiny, "[RESERVOIRS]", " J9 10 3\n[RESERVOIRS]", 1) // no coordinates, no link
	src = strings.Replace(src, "[VERTICES]", " ZZ 1 1\n[VERTICES]\n Q9 1 1", 1)
	src = strings.Replace(src, " Units LPS\n", "", 1)
	ds, warns, err := readString(src, Options{SRID: 25831})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{CodeUnplacedNode, CodeCoordUnknownNode, CodeVertexUnknown, CodeUnitsDefault} {
		if !hasCode(warns, code) {
			t.Errorf("no %s in %v", code, warns)
		}
	}
	if len(ds.Customers) != 2 {
		t.Errorf("customers %d", len(ds.Customers))
	}
	// Default units are GPM: 200 in diameter is DN5000.
	if ds.Pipes[0].DN != 5000 {
		t.Errorf("DN %d", ds.Pipes[0].DN)
	}
}

func TestSchematicWithCRSWarns(t *testing.T) {
	src := strings.Replace(tiny, "100  200  100", "100000  200  100", 1)
	src = strings.Replace(src, "P3  J2  J3  100", "P3  J2  J3  100000", 1)
	src = strings.Replace(src, "P4  J1  J3  100", "P4  J1  J3  100000", 1)
	src = strings.Replace(src, "P2  J1  J2  100", "P2  J1  J2  100000", 1)
	_, warns, err := readString(src, Options{SRID: 25831})
	if err != nil {
		t.Fatal(err)
	}
	if !hasCode(warns, CodeSchematicCRS) {
		t.Errorf("warnings %v", warns)
	}
}

func TestTokens(t *testing.T) {
	got := tokens(" a\tb  \"c d\" e;f g\r")
	if strings.Join(got, "|") != "a|b|c d|e" {
		t.Errorf("tokens = %q", got)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("[JUNCTIONS]\n")
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&b, "J%d x\n", i)
	}
	_, _, err := readString(b.String(), Options{SRID: 25831})
	var inv *gis.InvalidError
	if !errors.As(err, &inv) {
		t.Fatal(err)
	}
	if n := len(inv.Issues); n != maxIssues+1 || inv.Issues[n-1].Code != CodeTooManyErrors {
		t.Errorf("%d issues, last %v", n, inv.Issues[n-1])
	}
}

func TestMoreWarnings(t *testing.T) {
	src := `[JUNCTIONS]
 A 0 0
 B 0 0
 C 0 1
 D 0 0
 E 0 0
 F 0 0
 G 0 0
[PIPES]
 P1 A B 100 100 100
 P2 E G 100 100 100
[PUMPS]
 PU C D HEAD 1
[STATUS]
 NOPE Closed
[COORDINATES]
 A 0 0
 B 100 0
 C 0 50
 D 0 60
 E 50 0.01
 F 100 0.02
 G 50 80
[OPTIONS]
 UNITS LPS
`
	ds, warns, err := readString(src, Options{SRID: 25831, Origin: &orb.Point{0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	// C: a demand but only a pump → customer on the pump; F: no link at all.
	for _, code := range []string{CodeStatusUnknown, CodePumpDNUnknown, CodeOriginIgnored, CodeCoincidentNodes, CodeNodeOnLink} {
		if !hasCode(warns, code) {
			t.Errorf("no %s in %v", code, warns)
		}
	}
	if len(ds.Customers) != 1 || ds.Customers[0].Pipe != "PU" {
		t.Errorf("customers %+v", ds.Customers)
	}
	src = strings.Replace(src, " C 0 1\n", " C 0 1\n H 0 2\n", 1)
	src = strings.Replace(src, " G 50 80\n", " G 50 80\n H 9 9\n", 1)
	_, warns, err = readString(src, Options{SRID: 25831})
	if err != nil {
		t.Fatal(err)
	}
	if !hasCode(warns, CodeCustomerNoPipe) {
		t.Errorf("no %s in %v", CodeCustomerNoPipe, warns)
	}

	// Every node at one point: the scale cannot be measured.
	flat := "[JUNCTIONS]\n A 0\n B 0\n[PIPES]\n P A B 10 100 100\n[COORDINATES]\n A 5 5\n B 5 5\n[OPTIONS]\n UNITS LPS\n"
	ds, warns, err = readString(flat, Options{Origin: &orb.Point{0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if !hasCode(warns, CodeScaleUnknown) || ds.Pipes[0].Geom[0] != (orb.Point{0, 0}) {
		t.Errorf("warnings %v, geometry %v", warns, ds.Pipes[0].Geom)
	}
}
