package rpp

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// edgeLineRE matches an edge line "(   u,   v)  coste   c_uv   c_vu" (the
// second cost is optional here).
var edgeLineRE = regexp.MustCompile(`^\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*coste\s+(\d+)(?:\s+(\d+))?\s*$`)

// ReadCorberan parses an undirected RPP instance in Corberán's text format:
//
//	NOMBRE : <name>
//	COMENTARIO : <comment>
//	VERTICES : <n>
//	ARISTAS_REQ : <r>        (the misspelling RISTAS_REQ is accepted)
//	ARISTAS_NOREQ : <q>
//	LISTA_ARISTAS_REQ :
//	(   u,   v)  coste   c_uv   c_vu     r lines, 1-based vertices
//	LISTA_ARISTAS_NOREQ :
//	(   u,   v)  coste   c_uv   c_vu     q lines
//
// CRLF line ends, blank lines, unknown "KEY : value" header lines and a final
// END line are accepted. Vertices are converted to 0-based; Edge.ID is the
// 0-based position of the edge in the file (required edges first, as listed).
// Costs must be symmetric (c_uv == c_vu). name is used in error messages,
// which have the form "name:line: problem". It returns the graph and the
// instance name (NOMBRE, or name when the file has none).
func ReadCorberan(r io.Reader, name string) (Graph, string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var g Graph
	inst := ""
	nReq, nNoReq := -1, -1
	haveN := false
	section := 0 // 0 header, 1 required list, 2 non-required list, 3 after END
	count := [3]int{}
	sectionLine := [3]int{}
	line := 0
	errf := func(format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	closeSection := func() error {
		switch section {
		case 1:
			if count[1] != nReq {
				return fmt.Errorf("%s:%d: required edge list has %d edges, header ARISTAS_REQ says %d", name, sectionLine[1], count[1], nReq)
			}
		case 2:
			if count[2] != nNoReq {
				return fmt.Errorf("%s:%d: non-required edge list has %d edges, header ARISTAS_NOREQ says %d", name, sectionLine[2], count[2], nNoReq)
			}
		}
		return nil
	}
	seen := [3]bool{}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "(") {
			if section != 1 && section != 2 {
				return Graph{}, "", errf("edge line outside LISTA_ARISTAS_REQ / LISTA_ARISTAS_NOREQ: %q", clip(text))
			}
			m := edgeLineRE.FindStringSubmatch(text)
			if m == nil {
				return Graph{}, "", errf("bad edge line %q: want \"(u, v) coste c_uv c_vu\"", clip(text))
			}
			u, err1 := strconv.Atoi(m[1])
			v, err2 := strconv.Atoi(m[2])
			c1, err3 := strconv.ParseFloat(m[3], 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return Graph{}, "", errf("bad edge line %q: number out of range", clip(text))
			}
			if m[4] != "" {
				c2, err := strconv.ParseFloat(m[4], 64)
				if err != nil {
					return Graph{}, "", errf("bad edge line %q: number out of range", clip(text))
				}
				if c2 != c1 {
					return Graph{}, "", errf("asymmetric costs %s and %s: only undirected instances are supported", m[3], m[4])
				}
			}
			if u < 1 || u > g.N || v < 1 || v > g.N {
				return Graph{}, "", errf("vertex out of range in %q: vertices are 1..%d", clip(text), g.N)
			}
			count[section]++
			limitN := nReq
			if section == 2 {
				limitN = nNoReq
			}
			if count[section] > limitN {
				return Graph{}, "", errf("more edges than the header's count %d", limitN)
			}
			g.Edges = append(g.Edges, Edge{U: u - 1, V: v - 1, Cost: c1, Required: section == 1, ID: len(g.Edges)})
			continue
		}
		key, val, ok := strings.Cut(text, ":")
		if !ok {
			if strings.EqualFold(text, "END") || strings.EqualFold(text, "EOF") || strings.EqualFold(text, "FIN") {
				if err := closeSection(); err != nil {
					return Graph{}, "", err
				}
				section = 3
				continue
			}
			return Graph{}, "", errf("unexpected line %q", clip(text))
		}
		key = strings.ToUpper(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		atoi := func(what string) (int, error) {
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return 0, errf("bad %s value %q: want a non-negative integer", what, clip(val))
			}
			return n, nil
		}
		var err error
		switch key {
		case "NOMBRE", "NAME":
			inst = val
		case "VERTICES":
			if g.N, err = atoi(key); err != nil {
				return Graph{}, "", err
			}
			if g.N > 1<<26 {
				return Graph{}, "", errf("VERTICES %d too large", g.N)
			}
			haveN = true
		case "ARISTAS_REQ", "RISTAS_REQ":
			if nReq, err = atoi(key); err != nil {
				return Graph{}, "", err
			}
		case "ARISTAS_NOREQ", "RISTAS_NOREQ":
			if nNoReq, err = atoi(key); err != nil {
				return Graph{}, "", err
			}
		case "LISTA_ARISTAS_REQ", "LISTA_RISTAS_REQ", "LISTA_ARISTAS_NOREQ", "LISTA_RISTAS_NOREQ":
			sec := 1
			if strings.HasSuffix(key, "NOREQ") {
				sec = 2
			}
			if !haveN {
				return Graph{}, "", errf("%s before VERTICES", key)
			}
			if sec == 1 && nReq < 0 {
				return Graph{}, "", errf("%s before ARISTAS_REQ", key)
			}
			if sec == 2 && nNoReq < 0 {
				return Graph{}, "", errf("%s before ARISTAS_NOREQ", key)
			}
			if seen[sec] {
				return Graph{}, "", errf("duplicate %s", key)
			}
			if err := closeSection(); err != nil {
				return Graph{}, "", err
			}
			seen[sec] = true
			section = sec
			sectionLine[sec] = line
		default:
			if section == 1 || section == 2 {
				if err := closeSection(); err != nil {
					return Graph{}, "", err
				}
				section = 3
			}
			// other header fields (COMENTARIO, DEPOSITO, ...) are ignored
		}
	}
	if err := sc.Err(); err != nil {
		return Graph{}, "", fmt.Errorf("%s:%d: %v", name, line+1, err)
	}
	if !haveN {
		return Graph{}, "", fmt.Errorf("%s:%d: missing VERTICES header", name, line)
	}
	if nReq < 0 {
		return Graph{}, "", fmt.Errorf("%s:%d: missing ARISTAS_REQ header", name, line)
	}
	if nNoReq < 0 {
		nNoReq = 0
	}
	if err := closeSection(); err != nil {
		return Graph{}, "", err
	}
	if !seen[1] && nReq > 0 {
		return Graph{}, "", fmt.Errorf("%s:%d: missing LISTA_ARISTAS_REQ (header says %d required edges)", name, line, nReq)
	}
	if !seen[2] && nNoReq > 0 {
		return Graph{}, "", fmt.Errorf("%s:%d: missing LISTA_ARISTAS_NOREQ (header says %d non-required edges)", name, line, nNoReq)
	}
	if inst == "" {
		inst = name
	}
	return g, inst, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
