// Package netjson reads and writes Network GeoJSON, the interchange format
// of a water network (shared/docs/network-geojson.md): one GeoJSON
// FeatureCollection whose features carry properties.kind (pipe, valve,
// source, hydrant, connection, customer, district) and properties.id.
//
// Read streams its input (encoding/json's Decoder: the Token API for the
// collection, one Decode per feature), so a file is never held in memory
// twice, and it reports every problem it finds at once, each as a gis.Issue
// with a stable code (see codes.go). Write produces a file that Read reads
// back to an equal Dataset.
//
// Besides the members of the format, Write emits and Read accepts three
// optional top-level members: "name" (Dataset.Name), "proj" (Dataset.Proj,
// a PROJ definition for data without an EPSG code) and "provenance"
// (Dataset.Provenance, an object of strings).
package netjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/waterline-gis/waterline/gis"
)

// Options controls Read.
type Options struct {
	// Name is the file name used in messages ("input" when empty) and in
	// every feature's Src.
	Name string
	// SRID is the CRS given by the user (--crs EPSG:N); 0 takes it from the
	// file. A file whose crs member names another CRS is rejected
	// (crs.conflict).
	SRID int
	// MaxBytes refuses input larger than this many bytes (0 = no limit).
	// Read stops as soon as the limit is passed, so an oversized upload costs
	// at most MaxBytes of reading; the error (input.too_large) names the limit.
	MaxBytes int64
	// Progress, if not nil, is called now and then (about every MiB, and once
	// at the end) with the number of bytes consumed so far. It runs on the
	// goroutine that called Read.
	Progress func(read int64)
}

const (
	maxErrors    = 1000 // issues in an InvalidError, including the input.too_many_errors one
	maxWarnings  = 1000 // warnings returned, including the input.too_many_warnings one
	progressStep = 1 << 20
	mib          = 1 << 20
)

// errTooLarge is returned by the counting reader once MaxBytes is passed.
var errTooLarge = errors.New("netjson: input larger than the limit")

// Read reads a Network GeoJSON FeatureCollection.
//
// On success it returns the Dataset and the warnings (problems that do not
// stop the data from being used, e.g. a feature of an unknown kind, which
// is skipped). Features keep their file order within each kind; Src is
// {File: opt.Name, Index: position in the features array}. Read fills
// defaults (pipe status in_service, valve normally_open and operable true,
// customer households 1), keeps properties it does not know in Extra
// (decoded as encoding/json decodes into an interface; a number that
// overflows float64 stays a json.Number), leaves Z nil for 2-D geometry and
// Extra nil when there is nothing to keep.
//
// SRID comes from opt.SRID, else from the legacy "crs" member, else it is
// 4326 when every coordinate is a plausible longitude/latitude (or there are
// none); projected-looking coordinates without a CRS are an error. Read does
// not check that the EPSG code exists.
//
// When the input is rejected, the Dataset is nil and the error is a
// *gis.InvalidError holding every error found (at most 1000; after 999
// errors reading stops and an input.too_many_errors issue ends the list).
// An error from r itself is returned wrapped, not as an InvalidError.
//
// Every issue has a stable Code (codes.go) and a Where: "name: feature N"
// (gis.Ref, N the 0-based index in the features array) for a feature,
// "name:line:column" (1-based; column in bytes) for malformed JSON, and
// "name" for the file as a whole. Feature is "kind:id" when both are
// known. Warnings are capped at 1000 the same way (input.too_many_warnings
// counts the rest).
func Read(r io.Reader, opt Options) (*gis.Dataset, []gis.Issue, error) {
	if opt.SRID < 0 {
		return nil, nil, fmt.Errorf("netjson: invalid SRID %d", opt.SRID)
	}
	rd := newReader(r, opt)
	ioErr := rd.run()
	if opt.Progress != nil {
		opt.Progress(rd.cnt.n)
	}
	warns := rd.warnings()
	if ioErr != nil {
		return nil, warns, ioErr
	}
	if len(rd.errs) > 0 {
		return nil, warns, &gis.InvalidError{Issues: rd.errs}
	}
	ds := rd.ds
	ds.Pipes = rd.pipes.slice()
	ds.Valves = rd.valves.slice()
	ds.Sources = rd.sources.slice()
	ds.Hydrants = rd.hydrants.slice()
	ds.Connections = rd.connections.slice()
	ds.Customers = rd.customers.slice()
	ds.Districts = rd.districts.slice()
	return ds, warns, nil
}

