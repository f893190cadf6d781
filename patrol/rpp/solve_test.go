package rpp

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const dataDir = "../../../shared/data/rpp"

type optimum struct {
	name  string
	opt   float64
	plain float64
}

func readOptima(t *testing.T) []optimum {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "OPTIMA.tsv"))
	if err != nil {
		t.Skipf("benchmark data not available: %v", err)
	}
	defer f.Close()
	var out []optimum
	sc := bufio.NewScanner(f)
	ln := 0
	for sc.Scan() {
		ln++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 7 {
			t.Fatalf("OPTIMA.tsv:%d: %d columns, want 7", ln, len(cols))
		}
		opt, err1 := strconv.ParseFloat(cols[4], 64)
		plain, err2 := strconv.ParseFloat(cols[6], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("OPTIMA.tsv:%d: bad numbers", ln)
		}
		out = append(out, optimum{cols[0], opt, plain})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadInstance(t testing.TB, name string) Graph {
	t.Helper()
	path := filepath.Join(dataDir, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	g, inst, err := ReadCorberan(f, name)
	if err != nil {
		t.Fatal(err)
	}
	if inst != name {
		t.Fatalf("%s: NOMBRE %q", name, inst)
	}
	return g
}

// TestBenchmarkInstances enforces the quality targets on the 26 classic
// instances with known optima: mean gap < 1 %, worst < 3 %, < 1 s each.
func TestBenchmarkInstances(t *testing.T) {
	opts := readOptima(t)
	if len(opts) != 26 {
		t.Fatalf("OPTIMA.tsv lists %d instances, want 26", len(opts))
	}
	var sumGap, worst float64
	worstName := ""
	for _, o := range opts {
		g := loadInstance(t, o.name)
		start := time.Now()
		s, err := Solve(context.Background(), g, Options{Depot: -1})
		el := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if err := Check(g, s); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		if s.Cost < o.opt-1e-6 {
			t.Errorf("%s: cost %v below the proven optimum %v", o.name, s.Cost, o.opt)
		}
		if s.LowerBound > o.opt+1e-6 {
			t.Errorf("%s: lower bound %v above the optimum %v", o.name, s.LowerBound, o.opt)
		}
		gap := 100 * (s.Cost - o.opt) / o.opt
		sumGap += gap
		if gap > worst {
			worst, worstName = gap, o.name
		}
		t.Logf("%-9s cost %7.0f  opt %7.0f  gap %5.2f%%  plain %7.0f  lb %7.0f  %4d ms",
			o.name, s.Cost, o.opt, gap, o.plain, s.LowerBound, el.Milliseconds())
	}
	mean := sumGap / float64(len(opts))
	t.Logf("mean gap %.3f%%, worst %.2f%% (%s)", mean, worst, worstName)
	if mean >= 1 {
		t.Errorf("mean gap %.3f%% >= 1%%", mean)
	}
	if worst >= 3 {
		t.Errorf("worst gap %.2f%% (%s) >= 3%%", worst, worstName)
	}
}
