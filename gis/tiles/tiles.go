// Package tiles publishes the network stored in PostGIS as Mapbox vector
// tiles (EPSG:3857, built by ST_AsMVT) and as OGC-API-Features-style GeoJSON
// (EPSG:4326).
//
// Layers come from a fixed allow-list (Layers); a request's layer name is
// only ever looked up in it, never put into SQL. Every value reaches SQL as
// a bind parameter. Rows are filtered with the tile's envelope transformed
// into the storage CRS, so the tables' GiST indexes are used.
//
// The storage CRS of a deployment is a local projected one (a
// Gauss-Krüger zone, a national grid): transforming a world-sized tile into
// it gives meaningless coordinates. The service therefore clips every
// envelope to the extent of the stored data (plus ExtentMargin) before
// transforming it, and answers tiles outside that extent with an empty
// tile, without a database round trip.
package tiles

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"
)

// Errors returned by the service, wrapped with the detail
// (fmt.Errorf("%w: …")): test them with errors.Is.
var (
	// ErrUnknownLayer: the layer or collection is not in the allow-list.
	ErrUnknownLayer = errors.New("tiles: unknown layer")
	// ErrOutOfRange: z/x/y is not a tile (z outside [0, MaxZoom], x or y
	// outside [0, 2^z)), or a bbox is not a lon/lat box.
	ErrOutOfRange = errors.New("tiles: out of range")
)

// ExtentMargin (storage CRS units, metres) is added around the stored data's
// extent; features beyond it are not drawn.
const ExtentMargin = 2000

// Features limits.
const (
	DefaultLimit = 1000
	MaxLimit     = 100000
)

// Service renders tiles and feature collections from the network tables.
// It is safe for concurrent use.
type Service struct {
	pool   *pgxpool.Pool
	srid   int
	cache  *lru // nil: no cache
	layers map[string]*layer
	tiles  singleflight.Group // one render per tile at a time

	mu            sync.Mutex
	extents       map[int64]*bounds // by network version, a few recent ones
	latest        *bounds           // of the newest version seen
	latestVersion int64
	extentGroup   singleflight.Group
}

// New returns a Service reading from pool, whose geometry is stored in
// EPSG:srid, caching up to cacheBytes of tiles (0 or less: no cache).
func New(pool *pgxpool.Pool, srid int, cacheBytes int64) *Service {
	s := &Service{pool: pool, srid: srid, layers: map[string]*layer{}, extents: map[int64]*bounds{}}
	if cacheBytes > 0 {
		s.cache = newLRU(cacheBytes)
	}
	for _, l := range allLayers {
		s.layers[l.name] = l
	}
	return s
}

// Layers returns the names of the published layers (tile layers and feature
// collections), in a fixed order. Composite tile layers (TileLayers) are not
// collections and are not listed.
func (s *Service) Layers() []string {
	out := make([]string, len(allLayers))
	for i, l := range allLayers {
		out[i] = l.name
	}
	return out
}

// TileLayers returns every name Tile accepts: the composites ("network")
// and the layers.
func (s *Service) TileLayers() []string {
	var out []string
	for name := range composites {
		out = append(out, name)
	}
	sort.Strings(out)
	return append(out, s.Layers()...)
}

// Composite returns the layers of a composite tile layer ("network"), nil
// when name is not one.
func (s *Service) Composite(name string) []string {
	return append([]string(nil), composites[name]...)
}

// resolve returns the layers a tile layer name stands for.
func (s *Service) resolve(name string) ([]*layer, error) {
	if names, ok := composites[name]; ok {
		ls := make([]*layer, len(names))
		for i, n := range names {
			ls[i] = s.layers[n]
		}
		return ls, nil
	}
	if l, ok := s.layers[name]; ok {
		return []*layer{l}, nil
	}
	return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownLayer, name, strings.Join(s.TileLayers(), ", "))
}

// CheckTile returns ErrOutOfRange (wrapped) unless z/x/y is a tile.
func CheckTile(z, x, y int) error {
	if z < 0 || z > MaxZoom {
		return fmt.Errorf("%w: zoom %d is not within [0, %d]", ErrOutOfRange, z, MaxZoom)
	}
	n := 1 << z
	if x < 0 || x >= n || y < 0 || y >= n {
		return fmt.Errorf("%w: tile %d/%d/%d: x and y must be within [0, %d) at zoom %d", ErrOutOfRange, z, x, y, n, z)
	}
	return nil
}

