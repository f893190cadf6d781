package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/store"
)

// asbuiltFlags are the import flags of an as-built survey.
type asbuiltFlags struct {
	by, project, contractor, date, mapping *string
	set                                    map[string]bool
	fs                                     *flag.FlagSet
}

func bindAsbuiltFlags(fs *flag.FlagSet, e *env) *asbuiltFlags {
	return &asbuiltFlags{fs: fs,
		by:         fs.String("by", e.getenv("USER"), "as-built survey: who uploads it (env USER)"),
		project:    fs.String("project", "", "as-built survey: the project"),
		contractor: fs.String("contractor", "", "as-built survey: the survey contractor"),
		date:       fs.String("survey-date", "", "as-built survey: the survey date, YYYY-MM-DD"),
		mapping:    fs.String("mapping", "", "as-built survey: a mapping file (JSON) naming the sheet, columns or attributes"),
	}
}

func (a *asbuiltFlags) used() bool {
	used := false
	a.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "project", "contractor", "survey-date", "mapping":
			used = true
		}
	})
	return used
}

// importAsbuilt uploads a survey into a batch (or, with --dry-run, only
// checks it) and prints the outcome: the issues with their rows, the
// summary, and what to do next.
func importAsbuilt(ctx context.Context, e *env, cfg *Config, path, crs string, dry, asJSON bool, ab *asbuiltFlags) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	req := store.UploadRequest{File: filepath.Base(path), Project: *ab.project, Contractor: *ab.contractor, SurveyDate: *ab.date, By: *ab.by, CRS: crs}
	if *ab.mapping != "" {
		b, err := os.ReadFile(*ab.mapping)
		if err != nil {
			return err
		}
		m, err := asbuilt.ParseMapping(b)
		if err != nil {
			return err
		}
		req.Mapping = m
	}
	if !dry && strings.TrimSpace(req.By) == "" {
		return usageError{"--by: who uploads the survey"}
	}
	pool, st, err := open(ctx, cfg, logger(e))
	if err != nil {
		return err
	}
	defer pool.Close()
	var b *store.Batch
	if dry {
		b, err = st.Check(ctx, req, data)
	} else {
		b, err = st.Upload(ctx, req, data)
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(b); err != nil {
			return err
		}
	} else {
		printBatch(e.stdout, b, 30)
		switch {
		case dry:
			fmt.Fprintln(e.stdout, "dry run: nothing was written")
		case b.Status == store.BatchReady:
			fmt.Fprintf(e.stdout, "next: a second user approves it (waterline asbuilt approve %d --by NAME [--ack]), then waterline asbuilt commit %d\n", b.ID, b.ID)
		case b.Status == store.BatchInvalid:
			fmt.Fprintln(e.stdout, "the errors above block the batch: fix the file and import it again")
		}
	}
	if b.Status == store.BatchFailed || b.Status == store.BatchInvalid {
		return fmt.Errorf("%s: %s", path, b.Status)
	}
	return nil
}

func printBatch(w io.Writer, b *store.Batch, max int) {
	if b.ID != 0 {
		fmt.Fprintf(w, "batch %d: %s", b.ID, b.Status)
	} else {
		fmt.Fprintf(w, "%s", b.Status)
	}
	fmt.Fprintf(w, " — %s (%s, %s)", b.File, b.Format, b.SourceCRS)
	if b.Project != "" {
		fmt.Fprintf(w, ", project %s", b.Project)
	}
	fmt.Fprintf(w, ", uploaded by %s\n", b.UploadedBy)
	if b.Failure != "" {
		fmt.Fprintf(w, "failure: %s\n", b.Failure)
	}
	if sm := b.Summary; sm != nil {
		fmt.Fprintf(w, "survey: %v pipes (%v m), %v valves, %v hydrants", sm["pipes"], sm["length_m"], sm["valves"], sm["hydrants"])
		if t, ok := sm["table"]; ok {
			var tm asbuilt.Summary
			if b, err := json.Marshal(t); err == nil && json.Unmarshal(b, &tm) == nil && tm.Points > 0 {
				fmt.Fprintf(w, "; table: %d points, data rows %d–%d", tm.Points, tm.FirstDataRow, tm.LastDataRow)
				if tm.Sheet != "" {
					fmt.Fprintf(w, " of sheet %q", tm.Sheet)
				}
			}
		}
		fmt.Fprintln(w)
	}
	acts := map[string]int{}
	for _, c := range b.Changes {
		acts[c.Action+" "+c.Kind]++
	}
	var keys []string
	for k := range acts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, acts[k]))
		}
		fmt.Fprintf(w, "changes: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "%d errors, %d warnings\n", b.Errors, b.Warnings)
	for i, is := range b.Issues {
		if i == max {
			fmt.Fprintf(w, "  ... and %d more (use --json for all)\n", len(b.Issues)-max)
			break
		}
		fmt.Fprintf(w, "  %s\n", is.String())
	}
	if b.ApprovedBy != "" {
		fmt.Fprintf(w, "approved by %s\n", b.ApprovedBy)
	}
	if b.Version != nil {
		fmt.Fprintf(w, "committed by %s: network version %d\n", b.CommittedBy, *b.Version)
	}
	if b.RollbackOf != nil {
		fmt.Fprintf(w, "rolls back batch %d\n", *b.RollbackOf)
	}
	if b.RolledBackBy != nil {
		fmt.Fprintf(w, "rolled back by batch %d\n", *b.RolledBackBy)
	}
}

