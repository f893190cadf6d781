package asbuilt

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// CRS names the coordinate system of a delivery: an EPSG code, a PROJ
// definition, or a local system registered by an admin (Local, resolved
// to Proj by the store).
type CRS struct {
	SRID  int    `json:"srid,omitempty"`
	Proj  string `json:"proj,omitempty"`
	Local string `json:"local,omitempty"`
}

// Name renders the CRS as a user writes it.
func (c CRS) Name() string {
	switch {
	case c.Local != "":
		return "local:" + c.Local
	case c.SRID != 0:
		return "EPSG:" + strconv.Itoa(c.SRID)
	case c.Proj != "":
		return c.Proj
	}
	return ""
}

// IsZero reports whether no CRS is named.
func (c CRS) IsZero() bool { return c.SRID == 0 && c.Proj == "" && c.Local == "" }

// ParseCRS reads "EPSG:4548", "4548", "urn:ogc:def:crs:EPSG::4548", a
// PROJ definition ("+proj=tmerc …") or "local:NAME" (a system an admin
// registered). Empty gives the zero CRS.
func ParseCRS(s string) (CRS, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return CRS{}, nil
	}
	if strings.HasPrefix(s, "+") || strings.HasPrefix(strings.ToLower(s), "proj=") {
		return CRS{Proj: s}, nil
	}
	if strings.HasPrefix(strings.ToLower(s), "local:") {
		name := strings.TrimSpace(s[len("local:"):])
		if name == "" {
			return CRS{}, fmt.Errorf("asbuilt: %q names no local system", s)
		}
		return CRS{Local: name}, nil
	}
	u := strings.ToUpper(s)
	if i := strings.LastIndex(u, ":"); i >= 0 && (strings.HasPrefix(u, "EPSG:") || strings.HasPrefix(u, "URN:OGC:DEF:CRS:EPSG:")) {
		u = u[i+1:]
	}
	n, err := strconv.Atoi(u)
	if err != nil || n <= 0 || n > 999999 {
		return CRS{}, fmt.Errorf("asbuilt: CRS %q: want EPSG:N, a PROJ definition or local:NAME", s)
	}
	return CRS{SRID: n}, nil
}

// CGCS2000 Gauss-Krüger families (EPSG): 3-degree zones 25–45 with the
// zone prefix are 4513–4533, without it (CM 75°E–135°E) 4534–4554; 6-degree
// zones 13–23 with the prefix are 4491–4501, without it 4502–4512.
func gk3Prefixed(zone int) int    { return 4513 + zone - 25 }
func gk3Plain(zone int) int       { return 4534 + zone - 25 }
func gk6Prefixed(zone int) int    { return 4491 + zone - 13 }
func gk6Plain(zone int) int       { return 4502 + zone - 13 }
func isGK3Prefixed(srid int) bool { return srid >= 4513 && srid <= 4533 }
func isGK3Plain(srid int) bool    { return srid >= 4534 && srid <= 4554 }
func isGK6Prefixed(srid int) bool { return srid >= 4491 && srid <= 4501 }
func isGK6Plain(srid int) bool    { return srid >= 4502 && srid <= 4512 }
func isGeographic(srid int) bool  { return srid == 4326 || srid == 4490 || srid == 4214 || srid == 4610 }

// gkZone returns the zone of a Gauss-Krüger CRS and whether it is 3-degree.
func gkZone(srid int) (zone int, three bool, ok bool) {
	switch {
	case isGK3Prefixed(srid):
		return srid - 4513 + 25, true, true
	case isGK3Plain(srid):
		return srid - 4534 + 25, true, true
	case isGK6Prefixed(srid):
		return srid - 4491 + 13, false, true
	case isGK6Plain(srid):
		return srid - 4502 + 13, false, true
	}
	return 0, false, false
}

// CRSDecision is what DetectCRS settled: the CRS to use, whether the X and
// Y columns are swapped, and what it had to say about it.
type CRSDecision struct {
	CRS    CRS
	Swap   bool    // the table's X column holds eastings: use X as easting
	Issues []Issue // warnings (swapped, zone prefix, assumed) or errors
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c[len(c)/2]
}

func looksNorthing(v float64) bool { return v >= 1e6 && v <= 7e6 }
func looksEasting(v float64) bool  { return (v >= 1e5 && v <= 9e5) || (v >= 13e6 && v < 64e6) }
func looksLat(v float64) bool      { return v >= -90 && v <= 90 }
func looksLon(v float64) bool      { return v >= -180 && v <= 180 }
func hasZonePrefix(e float64) bool { return e >= 13e6 && e < 64e6 }
func zoneOf(e float64) int         { return int(e / 1e6) }
func fmtCoord(v float64) string    { return strconv.FormatFloat(v, 'f', 3, 64) }

