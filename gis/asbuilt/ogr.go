package asbuilt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/ogr"
)

// Shapefile, GeoPackage and DXF are read with GDAL's ogr2ogr (Debian's
// gdal-bin), converted layer by layer to GeoJSON in their own CRS, and then
// mapped to the network model: lines are pipes, points are valves or
// hydrants by their attributes (or their layer), attributes by the names
// below or by Mapping.Attributes.

// attrAliases are the attribute names each property is known by (lower case).
var attrAliases = map[string][]string{
	"id":            {"id", "pipe_id", "pipeid", "编号", "管线编号", "管段编号", "code", "fid_"},
	"dn":            {"dn", "diameter", "管径", "口径", "规格", "size", "pipe_dn", "d_s", "管径mm"},
	"material":      {"material", "mat", "材质", "管材", "材料", "管线材料"},
	"status":        {"status", "状态"},
	"install_year":  {"install_year", "year", "建设年代", "埋设年代", "敷设年代", "竣工年份"},
	"kind":          {"kind", "type", "类型", "附属物", "feature", "类别"},
	"pipe":          {"pipe", "pipe_ref", "所在管段"},
	"normally_open": {"normally_open", "open", "常开"},
	"role":          {"role", "用途"},
	"district":      {"district", "片区"},
}

func findAttr(props map[string]any, key string, m *Mapping) (any, string, bool) {
	if m != nil {
		if a, ok := m.Attributes[key]; ok {
			for k, v := range props {
				if strings.EqualFold(k, a) {
					return v, k, true
				}
			}
			return nil, "", false
		}
	}
	for _, a := range attrAliases[key] {
		for k, v := range props {
			if strings.EqualFold(strings.TrimSpace(k), a) && v != nil {
				return v, k, true
			}
		}
	}
	return nil, "", false
}

func attrString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

var shapeMember = regexp.MustCompile(`(?i)\.(shp|shx|dbf|prj|cpg|qix|sbn|sbx|qpj)$`)

// extractShapefile unpacks a zipped shapefile's members into dir (flat,
// names sanitised, sizes bounded) and returns the .shp paths.
func extractShapefile(data []byte, name, dir string, lim Limits) ([]string, error) {
	zr, err := checkZip(data, name, lim)
	if err != nil {
		return nil, err
	}
	var shps []string
	var written int64
	for i, f := range zr.File {
		if f.FileInfo().IsDir() || !shapeMember.MatchString(f.Name) || strings.HasPrefix(filepath.Base(f.Name), ".") {
			continue
		}
		base := filepath.Base(strings.ReplaceAll(f.Name, "\\", "/"))
		ext := strings.ToLower(filepath.Ext(base))
		stem := strings.TrimSuffix(base, filepath.Ext(base))
		safe := regexp.MustCompile(`[^\p{L}\p{N}_\-]`).ReplaceAllString(stem, "_")
		if safe == "" {
			safe = fmt.Sprintf("layer%d", i)
		}
		out := filepath.Join(dir, safe+ext)
		rc, err := f.Open()
		if err != nil {
			return nil, fileError(CodeFileUnreadable, name, fmt.Sprintf("member %q cannot be read: %v", f.Name, err), "zip the shapefile again")
		}
		w, err := os.Create(out)
		if err != nil {
			rc.Close()
			return nil, err
		}
		n, err := io.Copy(w, io.LimitReader(rc, lim.MaxUnzipped-written+1))
		rc.Close()
		w.Close()
		written += n
		if err != nil {
			return nil, fileError(CodeFileUnreadable, name, fmt.Sprintf("member %q cannot be read (truncated or corrupt): %v", f.Name, err), "zip the shapefile again")
		}
		if written > lim.MaxUnzipped {
			return nil, fileError(CodeFileZipBomb, name, fmt.Sprintf("the archive expands to more than %d MiB", lim.MaxUnzipped>>20), "")
		}
		if ext == ".shp" {
			shps = append(shps, out)
		}
	}
	sort.Strings(shps)
	if len(shps) == 0 {
		return nil, fileError(CodeFileWrongType, name, "the ZIP archive holds no .shp file", "zip the .shp, .shx, .dbf and .prj of the layer together")
	}
	return shps, nil
}

// layers lists the layers of a data source with ogrinfo.
func ogrLayers(ctx context.Context, ogr2ogr, src string) ([]string, error) {
	info := filepath.Join(filepath.Dir(ogr2ogr), "ogrinfo")
	out, err := exec.CommandContext(ctx, info, "-ro", "-q", src).Output()
	if err != nil {
		return nil, err
	}
	var names []string
	re := regexp.MustCompile(`^\s*\d+:\s+(.+?)(\s+\([^()]*\))?\s*$`)
	for _, line := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	return names, nil
}