// cmdAsbuilt runs the as-built batch workflow from the command line:
//
//	waterline asbuilt list [--status S]
//	waterline asbuilt show ID [--json]
//	waterline asbuilt preview ID > preview.geojson
//	waterline asbuilt validate ID --by NAME
//	waterline asbuilt approve ID --by NAME [--ack]
//	waterline asbuilt reject ID --by NAME [--reason TEXT]
//	waterline asbuilt commit ID --by NAME
//	waterline asbuilt rollback ID --by NAME
//	waterline asbuilt history PIPE
//	waterline asbuilt crs add NAME 'PROJ' [--description TEXT] --by NAME | crs list
//	waterline asbuilt area MINX,MINY,MAXX,MAXY (storage CRS; "none" clears)
func cmdAsbuilt(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "usage: waterline asbuilt list|show|preview|validate|approve|reject|commit|rollback|history|crs|area [flags] [ID]")
		if len(args) == 0 {
			return usageError{"want a subcommand"}
		}
		return flag.ErrHelp
	}
	sub := args[0]
	fs := newFlags(e, "asbuilt "+sub, "[flags] ARGS")
	ec := bindConfig(fs, e.getenv, false)
	by := fs.String("by", e.getenv("USER"), "who acts (env USER)")
	ack := fs.Bool("ack", false, "approve: the warnings were read and are acknowledged")
	reason := fs.String("reason", "", "reject: why")
	status := fs.String("status", "", "list: only batches of this status")
	desc := fs.String("description", "", "crs add: what the system is")
	asJSON := fs.Bool("json", false, "print JSON")
	// Flags may come before or after the arguments.
	var pos []string
	rest := args[1:]
	for {
		if err := parse(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
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
	out := func(v any) error {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	id := func() (int64, error) {
		if len(pos) != 1 {
			return 0, usageError{"want the batch id"}
		}
		n, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return 0, usageError{fmt.Sprintf("batch id %q is not a number", pos[0])}
		}
		return n, nil
	}
	show := func(b *store.Batch, err error) error {
		if err != nil {
			return err
		}
		if *asJSON {
			return out(b)
		}
		printBatch(e.stdout, b, 30)
		return nil
	}
	switch sub {
	case "list":
		list, err := st.Batches(ctx, *status, 100)
		if err != nil {
			return err
		}
		if *asJSON {
			return out(list)
		}
		for _, b := range list {
			fmt.Fprintf(e.stdout, "%6d  %-9s  %-10s  %-12s  %3d errors %3d warnings  %s  %s\n", b.ID, b.Status, b.UploadedAt.Format("2006-01-02"), b.UploadedBy, b.Errors, b.Warnings, b.File, b.Project)
		}
		return nil
	case "show", "preview", "validate", "approve", "reject", "commit", "rollback":
		n, err := id()
		if err != nil {
			return err
		}
		switch sub {
		case "show":
			return show(st.Batch(ctx, n))
		case "preview":
			p, err := st.Preview(ctx, n)
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(p)
			return err
		case "validate":
			return show(st.Revalidate(ctx, n, *by))
		case "approve":
			return show(st.Approve(ctx, n, *by, *ack))
		case "reject":
			return show(st.Reject(ctx, n, *by, *reason))
		case "commit":
			return show(st.Commit(ctx, n, *by))
		default:
			return show(st.Rollback(ctx, n, *by))
		}
	case "history":
		if len(pos) != 1 {
			return usageError{"want the pipe id"}
		}
		h, err := st.History(ctx, gis.KindPipe, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return out(h)
		}
		fmt.Fprintf(e.stdout, "pipe %s: live %v\n", h.ID, h.Live)
		for _, ev := range h.Events {
			batch := "-"
			if ev.Batch != nil {
				batch = strconv.FormatInt(*ev.Batch, 10)
			}
			fmt.Fprintf(e.stdout, "  %s  version %d  %-6s  batch %s  by %s  %s\n", ev.ChangedAt.Format("2006-01-02 15:04"), ev.Version, ev.Action, batch, ev.ChangedBy, ev.Project)
		}
		return nil
	case "crs":
		if len(pos) >= 1 && pos[0] == "list" {
			list, err := st.LocalCRSs(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				return out(list)
			}
			for _, c := range list {
				fmt.Fprintf(e.stdout, "local:%s  %s  (%s, by %s)\n", c.Name, c.Proj, c.Description, c.RegisteredBy)
			}
			return nil
		}
		if len(pos) != 3 || pos[0] != "add" {
			return usageError{"want: crs add NAME 'PROJ definition' | crs list"}
		}
		c, err := st.RegisterCRS(ctx, pos[1], pos[2], *desc, *by)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "registered local:%s\n", c.Name)
		return nil
	case "area":
		if len(pos) != 1 {
			return usageError{"want MINX,MINY,MAXX,MAXY in the storage CRS, or none"}
		}
		if pos[0] == "none" {
			return st.SetArea(ctx, 0, 0, 0, 0)
		}
		parts := strings.Split(pos[0], ",")
		if len(parts) != 4 {
			return usageError{"want MINX,MINY,MAXX,MAXY"}
		}
		var v [4]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return usageError{fmt.Sprintf("%q is not a number", p)}
			}
			v[i] = f
		}
		if v[0] >= v[2] || v[1] >= v[3] {
			return usageError{"want MINX < MAXX and MINY < MAXY"}
		}
		return st.SetArea(ctx, v[0], v[1], v[2], v[3])
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", sub)}
}