// DetectCRS looks at a point table's coordinates as written (xs: the X
// column, which Chinese surveys use for the northing; ys: the Y column) and
// settles the CRS: the declared one, adjusted when the eastings carry a
// zone prefix it does not expect (or lack one it does); or, when none is
// declared, one inferred from the numbers (a zone prefix names its zone;
// degrees are CGCS2000 geographic; plain Gauss-Krüger numbers take
// fallback, the deployment's storage CRS). It detects X and Y swapped. A
// local or PROJ-defined CRS is taken as declared. where locates the issues.
func DetectCRS(xs, ys []float64, declared CRS, fallback int, where string) CRSDecision {
	d := CRSDecision{CRS: declared}
	if declared.Local != "" || declared.Proj != "" || len(xs) == 0 {
		if declared.IsZero() {
			d.CRS = CRS{SRID: fallback}
		}
		return d
	}
	mx, my := median(xs), median(ys)
	warn := func(code, msg, fix string) {
		d.Issues = append(d.Issues, Issue{Severity: SevWarning, Code: code, Where: where, Msg: msg, Fix: fix})
	}
	fail := func(code, msg, fix string) {
		d.Issues = append(d.Issues, Issue{Severity: SevError, Code: code, Where: where, Msg: msg, Fix: fix})
	}
	north, east := mx, my
	geographic := looksLat(mx) && looksLon(my) && (declared.SRID == 0 || isGeographic(declared.SRID))
	swappedGeo := !looksLat(mx) && looksLon(mx) && looksLat(my)
	switch {
	case geographic || swappedGeo || (declared.SRID != 0 && isGeographic(declared.SRID)):
		if swappedGeo {
			d.Swap = true
			north, east = my, mx
			warn(CodeCRSSwappedXY, fmt.Sprintf("the X column holds longitudes (median %.6f) and Y latitudes (%.6f); they were swapped back", mx, my),
				"in a survey table X is the latitude/northing and Y the longitude/easting: swap the two columns in the file")
		}
		if !looksLat(north) || !looksLon(east) {
			fail(CodeCRSImplausible, fmt.Sprintf("%s is geographic but the coordinates (X %s, Y %s) are not degrees", declared.Name(), fmtCoord(mx), fmtCoord(my)),
				"name the projected CRS the survey is in, e.g. --crs EPSG:4548")
			return d
		}
		if declared.IsZero() {
			d.CRS = CRS{SRID: 4490}
			warn(CodeCRSAssumed, "no CRS was given; the coordinates are degrees, taken as CGCS2000 geographic (EPSG:4490)",
				"pass --crs EPSG:4490 (or EPSG:4326 for WGS84) to say so")
		}
		return d
	}
	switch {
	case looksNorthing(mx) && looksEasting(my):
	case looksNorthing(my) && looksEasting(mx):
		d.Swap = true
		north, east = my, mx
		warn(CodeCRSSwappedXY, fmt.Sprintf("the X column holds eastings (median %s) and Y northings (%s); they were swapped back", fmtCoord(mx), fmtCoord(my)),
			"in a Chinese survey table X is the northing and Y the easting: swap the two columns in the file")
	default:
		if _, _, gk := gkZone(declared.SRID); gk && looksLat(mx) && looksLon(my) {
			fail(CodeCRSImplausible, fmt.Sprintf("%s is projected but the coordinates (X %s, Y %s) look like degrees", declared.Name(), fmtCoord(mx), fmtCoord(my)),
				"pass --crs EPSG:4490 (CGCS2000) or EPSG:4326 (WGS84)")
			return d
		}
		if declared.IsZero() && fallback == 0 {
			fail(CodeCRSMissing, fmt.Sprintf("no CRS was given and X %s, Y %s do not look like Gauss-Krüger or degrees", fmtCoord(mx), fmtCoord(my)),
				"pass the CRS, e.g. --crs EPSG:4548, or register the city's local system and pass --crs local:NAME")
			return d
		}
		if declared.IsZero() {
			d.CRS = CRS{SRID: fallback}
			warn(CodeCRSAssumed, fmt.Sprintf("no CRS was given; the deployment's EPSG:%d was assumed", fallback), fmt.Sprintf("pass --crs EPSG:%d to say so", fallback))
		}
		return d
	}
	_ = north
	prefixed := hasZonePrefix(east)
	zone := zoneOf(east)
	switch {
	case declared.IsZero():
		switch {
		case prefixed && zone >= 25 && zone <= 45:
			d.CRS = CRS{SRID: gk3Prefixed(zone)}
			warn(CodeCRSAssumed, fmt.Sprintf("no CRS was given; the eastings carry zone prefix %d, taken as CGCS2000 3-degree Gauss-Krüger zone %d (EPSG:%d)", zone, zone, d.CRS.SRID),
				fmt.Sprintf("pass --crs EPSG:%d to say so", d.CRS.SRID))
		case prefixed && zone >= 13 && zone <= 23:
			d.CRS = CRS{SRID: gk6Prefixed(zone)}
			warn(CodeCRSAssumed, fmt.Sprintf("no CRS was given; the eastings carry zone prefix %d, taken as CGCS2000 6-degree Gauss-Krüger zone %d (EPSG:%d)", zone, zone, d.CRS.SRID),
				fmt.Sprintf("pass --crs EPSG:%d to say so", d.CRS.SRID))
		case prefixed:
			fail(CodeCRSMissing, fmt.Sprintf("the eastings carry prefix %d, which is no Chinese Gauss-Krüger zone", zone), "pass the CRS with --crs EPSG:N")
		case fallback != 0:
			d.CRS = CRS{SRID: fallback}
			if z, three, ok := gkZone(fallback); ok && (isGK3Prefixed(fallback) || isGK6Prefixed(fallback)) {
				if three {
					d.CRS.SRID = gk3Plain(z)
				} else {
					d.CRS.SRID = gk6Plain(z)
				}
			}
			warn(CodeCRSAssumed, fmt.Sprintf("no CRS was given; Gauss-Krüger coordinates without a zone prefix, taken as EPSG:%d (the deployment's zone)", d.CRS.SRID),
				fmt.Sprintf("pass --crs EPSG:%d to say so", d.CRS.SRID))
		default:
			fail(CodeCRSMissing, "no CRS was given", "pass the CRS, e.g. --crs EPSG:4548")
		}
	default:
		z, three, ok := gkZone(declared.SRID)
		if !ok {
			if prefixed {
				warn(CodeCRSZonePrefix, fmt.Sprintf("the eastings carry what looks like zone prefix %d (median %s) but %s is not a Gauss-Krüger zone system", zone, fmtCoord(east), declared.Name()),
					"check the CRS: for CGCS2000 with the zone prefix use EPSG:4513–4533")
			}
			return d
		}
		declPrefixed := isGK3Prefixed(declared.SRID) || isGK6Prefixed(declared.SRID)
		switch {
		case prefixed && !declPrefixed:
			if zone != z {
				fail(CodeCRSImplausible, fmt.Sprintf("the eastings carry zone prefix %d but %s is zone %d", zone, declared.Name(), z),
					fmt.Sprintf("pass the CRS of zone %d (e.g. --crs EPSG:%d)", zone, gk3Prefixed(zone)))
				return d
			}
			n := gk3Prefixed(z)
			if !three {
				n = gk6Prefixed(z)
			}
			d.CRS = CRS{SRID: n}
			warn(CodeCRSZonePrefix, fmt.Sprintf("the eastings carry zone prefix %d (e.g. %s) but %s has none; read as EPSG:%d, the same zone with the prefix", zone, fmtCoord(east), declared.Name(), n),
				fmt.Sprintf("pass --crs EPSG:%d, or remove the leading %d from the Y column", n, zone))
		case !prefixed && declPrefixed:
			n := gk3Plain(z)
			if !three {
				n = gk6Plain(z)
			}
			d.CRS = CRS{SRID: n}
			warn(CodeCRSZonePrefix, fmt.Sprintf("%s expects eastings with zone prefix %d but they have none (e.g. %s); read as EPSG:%d, the same zone without it", declared.Name(), z, fmtCoord(east), n),
				fmt.Sprintf("pass --crs EPSG:%d", n))
		case prefixed && declPrefixed && zone != z:
			fail(CodeCRSImplausible, fmt.Sprintf("the eastings carry zone prefix %d but %s is zone %d", zone, declared.Name(), z),
				fmt.Sprintf("pass the CRS of zone %d (e.g. --crs EPSG:%d)", zone, gk3Prefixed(zone)))
		}
	}
	return d
}
