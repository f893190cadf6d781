package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/epanet"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// parseCRS reads "EPSG:4548", "epsg:4548" or "4548".
func parseCRS(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "EPSG:")
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return 0, usageError{fmt.Sprintf("--crs %q: want EPSG:N", s)}
	}
	return n, nil
}

// parsePair reads "X,Y".
func parsePair(s, name string) (orb.Point, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return orb.Point{}, usageError{fmt.Sprintf("%s %q: want X,Y", name, s)}
	}
	var p orb.Point
	for i, v := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return p, usageError{fmt.Sprintf("%s %q: %q is not a number", name, s, v)}
		}
		p[i] = f
	}
	return p, nil
}

// detectFormat guesses a file's format from its name.
func detectFormat(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".inp":
		return "epanet"
	case ".geojson", ".json":
		return "geojson"
	case ".xlsx", ".xlsm", ".csv", ".txt", ".zip", ".gpkg", ".dxf":
		return "asbuilt"
	}
	return ""
}

// readNetwork reads a network file of any supported format.
func readNetwork(e *env, path, format string, opts readOpts) (*gis.Dataset, []gis.Issue, error) {
	if format == "" || format == "auto" {
		format = detectFormat(path)
		if format == "" {
			return nil, nil, usageError{fmt.Sprintf("%s: cannot tell the format from the name; pass --format geojson|epanet", path)}
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if opts.maxBytes > 0 && st.Size() > opts.maxBytes {
		return nil, nil, fmt.Errorf("%s: the file is %d MiB, larger than the limit of %d MiB (--max-size)", path, st.Size()>>20, opts.maxBytes>>20)
	}
	var r io.Reader = f
	var bar *progressbar.ProgressBar
	if e.isTTY && st.Size() > 8<<20 {
		bar = progressbar.DefaultBytes(st.Size(), "reading "+filepath.Base(path))
		defer bar.Finish() //nolint:errcheck
	}
	name := filepath.Base(path)
	switch format {
	case "geojson":
		var progress func(int64)
		if bar != nil {
			progress = func(n int64) { bar.Set64(n) } //nolint:errcheck
		}
		return netjson.Read(r, netjson.Options{Name: name, SRID: opts.srid, MaxBytes: opts.maxBytes, Progress: progress})
	case "epanet":
		if bar != nil {
			r = io.TeeReader(r, bar)
		}
		o := epanet.Options{Name: name, SRID: opts.srid, Units: opts.units, Valves: opts.valves, Seed: opts.seed, MaxBytes: opts.maxBytes}
		if opts.origin != nil {
			o.Origin = opts.origin
		}
		return epanet.Read(r, o)
	}
	return nil, nil, usageError{fmt.Sprintf("unknown format %q: want geojson or epanet", format)}
}

type readOpts struct {
	srid     int
	origin   *orb.Point
	units    string
	valves   string
	seed     int64
	maxBytes int64
}

func printIssues(w io.Writer, title string, issues []gis.Issue, max int) {
	if len(issues) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):\n", title, len(issues))
	for i, is := range issues {
		if i == max {
			fmt.Fprintf(w, "  ... and %d more (use --json for all)\n", len(issues)-max)
			break
		}
		fmt.Fprintf(w, "  %s\n", is.String())
	}
}

func cmdImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "[flags] FILE\n       waterline import --roads [--crs EPSG:N] [--highways LIST] FILE   (a road network: GeoJSON lines, OSM .osm/.pbf, shapefile, GeoPackage)")
	ec := bindConfig(fs, e.getenv, false)
	format := fs.String("format", "auto", "file format: auto, geojson (Network GeoJSON), epanet (.inp) or asbuilt (a survey: .xlsx/.csv point table, zipped shapefile, .gpkg, .dxf)")
	crs := fs.String("crs", "", "CRS of the file's coordinates, EPSG:N (when the file names none)")
	origin := fs.String("origin", "", "EPANET: place the model's local plane at LON,LAT")
	units := fs.String("units", "", "EPANET: unit of the local plane's coordinates with --origin: m or ft (default: the model's length unit)")
	valves := fs.String("valves", "", "EPANET: generate isolation valves: n-1")
	seed := fs.Int64("seed", 1, "EPANET: seed of the generated valve layer")
	dry := fs.Bool("dry-run", false, "validate and report; write nothing")
	replace := fs.Bool("replace", false, "the file is the whole network (default: merge by id into the stored one)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	maxSize := fs.Int64("max-size", 1024, "refuse files larger than this many MiB")
	ab := bindAsbuiltFlags(fs, e)
	rf := bindRoadFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{"want exactly one FILE"}
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	ro := readOpts{units: *units, valves: *valves, seed: *seed, maxBytes: *maxSize << 20}
	if ro.srid, err = parseCRS(*crs); err != nil {
		return err
	}
	if *origin != "" {
		p, err := parsePair(*origin, "--origin")
		if err != nil {
			return err
		}
		ro.origin = &p
	}
	if *valves != "" && *valves != "n-1" {
		return usageError{fmt.Sprintf("--valves %q: the only layer is n-1", *valves)}
	}
	path := fs.Arg(0)
	if *rf.roads {
		return importRoads(ctx, e, cfg, path, *crs, *asJSON, rf)
	}
	if *format == "asbuilt" || (*format == "auto" && detectFormat(path) == "asbuilt") || ab.used() {
		return importAsbuilt(ctx, e, cfg, path, *crs, *dry, *asJSON, ab)
	}
	ds, warns, err := readNetwork(e, path, *format, ro)
	if err != nil {
		var inv *gis.InvalidError
		if errors.As(err, &inv) {
			printIssues(e.stderr, "errors in "+path+"; nothing was imported", inv.Issues, 50)
			return fmt.Errorf("%s: %d errors", path, len(inv.Issues))
		}
		return err
	}
	log := logger(e)
	pool, st, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	var progress func(string)
	if e.isTTY && !*asJSON {
		progress = func(stage string) { fmt.Fprintf(e.stderr, "  %s…\n", stage) }
	}
	fmtName := *format
	if fmtName == "auto" {
		fmtName = detectFormat(path)
	}
	res, err := st.Import(ctx, ds, store.ImportOptions{File: filepath.Base(path), Format: fmtName, Replace: *replace, DryRun: *dry, Progress: progress})
	if err != nil {
		return err
	}
	res.Warnings = append(warns, res.Warnings...)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	verb := "imported"
	if *dry {
		verb = "checked (dry run, nothing written)"
	}
	c := res.Counts
	fmt.Fprintf(e.stdout, "%s %s: %d pipes, %d valves, %d sources, %d hydrants, %d connections, %d customers, %d districts\n",
		verb, path, c["pipe"], c["valve"], c["source"], c["hydrant"], c["connection"], c["customer"], c["district"])
	t := res.Topology
	fmt.Fprintf(e.stdout, "topology: %d junctions, %d tees, %d pieces, %d valve-bounded segments\n", t["junctions"], t["tees"], t["pieces"], t["segments"])
	for k, v := range res.Prov {
		fmt.Fprintf(e.stdout, "provenance: %s: %s\n", k, v)
	}
	if !*dry {
		fmt.Fprintf(e.stdout, "network version %d (import %d) in %s\n", res.Version, res.ID, res.Elapsed.Round(1e6))
	}
	printIssues(e.stdout, "warnings", res.Warnings, 20)
	return nil
}

func cmdExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "[-o FILE]")
	ec := bindConfig(fs, e.getenv, false)
	out := fs.String("o", "", "write to FILE (default: standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	pool, st, err := open(ctx, cfg, logger(e))
	if err != nil {
		return err
	}
	defer pool.Close()
	ds, err := st.Export(ctx)
	if err != nil {
		return err
	}
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := netjson.Write(w, ds); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "exported %d pipes to %s\n", len(ds.Pipes), *out)
	}
	return nil
}
