package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/waterline-gis/waterline/gis/roads"
	"github.com/waterline-gis/waterline/gis/store"
)

// roadFlags are import's flags for a road network.
type roadFlags struct {
	roads    *bool
	highways *string
}

func bindRoadFlags(fs *flag.FlagSet) roadFlags {
	return roadFlags{
		roads: fs.Bool("roads", false, "the file is a road network for patrol deadheading (GeoJSON lines, OSM .osm/.pbf, shapefile, GeoPackage; "+
			"it replaces the stored roads; --crs applies, default EPSG:4326)"),
		highways: fs.String("highways", strings.Join(roads.DefaultClasses, ","),
			"with --roads: road classes kept (OSM highway=*, shapefile fclass), comma-separated, or all; motorways and trunks are not walkable"),
	}
}

// importRoads reads a road file and replaces the stored road network.
func importRoads(ctx context.Context, e *env, cfg *Config, path, crs string, asJSON bool, rf roadFlags) error {
	srid, err := parseCRS(crs)
	if err != nil {
		return err
	}
	var classes []string
	for _, c := range strings.Split(*rf.highways, ",") {
		if c = strings.TrimSpace(c); c != "" {
			classes = append(classes, c)
		}
	}
	if len(classes) == 0 {
		return usageError{"--highways: name at least one class, or all"}
	}
	progress := func(string) {}
	if e.isTTY && !asJSON {
		progress = func(stage string) { fmt.Fprintf(e.stderr, "  %s…\n", stage) }
	}
	progress("reading " + filepath.Base(path))
	res, err := roads.Read(ctx, path, roads.Options{SRID: srid, Classes: classes})
	if err != nil {
		return err
	}
	pool, st, err := open(ctx, cfg, logger(e))
	if err != nil {
		return err
	}
	defer pool.Close()
	out, err := st.ImportRoads(ctx, res.Roads, store.RoadImportOptions{File: filepath.Base(path), Format: res.Format, SRID: res.SRID,
		Counts: res.Counts, Progress: progress})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"import": out, "counts": res.Counts})
	}
	fmt.Fprintf(e.stdout, "imported %s: %d road lines, %.1f km (from %s), roads version %d (import %d) in %s\n",
		path, out.Roads, out.LengthKm, out.SourceCRS, out.Version, out.ID, out.Elapsed.Round(1e6))
	var skipped []string
	for k, v := range res.Counts {
		if strings.HasPrefix(k, "skipped:") {
			skipped = append(skipped, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "skipped:"), v))
		}
	}
	sort.Strings(skipped)
	if len(skipped) > 0 {
		fmt.Fprintf(e.stdout, "skipped features: %s\n", strings.Join(skipped, ", "))
	}
	fmt.Fprintln(e.stdout, "patrol planning deadheads on these roads from the next plan (rules: deadhead = \"auto\" or \"roads\")")
	return nil
}