// Tile returns the vector tile z/x/y of layer (a layer or a composite such
// as "network", whose layers are joined in one tile and one round trip).
// version is the network version the tile is for: tiles are cached by
// (version, layer, z, x, y), so a new version is never answered from an old
// one's cache. A tile with nothing in it is an empty, non-nil slice. The
// returned bytes are shared with the cache and must not be modified.
//
// Errors: ErrUnknownLayer, ErrOutOfRange, the context's error, or a
// database error.
func (s *Service) Tile(ctx context.Context, layerName string, z, x, y int, version int64) ([]byte, error) {
	ls, err := s.resolve(layerName)
	if err != nil {
		return nil, err
	}
	if err := CheckTile(z, x, y); err != nil {
		return nil, err
	}
	cacheable := s.cache != nil
	for _, l := range ls {
		cacheable = cacheable && !l.volatile
	}
	k := key{version: version, layer: layerName, z: z, x: x, y: y}
	if cacheable {
		if b, ok := s.cache.get(k); ok {
			return b, nil
		}
	}
	sk := strconv.FormatInt(version, 10) + "/" + layerName + "/" + strconv.Itoa(z) + "/" + strconv.Itoa(x) + "/" + strconv.Itoa(y)
	v, err, _ := s.tiles.Do(sk, func() (any, error) {
		return s.render(ctx, layerName, ls, z, x, y, version)
	})
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The request that rendered it went away; render for this one.
		v, err = s.render(ctx, layerName, ls, z, x, y, version)
	}
	if err != nil {
		return nil, err
	}
	b := v.([]byte)
	if cacheable {
		s.cache.add(k, b)
	}
	return b, nil
}

// tileBounds returns the EPSG:3857 envelope of tile z/x/y grown by m tiles
// on each side.
func tileBounds(z, x, y int, m float64) [4]float64 {
	const half = 20037508.342789244
	size := 2 * half / float64(int64(1)<<z)
	return [4]float64{
		-half + (float64(x)-m)*size, half - (float64(y)+1+m)*size,
		-half + (float64(x)+1+m)*size, half - (float64(y)-m)*size,
	}
}

func intersect(a, b [4]float64) ([4]float64, bool) {
	r := [4]float64{math.Max(a[0], b[0]), math.Max(a[1], b[1]), math.Min(a[2], b[2]), math.Min(a[3], b[3])}
	return r, r[0] < r[2] && r[1] < r[3]
}