type ogrFeature struct {
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type ogrCollection struct {
	CRS      json.RawMessage `json:"crs"`
	Features []ogrFeature    `json:"features"`
}

func readOGR(name, format string, data []byte, opt ReadOptions) (*Delivery, error) {
	run, err := ogr.New(opt.OGR2OGR, "waterline-ogr-")
	var nf *ogr.NotFoundError
	if errors.As(err, &nf) {
		return nil, fileError(CodeGDALMissing, name, "reading "+format+" needs GDAL's ogr2ogr, which is not installed on the server",
			"install Debian's gdal-bin (apt-get install gdal-bin), or convert the file to Network GeoJSON")
	}
	if err != nil {
		return nil, err
	}
	defer run.Close()
	dir := run.Dir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type src struct{ path, layer string }
	var srcs []src
	switch format {
	case FormatShapefile:
		shps, err := extractShapefile(data, name, dir, opt.Limits)
		if err != nil {
			return nil, err
		}
		for _, s := range shps {
			srcs = append(srcs, src{s, ""})
		}
	case FormatGPKG, FormatDXF:
		p := filepath.Join(dir, "input."+format)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		names, err := ogrLayers(ctx, run.Program(), p)
		if err != nil || len(names) == 0 {
			return nil, fileError(CodeFileUnreadable, name, fmt.Sprintf("GDAL cannot open the %s file (truncated or corrupt)", format), "export it again from the GIS or CAD program")
		}
		for _, n := range names {
			srcs = append(srcs, src{p, n})
		}
	}
	ds := &gis.Dataset{Name: name}
	d := &Delivery{File: name, Format: format, Built: &Built{Dataset: ds, PointAt: map[string]orb.Point{}, PipeOf: map[string][2]string{}, Refs: map[string][]int{}}}
	is := &issues{cap: opt.Limits.MaxIssues}
	fileSRID := 0
	seen := map[string]bool{}
	nfeat := 0
	for _, s := range srcs {
		layerName := s.layer
		if layerName == "" {
			layerName = strings.TrimSuffix(filepath.Base(s.path), filepath.Ext(s.path))
		}
		raw, err := convertLayer(ctx, run, s.path, s.layer)
		var oe *ogr.Error
		switch {
		case errors.As(err, &oe) && oe.NoOutput:
			return nil, oe.Err
		case errors.As(err, &oe):
			return nil, fileError(CodeFileUnreadable, name+"["+layerName+"]", "GDAL cannot read the layer: "+oe.Detail(), "export it again from the GIS or CAD program")
		case err != nil:
			return nil, err
		}
		var fc ogrCollection
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&fc); err != nil {
			return nil, fileError(CodeFileUnreadable, name+"["+layerName+"]", "GDAL's output cannot be read: "+err.Error(), "")
		}
		if len(fc.CRS) > 0 && string(fc.CRS) != "null" {
			var c struct {
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			_ = json.Unmarshal(fc.CRS, &c)
			if srid, ok := netjson.ParseCRSName(c.Properties.Name); ok {
				if fileSRID != 0 && fileSRID != srid {
					is.add(Issue{Severity: SevError, Code: CodeCRSUnknown, Where: name + "[" + layerName + "]",
						Msg: fmt.Sprintf("layers are in different CRSs (EPSG:%d and EPSG:%d)", fileSRID, srid), Fix: "export every layer in one CRS"})
				}
				fileSRID = srid
			}
		}
		layerKind := ""
		if opt.Mapping != nil {
			layerKind = opt.Mapping.Layers[layerName]
		}
		if layerKind == "ignore" {
			continue
		}
		for fi, f := range fc.Features {
			nfeat++
			if nfeat > opt.Limits.MaxRows {
				return nil, fileError(CodeFileTooLarge, name, fmt.Sprintf("more than %d features", opt.Limits.MaxRows), "split the delivery")
			}
			where := fmt.Sprintf("%s[%s]: feature %d", name, layerName, fi+1)
			d.mapFeature(f, fi, layerName, layerKind, where, opt, is, seen)
		}
	}
	d.Issues = is.done(name)
	// The CRS: the one named (it wins, with a warning if the file says
	// otherwise), else the file's, else detected from the numbers.
	switch {
	case !opt.CRS.IsZero():
		d.CRS = opt.CRS
		if fileSRID != 0 && opt.CRS.SRID != 0 && opt.CRS.SRID != fileSRID {
			d.Issues = append(d.Issues, Issue{Severity: SevWarning, Code: CodeCRSAssumed, Where: name,
				Msg: fmt.Sprintf("the file says EPSG:%d but %s was named; the named CRS is used", fileSRID, opt.CRS.Name()), Fix: "drop --crs to use the file's CRS"})
		}
	case fileSRID != 0:
		d.CRS = CRS{SRID: fileSRID}
	}
	if d.CRS.Proj == "" && d.CRS.Local == "" && (d.CRS.SRID == 0 || isGK3Plain(d.CRS.SRID) || isGK3Prefixed(d.CRS.SRID)) {
		var xs, ys []float64 // as a survey table: northing, easting
		visitDataset(ds, func(p *orb.Point) { xs = append(xs, p[1]); ys = append(ys, p[0]) })
		dec := DetectCRS(xs, ys, d.CRS, opt.StorageSRID, name)
		d.CRS, d.Swap = dec.CRS, dec.Swap
		d.Issues = append(d.Issues, dec.Issues...)
		if d.Swap {
			visitDataset(ds, func(p *orb.Point) { p[0], p[1] = p[1], p[0] })
		}
	}
	ds.SRID, ds.Proj = d.CRS.SRID, d.CRS.Proj
	if len(ds.Pipes)+len(ds.Valves)+len(ds.Hydrants) == 0 {
		d.Issues = append(d.Issues, Issue{Severity: SevError, Code: CodeFileEmpty, Where: name, Msg: "no pipe, valve or hydrant could be read from the file", Fix: "check the layer mapping"})
	}
	return d, nil
}

// convertLayer converts layer ("": the only one) of the data source at src
// to GeoJSON with run and returns it. Errors: *ogr.Error when ogr2ogr
// fails or writes nothing, else the error of reading its output.
func convertLayer(ctx context.Context, run *ogr.Runner, src, layer string) ([]byte, error) {
	f, err := run.ToGeoJSON(ctx, src, ogr.Options{Layer: layer})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func visitDataset(ds *gis.Dataset, f func(p *orb.Point)) {
	for i := range ds.Pipes {
		for k := range ds.Pipes[i].Geom {
			f(&ds.Pipes[i].Geom[k])
		}
	}
	for i := range ds.Valves {
		f(&ds.Valves[i].Geom)
	}
	for i := range ds.Hydrants {
		f(&ds.Hydrants[i].Geom)
	}
}

func parsePositions(raw json.RawMessage, depth int) ([][][]float64, error) {
	switch depth {
	case 0:
		var p []float64
		err := json.Unmarshal(raw, &p)
		return [][][]float64{{p}}, err
	case 1:
		var l [][]float64
		err := json.Unmarshal(raw, &l)
		return [][][]float64{l}, err
	default:
		var ml [][][]float64
		err := json.Unmarshal(raw, &ml)
		return ml, err
	}
}

// mapFeature turns one GDAL feature into a pipe, valve or hydrant.
func (d *Delivery) mapFeature(f ogrFeature, fi int, layer, layerKind, where string, opt ReadOptions, is *issues, seen map[string]bool) {
	ds := d.Dataset
	m := opt.Mapping
	bad := func(msg string) {
		is.add(Issue{Severity: SevWarning, Code: CodeFeatureBad, Where: where, Msg: msg + "; the feature is skipped", Fix: "give it a line or point geometry, or map its layer"})
	}
	if f.Geometry == nil {
		bad("no geometry")
		return
	}
	props := f.Properties
	if props == nil {
		props = map[string]any{}
	}
	kind := layerKind
	kindWord := ""
	if v, _, ok := findAttr(props, "kind", m); ok {
		kindWord = attrString(v)
	}
	if kind == "" {
		switch strings.ToLower(kindWord) {
		case "pipe", "管线", "管段":
			kind = "pipe"
		case "valve":
			kind = "valve"
		case "hydrant":
			kind = "hydrant"
		}
	}
	id := ""
	if v, _, ok := findAttr(props, "id", m); ok {
		id = attrString(v)
	}
	if id == "" {
		id = fmt.Sprintf("%s%s-%d", opt.Build.IDPrefix, layer, fi+1)
	}
	extra := map[string]any{"layer": layer}
	var depth int
	switch f.Geometry.Type {
	case "Point":
		depth = 0
	case "LineString":
		depth = 1
	case "MultiLineString":
		depth = 2
	default:
		bad(fmt.Sprintf("a %s geometry", f.Geometry.Type))
		return
	}
	parts, err := parsePositions(f.Geometry.Coordinates, depth)
	if err != nil {
		bad("unreadable coordinates")
		return
	}
	toLine := func(ps [][]float64) (orb.LineString, []float64, bool) {
		ls := make(orb.LineString, 0, len(ps))
		var z []float64
		for _, p := range ps {
			if len(p) < 2 {
				return nil, nil, false
			}
			ls = append(ls, orb.Point{p[0], p[1]})
			if len(p) >= 3 {
				z = append(z, p[2])
			}
		}
		if len(z) != len(ls) {
			z = nil
		}
		return ls, z, len(ls) >= 1
	}
	if depth == 0 {
		pt, _, ok := toLine(parts[0])
		if !ok {
			bad("unreadable coordinates")
			return
		}
		if kind == "" {
			kind = ClassifyAppurtenance(kindWord, m)
			if kind == "" {
				kind = ClassifyAppurtenance(layer, m)
			}
		}
		pipe := ""
		if v, _, ok := findAttr(props, "pipe", m); ok {
			pipe = attrString(v)
		}
		dn := 0
		if v, _, ok := findAttr(props, "dn", m); ok {
			dn, _, _ = ParseDN(attrString(v))
		}
		if kindWord != "" {
			extra["type"] = kindWord
		}
		switch kind {
		case AppValve:
			if seen["valve:"+id] {
				is.add(Issue{Severity: SevError, Code: CodeFeatureBad, Where: where, Feature: "valve:" + id, Msg: "a second valve with id " + id, Fix: "give every valve its own id"})
				return
			}
			seen["valve:"+id] = true
			open := true
			if v, _, ok := findAttr(props, "normally_open", m); ok {
				s := strings.ToLower(attrString(v))
				open = !(s == "false" || s == "0" || s == "no" || s == "否" || s == "常闭")
			}
			ds.Valves = append(ds.Valves, gis.Valve{ID: id, Pipe: pipe, DN: dn, NormallyOpen: open, Operable: true, Geom: pt[0], Extra: extra,
				Src: gis.Ref{File: where, Index: -1}})
		case AppHydrant:
			if seen["hydrant:"+id] {
				is.add(Issue{Severity: SevError, Code: CodeFeatureBad, Where: where, Feature: "hydrant:" + id, Msg: "a second hydrant with id " + id, Fix: "give every hydrant its own id"})
				return
			}
			seen["hydrant:"+id] = true
			ds.Hydrants = append(ds.Hydrants, gis.Hydrant{ID: id, Pipe: pipe, Geom: pt[0], Extra: extra, Src: gis.Ref{File: where, Index: -1}})
		default:
			bad(fmt.Sprintf("a point of layer %q that is neither a valve nor a hydrant (kind %q)", layer, kindWord))
		}
		return
	}
	if kind != "" && kind != "pipe" {
		bad(fmt.Sprintf("a line in a %s layer", kind))
		return
	}
	dn, section, okDN := 0, "", true
	dnText := ""
	if v, _, ok := findAttr(props, "dn", m); ok {
		dnText = attrString(v)
		dn, section, okDN = ParseDN(dnText)
	}
	mat := ""
	if v, _, ok := findAttr(props, "material", m); ok {
		mat = attrString(v)
	}
	status := gis.StatusInService
	if v, _, ok := findAttr(props, "status", m); ok {
		switch s := attrString(v); s {
		case gis.StatusAbandoned, gis.StatusPlanned, gis.StatusInService:
			status = s
		case "废弃":
			status = gis.StatusAbandoned
		case "规划", "设计":
			status = gis.StatusPlanned
		}
	}
	year := opt.Build.InstallYear
	if v, _, ok := findAttr(props, "install_year", m); ok {
		if y, err := strconv.Atoi(strings.TrimSpace(attrString(v))); err == nil && y > 1800 && y < 2200 {
			year = y
		}
	}
	role, district := "", ""
	if v, _, ok := findAttr(props, "role", m); ok {
		role = attrString(v)
	}
	if v, _, ok := findAttr(props, "district", m); ok {
		district = attrString(v)
	}
	if section != "" {
		extra["section"] = section
	}
	if !okDN {
		extra["dn_text"] = dnText
		dn = 0
	}
	for k, part := range parts {
		ls, z, ok := toLine(part)
		if !ok || len(ls) < 2 {
			bad("a line with fewer than two points")
			continue
		}
		pid := id
		if len(parts) > 1 {
			pid = fmt.Sprintf("%s/%d", id, k+1)
		}
		if seen["pipe:"+pid] {
			is.add(Issue{Severity: SevError, Code: CodeFeatureBad, Where: where, Feature: "pipe:" + pid, Msg: "a second pipe with id " + pid, Fix: "give every pipe its own id"})
			continue
		}
		seen["pipe:"+pid] = true
		e := map[string]any{}
		for k, v := range extra {
			e[k] = v
		}
		if !okDN {
			e["dn_invalid"] = true
		}
		ds.Pipes = append(ds.Pipes, gis.Pipe{ID: pid, DN: dn, Material: mat, Status: status, InstallYear: year, Role: role, District: district,
			Geom: ls, Z: z, Extra: e, Src: gis.Ref{File: where, Index: -1}})
	}
}