// chunks collects values without the repeated copying of append: features
// are large structs and there can be hundreds of thousands of them.
type chunks[T any] struct {
	full [][]T
	cur  []T
	n    int
}

func (c *chunks[T]) add(v T) {
	if len(c.cur) == cap(c.cur) {
		if c.cur != nil {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]T, 0, min(max(16, 2*cap(c.cur)), 8192))
	}
	c.cur = append(c.cur, v)
	c.n++
}

// slice returns the values in order (nil when there are none).
func (c *chunks[T]) slice() []T {
	if c.n == 0 {
		return nil
	}
	if len(c.full) == 0 {
		return c.cur
	}
	out := make([]T, 0, c.n)
	for _, ch := range c.full {
		out = append(out, ch...)
	}
	return append(out, c.cur...)
}

// maxInterned bounds the table of shared strings (property names and
// repeating values such as materials).
const maxInterned = 4096

// intern returns b as a string, shared with earlier equal ones.
func (rd *reader) intern(b []byte) string {
	if s, ok := rd.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(rd.interned) < maxInterned {
		if rd.interned == nil {
			rd.interned = make(map[string]string)
		}
		rd.interned[s] = s
	}
	return s
}

// counter counts the bytes read, enforces MaxBytes, reports progress and
// remembers where lines start near the read position, so that a syntax
// error can be given as line:column without keeping the input.
type counter struct {
	r        io.Reader
	n        int64
	max      int64
	progress func(int64)
	nextProg int64

	bom      int64   // bytes of a byte order mark dropped at the start
	nlPruned int     // newlines before the pruned position
	nlLast   int64   // position of the last pruned newline, -1 if none
	nl       []int64 // positions of newlines not yet pruned (from nl[head])
	head     int
}

func (c *counter) Read(p []byte) (int, error) {
	if c.max > 0 {
		if c.n > c.max {
			return 0, errTooLarge
		}
		if rem := c.max + 1 - c.n; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	k, err := c.r.Read(p)
	if c.n == 0 && k >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
		// A UTF-8 byte order mark (some Windows tools write one): not
		// JSON, so the decoder must not see it; it still counts as input.
		copy(p, p[3:k])
		k -= 3
		c.n, c.bom = 3, 3
	}
	if k > 0 {
		q := p[:k]
		for off := 0; ; {
			j := bytes.IndexByte(q[off:], '\n')
			if j < 0 {
				break
			}
			c.nl = append(c.nl, c.n+int64(off+j))
			off += j + 1
		}
		c.n += int64(k)
		if c.progress != nil && c.n >= c.nextProg {
			c.progress(c.n)
			c.nextProg = c.n + progressStep
		}
	}
	if c.max > 0 && c.n > c.max {
		return k, errTooLarge
	}
	return k, err
}

// prune forgets newline positions before the decoder offset pos (no
// error can be reported there any more).
func (c *counter) prune(pos int64) {
	pos += c.bom
	for c.head < len(c.nl) && c.nl[c.head] < pos {
		c.nlLast = c.nl[c.head]
		c.nlPruned++
		c.head++
	}
	if c.head >= 1024 && c.head*2 >= len(c.nl) {
		n := copy(c.nl, c.nl[c.head:])
		c.nl = c.nl[:n]
		c.head = 0
	}
}

