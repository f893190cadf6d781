// Package ogr runs GDAL's ogr2ogr (Debian's gdal-bin) to convert one layer
// of a data source GDAL reads (a shapefile, a GeoPackage, DXF, an OSM
// extract) to GeoJSON in the source's own CRS. It is the one runner behind
// the road import (gis/roads) and the as-built import (gis/asbuilt); the
// callers phrase the errors for their users.
package ogr

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Runner runs one ogr2ogr program, writing its output in a private
// temporary directory. Make one with New and Close it when done. A Runner
// is used by one goroutine at a time.
type Runner struct {
	prog string // the program's path, as exec.LookPath found it
	dir  string // the work directory
	n    int    // outputs written so far
}

// NotFoundError is New's error when the program cannot be found or run:
// GDAL is not installed, or the path named is wrong.
type NotFoundError struct {
	Program string // the name or path given ("ogr2ogr" when empty)
	Err     error  // exec.LookPath's error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("ogr2ogr %q not found: %v", e.Program, e.Err)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// New finds program (a name looked up on the PATH, or a path; "" is
// "ogr2ogr" on the PATH) and makes the work directory, in os.TempDir,
// named by pattern as os.MkdirTemp does. Errors: *NotFoundError when the
// program is not found (checked first), else the error of making the
// directory.
func New(program, pattern string) (*Runner, error) {
	if program == "" {
		program = "ogr2ogr"
	}
	prog, err := exec.LookPath(program)
	if err != nil {
		return nil, &NotFoundError{Program: program, Err: err}
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	return &Runner{prog: prog, dir: dir}, nil
}

// Program is the path of the ogr2ogr program run. GDAL's other programs
// (ogrinfo) are installed beside it.
func (r *Runner) Program() string { return r.prog }

// Dir is the work directory. A caller may put its inputs there (an
// unpacked archive); Close removes them with it. Names of the form
// out-N.geojson are the Runner's.
func (r *Runner) Dir() string { return r.dir }

// Close removes the work directory and everything in it, including the
// outputs of ToGeoJSON (an output still open stays readable on Unix).
func (r *Runner) Close() error { return os.RemoveAll(r.dir) }

// Options choose what ToGeoJSON converts.
type Options struct {
	// Layer is the source layer converted. "" converts every layer, as
	// ogr2ogr does; GeoJSON holds one, so leave it empty only for a source
	// with one layer (a shapefile).
	Layer string
	// Where is an OGR SQL filter on the features (ogr2ogr -where).
	Where string
	// SkipFailures keeps converting past features that fail
	// (ogr2ogr -skipfailures).
	SkipFailures bool
}

// Error is a failed conversion: ogr2ogr exited with an error, or it exited
// cleanly but wrote no output.
type Error struct {
	// Stderr is what ogr2ogr wrote to its standard error, trimmed of
	// surrounding white space (may be empty).
	Stderr string
	// NoOutput reports that ogr2ogr ran without an error but its output
	// cannot be opened; Err is then the error of opening it.
	NoOutput bool
	// Err is the cause: the error of running ogr2ogr (an *exec.ExitError,
	// or the error of starting it), or with NoOutput the error of opening
	// the output. When the context passed to ToGeoJSON is done, ogr2ogr
	// was killed: check the context's Err to tell a timeout.
	Err error
}

// maxDetail bounds Detail: ogr2ogr may repeat a message for every feature.
const maxDetail = 300

// Detail is Stderr cut to its first 300 bytes, for a message to a user.
func (e *Error) Detail() string {
	if len(e.Stderr) > maxDetail {
		return e.Stderr[:maxDetail]
	}
	return e.Stderr
}

func (e *Error) Error() string {
	what := "ogr2ogr failed"
	if e.NoOutput {
		what = "ogr2ogr wrote nothing"
	}
	if e.Stderr != "" {
		return what + ": " + e.Detail()
	}
	return fmt.Sprintf("%s: %v", what, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ToGeoJSON converts src (a file path GDAL opens) to a new GeoJSON file in
// the work directory, as a FeatureCollection in the source's CRS (a crs
// member naming it, not RFC 7946 lon/lat) without bounding boxes, and
// returns that file opened for reading at its start; the caller closes it.
// ogr2ogr is killed when ctx is done. Errors: *Error when ogr2ogr fails
// or writes nothing.
func (r *Runner) ToGeoJSON(ctx context.Context, src string, opt Options) (*os.File, error) {
	r.n++
	out := filepath.Join(r.dir, fmt.Sprintf("out-%d.geojson", r.n))
	args := []string{"-f", "GeoJSON", "-lco", "RFC7946=NO", "-lco", "WRITE_BBOX=NO"}
	if opt.SkipFailures {
		args = append(args, "-skipfailures")
	}
	args = append(args, out, src)
	if opt.Layer != "" {
		args = append(args, opt.Layer)
	}
	if opt.Where != "" {
		args = append(args, "-where", opt.Where)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, r.prog, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, &Error{Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, &Error{Stderr: strings.TrimSpace(stderr.String()), NoOutput: true, Err: err}
	}
	return f, nil
}
