package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/repair"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdShutoff(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "shutoff", "--pipe ID [--at F] | --point X,Y [--point-crs EPSG:N]  [--fail V]… [--json]")
	ec := bindConfig(fs, e.getenv, false)
	pipe := fs.String("pipe", "", "id of the leaking pipe")
	at := fs.Float64("at", 0.5, "where along the pipe, as a fraction of its length [0,1]")
	point := fs.String("point", "", "the leak as a point X,Y (snapped to the nearest in-service pipe)")
	pointCRS := fs.String("point-crs", "", "CRS of --point (default: the storage CRS)")
	tol := fs.Float64("tolerance", 25, "snapping distance for --point, metres")
	var fail multiFlag
	fs.Var(&fail, "fail", "a valve that fails on site (repeatable)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	req := repair.PlanRequest{Pipe: *pipe, FailedValves: fail, ToleranceM: *tol}
	if *pipe != "" {
		req.At = at
	}
	if *point != "" {
		p, err := parsePair(*point, "--point")
		if err != nil {
			return err
		}
		req.Point = &[2]float64{p[0], p[1]}
		req.PointSRID = cfg.SRID
		if *pointCRS != "" {
			if req.PointSRID, err = parseCRS(*pointCRS); err != nil {
				return err
			}
		}
	}
	pool, st, err := open(ctx, cfg, logger(e))
	if err != nil {
		return err
	}
	defer pool.Close()
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return err
	}
	pl, _, err := repairService(st, live, cfg, logger(e), "")
	if err != nil {
		return err
	}
	resp, err := pl.Plan(ctx, req) // sees the valves open repair jobs hold closed
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(resp.Result)
	}
	w := e.stdout
	fmt.Fprintf(w, "leak on pipe %s (DN%d) at %.1f m\n", resp.Leak.Pipe, resp.Leak.DN, resp.Leak.S)
	fmt.Fprintf(w, "valves to close: %d (%s)\n", len(resp.ClosingOrder), repair.ClosingRule)
	for _, s := range resp.ClosingOrder {
		fb := ""
		if s.IfFails != nil {
			fb = fmt.Sprintf("  if it fails: +%d valves %v, +%d customers", len(s.IfFails.ExtraValves), s.IfFails.ExtraValves, s.IfFails.ExtraCustomers)
		}
		fmt.Fprintf(w, "  %2d. %-12s DN%-5d %8.1f m from previous%s\n", s.Order, s.ID, s.DN, s.FromPrevM, fb)
	}
	if len(resp.ValvesDrySide) > 0 {
		fmt.Fprintf(w, "dry-side valves (optional): %s\n", strings.Join(resp.ValvesDrySide, ", "))
	}
	if len(resp.ValvesAlreadyClosed) > 0 {
		fmt.Fprintf(w, "already closed: %s\n", strings.Join(resp.ValvesAlreadyClosed, ", "))
	}
	if len(resp.ValvesFailed) > 0 {
		fmt.Fprintf(w, "failed / inoperable, grown through: %s\n", strings.Join(resp.ValvesFailed, ", "))
	}
	fmt.Fprintf(w, "without water: %d pipes in the segment, %d cut off from every source, %.1f m\n", len(resp.SegmentPipes), len(resp.UnintendedPipes), resp.LengthM)
	fmt.Fprintf(w, "affected: %d connections, %d customers, %d households, %d hydrants\n", len(resp.Connections), len(resp.Customers), resp.Households, len(resp.Hydrants))
	for _, c := range resp.Critical {
		fmt.Fprintf(w, "  critical: %s %s (%s)\n", c.ID, c.Name, c.Category)
	}
	return nil
}

func cmdSegments(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "segments", "[-top N] [--json]")
	ec := bindConfig(fs, e.getenv, false)
	top := fs.Int("top", 10, "how many of the worst units to list")
	asJSON := fs.Bool("json", false, "print as JSON")
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
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return err
	}
	stats := live.Network().SegmentStats(*top)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(stats)
	}
	w := e.stdout
	fmt.Fprintf(w, "%d shutoff units (%d base segments); length mean %.0f m, median %.0f m\n", stats.Units, stats.BaseSegments, stats.MeanLengthM, stats.MedianLengthM)
	fmt.Fprintf(w, "data quality: %d units without any boundary valve, %d holding a source, %d dry in the normal state\n", stats.WithoutValves, stats.WithSource, stats.DryUnits)
	fmt.Fprintln(w, "worst shutoffs (most customers, unintended isolation included):")
	for i, s := range stats.Worst {
		fmt.Fprintf(w, "  %2d. %5d customers (%d own), %6d households, %8.0f m, %d boundary valves, pipes %s\n",
			i+1, s.TotalCustomers, s.Customers, s.TotalHouseholds, s.TotalLengthM, s.BoundaryValves, abbrev(s.Pipes, 5))
	}
	if len(stats.Unisolable) > 0 {
		fmt.Fprintln(w, "cannot be isolated without cutting supply (hold a source or have no valve):")
		for _, s := range stats.Unisolable {
			fmt.Fprintf(w, "  %6.0f m, %d customers, source=%v, pipes %s\n", s.LengthM, s.Customers, s.HasSource, abbrev(s.Pipes, 5))
		}
	}
	return nil
}

func abbrev(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ",")
	}
	return strings.Join(ids[:n], ",") + fmt.Sprintf(",… (%d)", len(ids))
}