// lineCol turns a decoder offset into a 1-based line and byte column of
// the input.
func (c *counter) lineCol(pos int64) (line int, col int64) {
	pos += c.bom
	line = c.nlPruned + 1
	last := c.nlLast
	for i := c.head; i < len(c.nl) && c.nl[i] < pos; i++ {
		line++
		last = c.nl[i]
	}
	return line, pos - last
}

type prop struct {
	key, val []byte
}

// Indices into reader.ids.
const (
	kPipe = iota
	kValve
	kSource
	kHydrant
	kConnection
	kCustomer
	kDistrict
	nKinds
)

var kindNames = [nKinds]string{gis.KindPipe, gis.KindValve, gis.KindSource, gis.KindHydrant,
	gis.KindConnection, gis.KindCustomer, gis.KindDistrict}

type reader struct {
	opt   Options
	name  string // file name for messages
	cnt   *counter
	dec   *json.Decoder
	ds    *gis.Dataset
	errs  []gis.Issue
	warns []gis.Issue
	// warnings not listed because of the cap
	droppedWarns int
	stop         bool

	idx int                    // index of the next feature
	ids [nKinds]map[string]int // id → feature index, per kind

	// CRS
	fileSRID int
	crsBad   bool
	// the first coordinate that is not a longitude/latitude
	outIdx     int
	outX, outY float64

	pipes       chunks[gis.Pipe]
	valves      chunks[gis.Valve]
	sources     chunks[gis.Source]
	hydrants    chunks[gis.Hydrant]
	connections chunks[gis.Connection]
	customers   chunks[gis.Customer]
	districts   chunks[gis.District]
	interned    map[string]string

	raw   json.RawMessage // the current feature, reused
	skip  json.RawMessage // members we do not use, reused
	props []prop
}

func newReader(r io.Reader, opt Options) *reader {
	name := opt.Name
	if name == "" {
		name = "input"
	}
	cnt := &counter{r: r, max: opt.MaxBytes, progress: opt.Progress, nextProg: progressStep, nlLast: -1}
	rd := &reader{
		opt:    opt,
		name:   name,
		cnt:    cnt,
		dec:    json.NewDecoder(cnt),
		ds:     &gis.Dataset{},
		outIdx: -1,
	}
	for k := range rd.ids {
		rd.ids[k] = make(map[string]int)
	}
	return rd
}

func (rd *reader) addErr(is gis.Issue) {
	if rd.stop {
		return
	}
	if len(rd.errs) >= maxErrors-1 {
		rd.errs = append(rd.errs, gis.Issue{
			Code:  CodeTooManyErrors,
			Where: is.Where,
			Msg:   fmt.Sprintf("more than %d errors; reading stopped here", maxErrors-1),
			Fix:   "fix the errors listed and read the file again",
		})
		rd.stop = true
		return
	}
	rd.errs = append(rd.errs, is)
}

func (rd *reader) addWarn(is gis.Issue) {
	if len(rd.warns) >= maxWarnings-1 {
		rd.droppedWarns++
		return
	}
	rd.warns = append(rd.warns, is)
}

func (rd *reader) warnings() []gis.Issue {
	w := rd.warns
	if rd.droppedWarns > 0 {
		w = append(w, gis.Issue{
			Code:  CodeTooManyWarnings,
			Where: rd.name,
			Msg:   fmt.Sprintf("%d more warnings not listed", rd.droppedWarns),
		})
	}
	return w
}

// fileErr records an error about the input as a whole.
func (rd *reader) fileErr(code, msg, fix string) {
	rd.addErr(gis.Issue{Code: code, Where: rd.name, Msg: msg, Fix: fix})
}

