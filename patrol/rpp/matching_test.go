package rpp

import (
	"math"
	"math/rand"
	"testing"
)

// bruteMinPerfect is an O(2^n n) dynamic program over subsets.
func bruteMinPerfect(n int, d func(i, j int) float64) float64 {
	full := 1<<n - 1
	dp := make([]float64, 1<<n)
	for i := range dp {
		dp[i] = math.Inf(1)
	}
	dp[0] = 0
	for s := 0; s < full; s++ {
		if math.IsInf(dp[s], 1) {
			continue
		}
		i := 0
		for s>>i&1 == 1 {
			i++
		}
		for j := i + 1; j < n; j++ {
			if s>>j&1 == 0 {
				t := s | 1<<i | 1<<j
				if v := dp[s] + d(i, j); v < dp[t] {
					dp[t] = v
				}
			}
		}
	}
	return dp[full]
}

func TestMinCostPerfectMatchingBrute(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for iter := 0; iter < 600; iter++ {
		n := 2 * (1 + rng.Intn(7)) // 2..14
		w := make([][]float64, n)
		for i := range w {
			w[i] = make([]float64, n)
		}
		mode := iter % 3
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				var c float64
				switch mode {
				case 0: // small integers: many ties, many blossoms
					c = float64(rng.Intn(5))
				case 1:
					c = float64(rng.Intn(1000))
				default: // fractional costs
					c = math.Round(rng.Float64()*1000) / 8
				}
				w[i][j], w[j][i] = c, c
			}
		}
		d := func(i, j int) float64 { return w[i][j] }
		mate, cost := minCostPerfectMatchingDense(n, d)
		for i, j := range mate {
			if j < 0 || j >= n || mate[j] != i || j == i {
				t.Fatalf("iter %d: not a perfect matching: %v", iter, mate)
			}
		}
		want := bruteMinPerfect(n, d)
		if math.Abs(cost-want) > 1e-9 {
			t.Fatalf("iter %d (n=%d): matching cost %v, brute force %v", iter, n, cost, want)
		}
	}
}

func TestMaxWeightMatchingKnownCases(t *testing.T) {
	type tc struct {
		edges   [][3]int64
		maxCard bool
		want    []int
	}
	cases := []tc{
		{[][3]int64{{0, 1, 1}}, false, []int{1, 0}},
		{[][3]int64{{1, 2, 10}, {2, 3, 11}}, false, []int{-1, -1, 3, 2}},
		{[][3]int64{{1, 2, 5}, {2, 3, 11}, {3, 4, 5}}, false, []int{-1, -1, 3, 2, -1}},
		{[][3]int64{{1, 2, 5}, {2, 3, 11}, {3, 4, 5}}, true, []int{-1, 2, 1, 4, 3}},
		{[][3]int64{{1, 2, 2}, {1, 3, -2}, {2, 3, 1}, {2, 4, -1}, {3, 4, -6}}, false, []int{-1, 2, 1, -1, -1}},
		{[][3]int64{{1, 2, 2}, {1, 3, -2}, {2, 3, 1}, {2, 4, -1}, {3, 4, -6}}, true, []int{-1, 3, 4, 1, 2}},
		{[][3]int64{{1, 2, 8}, {1, 3, 9}, {2, 3, 10}, {3, 4, 7}, {1, 6, 5}, {4, 5, 6}}, false, []int{-1, 6, 3, 2, 5, 4, 1}},
		{[][3]int64{{1, 2, 9}, {1, 3, 8}, {2, 3, 10}, {1, 4, 5}, {4, 5, 3}, {3, 6, 4}}, false, []int{-1, 2, 1, 6, 5, 4, 3}},
		{[][3]int64{{1, 2, 9}, {1, 3, 9}, {2, 3, 10}, {2, 4, 8}, {3, 5, 8}, {4, 5, 10}, {5, 6, 6}}, false, []int{-1, 3, 4, 1, 2, 6, 5}},
		{[][3]int64{{1, 2, 23}, {1, 5, 22}, {1, 6, 15}, {2, 3, 25}, {3, 4, 22}, {4, 5, 25}, {4, 8, 14}, {5, 7, 13}}, false, []int{-1, 6, 3, 2, 8, 7, 1, 5, 4}},
		{[][3]int64{{1, 2, 45}, {1, 5, 45}, {2, 3, 50}, {3, 4, 45}, {4, 5, 50}, {1, 6, 30}, {3, 9, 35}, {4, 8, 35}, {5, 7, 26}, {9, 10, 5}}, false, []int{-1, 6, 3, 2, 8, 7, 1, 5, 4, 10, 9}},
		{[][3]int64{{1, 2, 45}, {1, 7, 45}, {2, 3, 50}, {3, 4, 45}, {4, 5, 95}, {4, 6, 94}, {5, 6, 94}, {6, 7, 50}, {1, 8, 30}, {3, 11, 35}, {5, 9, 36}, {7, 10, 26}, {11, 12, 5}}, false, []int{-1, 8, 3, 2, 6, 9, 4, 10, 1, 5, 7, 12, 11}},
	}
	for ci, c := range cases {
		n := 0
		var es []mwEdge
		for _, e := range c.edges {
			es = append(es, mwEdge{int(e[0]), int(e[1]), e[2]})
			if int(e[0]) >= n {
				n = int(e[0]) + 1
			}
			if int(e[1]) >= n {
				n = int(e[1]) + 1
			}
		}
		got := maxWeightMatching(n, es, c.maxCard)
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Fatalf("case %d: got %v want %v", ci, got, c.want)
			}
		}
	}
}

