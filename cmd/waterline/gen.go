package main

import (
	"context"
	"fmt"
	"os"

	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
)

func cmdGen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gen", "--pipes N [--seed S] [-o FILE | --import]")
	ec := bindConfig(fs, e.getenv, false)
	pipes := fs.Int("pipes", 10000, "number of pipes")
	seed := fs.Int64("seed", 1, "random seed (same seed, same city)")
	out := fs.String("o", "", "write Network GeoJSON to FILE (default: standard output)")
	imp := fs.Bool("import", false, "import straight into the store, replacing the network")
	ifEmpty := fs.Bool("if-empty", false, "with --import: do nothing when the store already has a network")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pipes < 10 || *pipes > 5_000_000 {
		return usageError{"--pipes must be within [10, 5000000]"}
	}
	if *imp {
		cfg, err := ec.resolve()
		if err != nil {
			return err
		}
		pool, st, err := open(ctx, cfg, logger(e))
		if err != nil {
			return err
		}
		defer pool.Close()
		if *ifEmpty {
			info, err := st.Info(ctx)
			if err != nil {
				return err
			}
			if info.Counts["pipes"] > 0 {
				fmt.Fprintf(e.stdout, "the store already has a network (%d pipes, version %d); not generating\n", info.Counts["pipes"], info.Version)
				return nil
			}
		}
		ds, err := gen.Generate(gen.Options{Pipes: *pipes, Seed: *seed, SRID: cfg.SRID})
		if err != nil {
			return err
		}
		var progress func(string)
		if e.isTTY {
			progress = func(stage string) { fmt.Fprintf(e.stderr, "  %s…\n", stage) }
		}
		res, err := st.Import(ctx, ds, store.ImportOptions{File: fmt.Sprintf("gen --pipes %d --seed %d", *pipes, *seed), Format: "gen", Replace: true, Progress: progress})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "generated and imported %d pipes, %d valves, %d customers: network version %d in %s\n",
			len(ds.Pipes), len(ds.Valves), len(ds.Customers), res.Version, res.Elapsed.Round(1e6))
		return nil
	}
	srid := 4548
	if ec.srid > 0 {
		srid = ec.srid
	}
	ds, err := gen.Generate(gen.Options{Pipes: *pipes, Seed: *seed, SRID: srid})
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
	return netjson.Write(w, ds)
}