// run reads the collection. It returns only errors of the underlying
// reader; everything wrong with the input becomes an issue.
func (rd *reader) run() error {
	dec := rd.dec
	tok, err := dec.Token()
	if err != nil {
		return rd.fail(err, true)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		rd.fileErr(CodeNotFeatureCollection,
			fmt.Sprintf("the top level is %s, not a GeoJSON FeatureCollection object", describeToken(tok)),
			`the file must be one object: {"type": "FeatureCollection", "features": [...]}`)
		return nil
	}
	sawType, typeOK, sawFeatures := false, false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rd.fail(err, false)
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			sawFeatures = true
			if err := rd.features(); err != nil || rd.stop {
				return err
			}
			continue
		}
		if err := dec.Decode(&rd.skip); err != nil {
			return rd.fail(err, false)
		}
		v := []byte(rd.skip)
		switch key {
		case "type":
			sawType = true
			s, _ := jsonString(v)
			switch s {
			case "FeatureCollection":
				typeOK = true
			case "Feature":
				rd.fileErr(CodeNotFeatureCollection, "the file is a single Feature, not a FeatureCollection",
					`wrap it: {"type": "FeatureCollection", "features": [ <the feature> ]}`)
			default:
				rd.fileErr(CodeNotFeatureCollection,
					fmt.Sprintf("type is %s, not \"FeatureCollection\"", shorten(v)),
					`the file must be one object: {"type": "FeatureCollection", "features": [...]}`)
			}
		case "crs":
			rd.crs(v)
		case "name":
			if s, ok := jsonString(v); ok {
				rd.ds.Name = s
			} else if !isNull(v) {
				rd.badMember("name", v, "a string")
			}
		case "proj":
			if s, ok := jsonString(v); ok {
				rd.ds.Proj = s
			} else if !isNull(v) {
				rd.badMember("proj", v, "a string holding a PROJ definition")
			}
		case "provenance":
			if isNull(v) {
				break
			}
			var m map[string]string
			if json.Unmarshal(v, &m) != nil {
				rd.badMember("provenance", v, "an object of strings")
			} else if len(m) > 0 {
				rd.ds.Provenance = m
			}
		}
		if rd.stop {
			return nil
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return rd.fail(err, false)
	}
	// Nothing may follow the collection. More skips white space, so that
	// InputOffset is where anything that follows starts.
	dec.More()
	pos := dec.InputOffset()
	switch _, err := dec.Token(); {
	case err == io.EOF:
	case err != nil:
		return rd.fail(err, false)
	default:
		line, col := rd.cnt.lineCol(pos)
		rd.addErr(gis.Issue{Code: CodeJSONSyntax, Where: fmt.Sprintf("%s:%d:%d", rd.name, line, col),
			Msg: "invalid JSON: more data after the end of the FeatureCollection",
			Fix: "the file must hold exactly one JSON object; remove what follows it"})
		return nil
	}
	if !sawType && !sawFeatures {
		rd.fileErr(CodeNotFeatureCollection, "the object has neither type nor features: it is not a GeoJSON FeatureCollection",
			`the file must be one object: {"type": "FeatureCollection", "features": [...]}`)
	} else if !sawType {
		rd.fileErr(CodeNotFeatureCollection, `the collection has no "type": "FeatureCollection"`,
			`add "type": "FeatureCollection" to the top-level object`)
	} else if typeOK && !sawFeatures {
		rd.fileErr(CodeNotFeatureCollection, "the FeatureCollection has no features member",
			`add "features": [...] (an empty array for no features)`)
	}
	rd.finishCRS()
	return nil
}

func (rd *reader) badMember(name string, v []byte, want string) {
	rd.addWarn(gis.Issue{Code: CodeBadMember, Where: rd.name,
		Msg: fmt.Sprintf("top-level %s is %s, not %s; ignored", name, shorten(v), want)})
}