func (s *Service) render(ctx context.Context, name string, ls []*layer, z, x, y int, version int64) ([]byte, error) {
	var active []*layer
	for _, l := range ls {
		if z >= l.minZoom {
			active = append(active, l)
		}
	}
	if len(active) == 0 {
		return []byte{}, nil
	}
	ext, err := s.extent(ctx, version)
	if err != nil {
		return nil, err
	}
	if !ext.ok {
		return []byte{}, nil
	}
	if _, ok := intersect(tileBounds(z, x, y, margin), ext.merc); !ok {
		return []byte{}, nil
	}
	q, args := tileQuery(active, z, x, y, ext.merc, s.srid)
	var b []byte
	if err := s.queryRow(ctx, q, args, &b); err != nil {
		return nil, fmt.Errorf("tiles: %s %d/%d/%d: %w", name, z, x, y, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// tileQuery builds the query of one tile of the given layers, each an
// ST_AsMVT of its own, joined with ||. Only constants of the layer table
// are written into the text; every value is a parameter:
//
//	$1, $2, $3  z, x, y
//	$4          the filter margin (a fraction of the tile)
//	$5 … $8     the data extent in EPSG:3857 the filter envelope is clipped to
//	$9          the storage SRID
//
// The minimum DN of a thinned layer is a constant of the layer table and
// is written as a literal.
func tileQuery(ls []*layer, z, x, y int, clip [4]float64, srid int) (string, []any) {
	args := []any{z, x, y, margin, clip[0], clip[1], clip[2], clip[3], srid}
	const env = "ST_TileEnvelope($1, $2, $3)"
	const filter = "ST_Transform(ST_ClipByBox2D(ST_TileEnvelope($1, $2, $3, margin => $4), ST_MakeEnvelope($5, $6, $7, $8, 3857)::box2d), $9::integer)"
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, l := range ls {
		if i > 0 {
			sb.WriteString("\n || ")
		}
		sb.WriteString("(SELECT COALESCE(ST_AsMVT(t, '")
		sb.WriteString(l.name)
		sb.WriteString("', " + strconv.Itoa(extent) + ", 'geom'")
		if l.fid != "" {
			sb.WriteString(", 'fid'")
		}
		sb.WriteString("), ''::bytea) FROM (SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), " + env + ", " +
			strconv.Itoa(extent) + ", " + strconv.Itoa(buffer) + ", true) AS geom")
		if l.fid != "" {
			sb.WriteString(", " + l.fid + " AS fid")
		}
		for _, p := range l.props {
			sb.WriteString(", " + p.expr + " AS " + p.name)
		}
		sb.WriteString(" FROM " + l.source(srid, filter) + " WHERE geom && " + filter)
		if d := l.minDN(z); d > 0 {
			// A constant of the thinning table, written as a literal so that
			// the planner can use a partial index (… WHERE dn >= 600).
			sb.WriteString(" AND dn >= " + strconv.Itoa(d))
		}
		if l.where != "" {
			sb.WriteString(" AND (" + l.where + ")")
		}
		// No "WHERE geom IS NOT NULL" outside: the planner would push it
		// into the scan and clip every row twice; ST_AsMVT skips rows whose
		// geometry clipped away (NULL) itself.
		sb.WriteString(") t)")
	}
	return sb.String(), args
}

// TileJSON describes a tile layer (TileJSON 3.0.0) served at
// tileURLTemplate (with {z}/{x}/{y}); nil when the layer is unknown.
func (s *Service) TileJSON(layerName, tileURLTemplate string) map[string]any {
	ls, err := s.resolve(layerName)
	if err != nil {
		return nil
	}
	minZoom := MaxDetailZoom
	var vls []map[string]any
	for _, l := range ls {
		fields := map[string]string{}
		for _, p := range l.props {
			fields[p.name] = p.typ
		}
		minZoom = min(minZoom, l.minZoom)
		vls = append(vls, map[string]any{
			"id": l.name, "fields": fields, "minzoom": l.minZoom, "maxzoom": MaxDetailZoom,
			"description": l.desc, "geometry_type": l.geomType,
		})
	}
	tj := map[string]any{
		"tilejson": "3.0.0", "name": layerName, "scheme": "xyz",
		"tiles": []string{tileURLTemplate}, "minzoom": minZoom, "maxzoom": MaxDetailZoom,
		"vector_layers": vls,
	}
	s.mu.Lock()
	if s.latest != nil && s.latest.ok {
		tj["bounds"] = s.latest.lonlat
	}
	s.mu.Unlock()
	return tj
}

// Volatile reports whether a tile layer's rows change outside network
// versions (repair sites, patrol routes): its tiles are never cached here,
// and an HTTP layer must not answer them from a version-based ETag.
func (s *Service) Volatile(layerName string) bool {
	ls, err := s.resolve(layerName)
	if err != nil {
		return false
	}
	for _, l := range ls {
		if l.volatile {
			return true
		}
	}
	return false
}

// Stats reports the tile cache's use (zero when there is no cache).
func (s *Service) Stats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	return s.cache.stats()
}

// bounds is the extent of the stored data, grown by ExtentMargin.
type bounds struct {
	ok     bool       // false: no data at all
	merc   [4]float64 // EPSG:3857
	lonlat [4]float64 // EPSG:4326
}

// extent returns the data extent for a network version, computing it once
// per version.
func (s *Service) extent(ctx context.Context, version int64) (*bounds, error) {
	s.mu.Lock()
	b, ok := s.extents[version]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	v, err, _ := s.extentGroup.Do(strconv.FormatInt(version, 10), func() (any, error) {
		return s.computeExtent(ctx)
	})
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		v, err = s.computeExtent(ctx)
	}
	if err != nil {
		return nil, err
	}
	b = v.(*bounds)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extents[version] = b
	if s.latest == nil || version >= s.latestVersion {
		s.latest, s.latestVersion = b, version
	}
	for len(s.extents) > 4 { // keep the newest few versions
		oldest := int64(math.MaxInt64)
		for v := range s.extents {
			oldest = min(oldest, v)
		}
		delete(s.extents, oldest)
	}
	return b, nil
}

func (s *Service) computeExtent(ctx context.Context) (*bounds, error) {
	var sb strings.Builder
	sb.WriteString("SELECT ST_Extent(b) FROM (")
	n := 0
	for _, l := range allLayers {
		if l.from != "" {
			continue // derived from the others (or from outside the network)
		}
		if n > 0 {
			sb.WriteString(" UNION ALL ")
		}
		n++
		sb.WriteString("SELECT ST_Extent(geom)::geometry AS b FROM " + l.table)
	}
	sb.WriteString(") u")
	q := `WITH e AS (SELECT ST_Expand(ST_SetSRID((` + sb.String() + `)::geometry, $1::integer), $2::float8) AS b),
	s AS (SELECT ST_Segmentize(b, GREATEST(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b)) / 32) AS b FROM e WHERE b IS NOT NULL),
	t AS (SELECT ST_Transform(b, 3857) AS m, ST_Transform(b, 4326) AS g FROM s)
	SELECT ST_XMin(m), ST_YMin(m), ST_XMax(m), ST_YMax(m), ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM t`
	b := &bounds{ok: true}
	err := s.queryRow(ctx, q, []any{s.srid, float64(ExtentMargin)},
		&b.merc[0], &b.merc[1], &b.merc[2], &b.merc[3], &b.lonlat[0], &b.lonlat[1], &b.lonlat[2], &b.lonlat[3])
	if errors.Is(err, pgx.ErrNoRows) {
		return &bounds{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tiles: data extent: %w", err)
	}
	return b, nil
}

// queryRow runs a one-row, read-only query with JIT compilation off, in one
// round trip. PostGIS declares its functions costly, so tile and GeoJSON
// queries pass jit_above_cost and PostgreSQL would spend up to a second
// compiling each one (measured: z10 tiles of a 40,000-pipe city took 810 ms
// with JIT, 40 ms without). SET LOCAL keeps the setting to this
// transaction; a connection left in a transaction by an error is dropped by
// the pool, not reused.
func (s *Service) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN READ ONLY")
	b.Queue("SET LOCAL jit = off")
	b.Queue(q, args...).QueryRow(func(row pgx.Row) error { return row.Scan(dest...) })
	b.Queue("COMMIT")
	return s.pool.SendBatch(ctx, b).Close()
}

// Warm readies the service for its first requests after a start: it opens
// up to conns pooled connections at once, each running one transformation
// (a new PostgreSQL backend loads PostGIS and sets up PROJ on its first
// ST_Transform, which costs far more than a tile), and computes the data
// extent of the current network version. Call it once the network is
// loaded; an error is worth a log line, not a failed start.
func (s *Service) Warm(ctx context.Context, conns int) error {
	v, err := s.currentVersion(ctx)
	if err != nil {
		return err
	}
	b, err := s.extent(ctx, v)
	if err != nil {
		return err
	}
	if !b.ok {
		return nil // no data: tiles are answered without the database
	}
	// The middle of the data, there and back, as a tile's filter and
	// geometry are transformed.
	mx, my := (b.merc[0]+b.merc[2])/2, (b.merc[1]+b.merc[3])/2
	conns = max(1, min(conns, int(s.pool.Config().MaxConns)))
	errs := make(chan error, conns)
	for range conns {
		go func() {
			var x float64
			errs <- s.queryRow(ctx, "SELECT ST_X(ST_Transform(ST_Transform(ST_SetSRID(ST_MakePoint($2, $3), 3857), $1::integer), 3857))",
				[]any{s.srid, mx, my}, &x)
		}()
	}
	var first error
	for range conns {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("tiles: warm: %w", err)
		}
	}
	return first
}