func BenchmarkMatchingDense60(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	n := 60
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i], y[i] = float64(rng.Intn(1000)), float64(rng.Intn(1000))
	}
	d := func(i, j int) float64 { return math.Abs(x[i]-x[j]) + math.Abs(y[i]-y[j]) }
	for i := 0; i < b.N; i++ {
		minCostPerfectMatchingDense(n, d)
	}
}

// TestSparsePricingMatchesDense checks the candidate+pricing matcher against
// the blossom algorithm run on the complete graph (both exact).
func TestSparsePricingMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for iter := 0; iter < 60; iter++ {
		n := 2 * (13 + rng.Intn(50)) // 26..124
		x := make([]float64, n)
		y := make([]float64, n)
		w := make([][]float64, n)
		for i := range x {
			x[i], y[i] = float64(rng.Intn(200)), float64(rng.Intn(200))
			w[i] = make([]float64, n)
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				var c float64
				switch iter % 3 {
				case 0:
					c = math.Abs(x[i]-x[j]) + math.Abs(y[i]-y[j])
				case 1:
					c = float64(rng.Intn(1000))
				default:
					c = math.Floor(math.Hypot(x[i]-x[j], y[i]-y[j])/7) * 3
				}
				w[i][j], w[j][i] = c, c
			}
		}
		d := func(i, j int) float64 { return w[i][j] }
		mt, c, ok := exactPerfectMatching(n, &matrixOracle{m: n, d: d})
		if !ok {
			t.Fatalf("iter %d: no perfect matching", iter)
		}
		for i, j := range mt {
			if j < 0 || mt[j] != i || j == i {
				t.Fatalf("iter %d: invalid matching", iter)
			}
		}
		pairs := make([]pairCost, 0, n*n/2)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				pairs = append(pairs, pairCost{i, j, w[i][j]})
			}
		}
		dm := minCostMatching(n, pairs)
		want := 0.0
		for i, j := range dm {
			if j > i {
				want += w[i][j]
			}
		}
		if math.Abs(c-want) > 1e-9 {
			t.Fatalf("iter %d (n=%d): pricing matcher %v, dense blossom %v", iter, n, c, want)
		}
	}
}