// features reads the features array, one Decode per feature.
func (rd *reader) features() error {
	dec := rd.dec
	tok, err := dec.Token()
	if err != nil {
		return rd.fail(err, false)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		rd.fileErr(CodeNotFeatureCollection,
			fmt.Sprintf("features is %s, not an array", describeToken(tok)),
			`features must be an array of Feature objects: "features": [{"type": "Feature", ...}, ...]`)
		return rd.skipAfter(tok)
	}
	for dec.More() {
		if err := dec.Decode(&rd.raw); err != nil {
			return rd.fail(err, false)
		}
		rd.feature(rd.idx, rd.raw)
		rd.idx++
		if rd.stop {
			return nil
		}
		rd.cnt.prune(dec.InputOffset())
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return rd.fail(err, false)
	}
	return nil
}

// skipAfter consumes the rest of a value whose first token was tok.
func (rd *reader) skipAfter(tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := rd.dec.Token()
		if err != nil {
			return rd.fail(err, false)
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return "a number"
	}
}

// fail turns an error of the decoder into an issue and stops reading. It
// returns the error only when it came from the underlying reader.
func (rd *reader) fail(err error, atStart bool) error {
	rd.stop = false // a final issue is always recorded
	defer func() { rd.stop = true }()
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		is := gis.Issue{
			Code:  CodeTooLarge,
			Where: rd.name,
			Msg:   fmt.Sprintf("the input is larger than %s, the limit; reading stopped", formatLimit(rd.opt.MaxBytes)),
			Fix:   "split the network into smaller files (e.g. one per district), or raise the limit",
		}
		rd.errs = append([]gis.Issue{is}, rd.errs...)
		if len(rd.errs) > maxErrors {
			rd.errs = rd.errs[:maxErrors]
		}
	case atStart && err == io.EOF:
		rd.fileErr(CodeJSONSyntax, "the input is empty", "give a GeoJSON FeatureCollection")
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		line, col := rd.cnt.lineCol(rd.cnt.n - rd.cnt.bom)
		rd.addErr(gis.Issue{Code: CodeJSONSyntax, Where: fmt.Sprintf("%s:%d:%d", rd.name, line, col),
			Msg: "invalid JSON: unexpected end of input (the file is truncated)",
			Fix: "the file was cut short: export or upload it again"})
	case errors.As(err, &se):
		line, col := rd.cnt.lineCol(rd.syntaxPos(se))
		msg := "invalid JSON: " + se.Error()
		fix := "correct the JSON at that line and column (a JSON validator shows the same place)"
		if m := se.Error(); strings.HasPrefix(m, "invalid character 'N'") || strings.HasPrefix(m, "invalid character 'I'") ||
			strings.HasPrefix(m, "invalid character 'i'") || strings.HasPrefix(m, "invalid character 'a' in literal null") {
			msg += "; NaN and Infinity are not JSON numbers"
			fix = "replace NaN/Infinity with real numbers (it is usually a broken geometry: fix or drop that feature before export)"
		}
		rd.addErr(gis.Issue{Code: CodeJSONSyntax, Where: fmt.Sprintf("%s:%d:%d", rd.name, line, col), Msg: msg, Fix: fix})
	default:
		return fmt.Errorf("netjson: reading %s: %w", rd.name, err)
	}
	return nil
}

// syntaxPos finds the byte offset of a syntax error. encoding/json's
// SyntaxError.Offset is relative to different starts depending on where
// the error was found, but the decoder's InputOffset is the start of the
// value it was reading (or, for errors between tokens, the offending byte
// itself). Decoding the buffered rest again from there with a fresh decoder
// reproduces an error inside the value with an offset relative to that
// start.
func (rd *reader) syntaxPos(se *json.SyntaxError) int64 {
	base := rd.dec.InputOffset()
	rest, _ := io.ReadAll(rd.dec.Buffered())
	d := json.NewDecoder(bytes.NewReader(rest))
	var v json.RawMessage
	if err := d.Decode(&v); err != nil {
		var se2 *json.SyntaxError
		if errors.As(err, &se2) && se2.Error() == se.Error() && se2.Offset > 0 {
			return base + se2.Offset - 1
		}
	}
	return base
}

func formatLimit(n int64) string {
	switch {
	case n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n < mib:
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/mib, n)
}
