package netjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/waterline-gis/waterline/gis"
)

// crs reads the legacy top-level crs member (GeoJSON 2008, as GDAL writes it).
func (rd *reader) crs(raw []byte) {
	if isNull(raw) {
		return
	}
	var c struct {
		Type       string `json:"type"`
		Properties struct {
			Name *string         `json:"name"`
			Code json.RawMessage `json:"code"`
			Href string          `json:"href"`
		} `json:"properties"`
	}
	bad := func(msg string) {
		rd.crsBad = true
		rd.fileErr(CodeCRSUnknown, msg,
			`name the CRS as "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::<code>"}}, or drop the crs member and pass --crs EPSG:<code>`)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		bad(fmt.Sprintf("the crs member %s is not understood", shorten(raw)))
		return
	}
	switch strings.ToLower(c.Type) {
	case "name":
		if c.Properties.Name == nil {
			bad("the crs member has no properties.name")
			return
		}
		srid, ok := ParseCRSName(*c.Properties.Name)
		if !ok {
			bad(fmt.Sprintf("unknown CRS name %q in the crs member", *c.Properties.Name))
			return
		}
		rd.fileSRID = srid
	case "epsg": // pre-2008 GeoJSON: {"type": "EPSG", "properties": {"code": 25831}}
		code, err := strconv.Atoi(strings.Trim(string(c.Properties.Code), `"`))
		if err != nil || code <= 0 {
			bad(fmt.Sprintf("unknown EPSG code %s in the crs member", shorten(c.Properties.Code)))
			return
		}
		rd.fileSRID = code
	case "link":
		bad(fmt.Sprintf("the crs member links to %q; linked CRS definitions are not supported", c.Properties.Href))
	default:
		bad(fmt.Sprintf("the crs member has type %q; only \"name\" is supported", c.Type))
	}
}

// ParseCRSName returns the EPSG code of a CRS name as found in a GeoJSON
// crs member or given on a command line: "urn:ogc:def:crs:EPSG::25831"
// (a version between the colons is allowed), "EPSG:25831",
// "http://www.opengis.net/def/crs/EPSG/0/25831", and the OGC CRS84 names
// ("urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84", "CRS84"), which are 4326
// with longitude first. Matching ignores case. ok is false for anything else.
func ParseCRSName(name string) (srid int, ok bool) {
	u := strings.ToUpper(strings.TrimSpace(name))
	var auth, code string
	switch {
	case strings.HasPrefix(u, "URN:OGC:DEF:CRS:"):
		parts := strings.Split(u, ":")
		// urn:ogc:def:crs:AUTH:[VERSION]:CODE; the version is often empty,
		// and sometimes its colon is missing too.
		if len(parts) != 6 && len(parts) != 7 {
			return 0, false
		}
		auth, code = parts[4], parts[len(parts)-1]
	case strings.HasPrefix(u, "HTTP://WWW.OPENGIS.NET/DEF/CRS/"), strings.HasPrefix(u, "HTTPS://WWW.OPENGIS.NET/DEF/CRS/"):
		parts := strings.Split(u[strings.Index(u, "/DEF/CRS/")+len("/DEF/CRS/"):], "/")
		if len(parts) != 3 {
			return 0, false
		}
		auth, code = parts[0], parts[2]
	case strings.HasPrefix(u, "EPSG:"):
		auth, code = "EPSG", u[len("EPSG:"):]
	case u == "CRS84" || u == "OGC:CRS84":
		auth, code = "OGC", "CRS84"
	default:
		return 0, false
	}
	switch auth {
	case "OGC":
		if code == "CRS84" {
			return 4326, true
		}
	case "EPSG":
		if len(code) == 0 || len(code) > 9 {
			return 0, false
		}
		for _, ch := range code {
			if ch < '0' || ch > '9' {
				return 0, false
			}
		}
		n, _ := strconv.Atoi(code)
		return n, n > 0
	}
	return 0, false
}

// finishCRS settles Dataset.SRID once every coordinate has been seen.
func (rd *reader) finishCRS() {
	user, file := rd.opt.SRID, rd.fileSRID
	if user != 0 && file != 0 && user != file {
		rd.fileErr(CodeCRSConflict,
			fmt.Sprintf("the file's crs member names EPSG:%d but --crs says EPSG:%d", file, user),
			"drop --crs to use the file's CRS, or correct the crs member of the file")
		return
	}
	switch {
	case user != 0:
		rd.ds.SRID = user
	case file != 0:
		rd.ds.SRID = file
	case rd.crsBad || rd.ds.Proj != "":
		// crs.unknown reported already, or a PROJ definition names the CRS.
	case rd.outIdx < 0:
		rd.ds.SRID = 4326 // RFC 7946: longitude/latitude on WGS84
	default:
		rd.addErr(gis.Issue{
			Code:  CodeCRSMissing,
			Where: gis.Ref{File: rd.name, Index: rd.outIdx}.String(),
			Msg: fmt.Sprintf("projected coordinates but no CRS named; add a crs member or pass --crs EPSG:N "+
				"(x=%s, y=%s is not a longitude/latitude)", fmtCoord(rd.outX), fmtCoord(rd.outY)),
			Fix: `add "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::<code>"}} to the file, or pass --crs EPSG:<code>`,
		})
	}
}

func fmtCoord(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// track records a coordinate for the longitude/latitude test.
func (rd *reader) track(x, y float64, idx int) {
	if rd.outIdx < 0 && (x < -180 || x > 180 || y < -90 || y > 90) {
		rd.outIdx, rd.outX, rd.outY = idx, x, y
	}
}
