// The map style: a light background (optionally a raster base map), the
// districts, the network coloured by patrol grade or by due status, the
// repair sites and patrol routes, the screens' overlays (a manager's route
// and GPS track, an as-built preview) and the shutoff plan. No glyphs or
// sprites are needed, so the map works offline; numbers on the map are
// HTML markers and the route's arrows an image drawn at start (main.js).

export const colors = {
  background: '#f4f2ec',
  grade: { special: '#8e24aa', 1: '#e53935', 2: '#fb8c00', 3: '#1e88e5', other: '#78909c' },
  due: { done: '#2e7d32', due: '#ff8f00', overdue: '#d50000', planned: '#fdd835', ok: '#90a4ae', none: '#cfd8dc' },
  inactive: '#b0b7bb',
  valve: { open: '#2e7d32', closed: '#c62828', inoperable: '#616161', held: '#6a1b9a' },
  hydrant: '#00897b',
  source: '#0d47a1',
  district: '#8d6e63',
  segment: '#d50000',
  unintended: '#ff9100',
  planValve: { to_close: '#d50000', dry_side: '#fdd835', already_closed: '#37474f', failed: '#000000' },
  site: { emergency: '#ef6c00', planned: '#1565c0', late: '#d50000' },
  route: { patrol: '#1a237e', walk: '#7986cb', road: '#00897b', offnet: '#9e9e9e' },
  routes: '#00838f',
  track: '#00b0ff',
  change: { add: '#2e7d32', change: '#f9a825', split: '#ef6c00', remove: '#c62828' },
  issue: { error: '#d50000', warning: '#ffab00' },
  hit: '#00e5ff',
};

// Pipe layers the user can click.
export const PIPE_LAYERS = ['pipes', 'pipes-crossing', 'pipes-inactive'];

const gradeColor = [
  'match', ['get', 'grade'],
  'special', colors.grade.special,
  '1', colors.grade[1],
  '2', colors.grade[2],
  '3', colors.grade[3],
  colors.grade.other,
];

// dueColor colours a pipe by the due status main.js puts in its feature
// state (GET api/patrol/status): done today, due, overdue, …
const dueColor = [
  'match', ['coalesce', ['feature-state', 'due'], 'none'],
  'done', colors.due.done,
  'due', colors.due.due,
  'overdue', colors.due.overdue,
  'planned', colors.due.planned,
  'ok', colors.due.ok,
  colors.due.none,
];

// pipeColor is the line colour of the pipes for a colouring mode.
export function pipeColor(mode) {
  return mode === 'due' ? dueColor : gradeColor;
}

// Wider lines for larger pipes, growing with zoom.
const pipeWidth = [
  'interpolate', ['linear'], ['zoom'],
  10, ['case', ['>=', ['get', 'dn'], 600], 2.2, ['>=', ['get', 'dn'], 300], 1.4, 0.7],
  14, ['case', ['>=', ['get', 'dn'], 600], 4, ['>=', ['get', 'dn'], 300], 2.8, ['>=', ['get', 'dn'], 200], 2, 1.4],
  18, ['case', ['>=', ['get', 'dn'], 600], 9, ['>=', ['get', 'dn'], 300], 6, ['>=', ['get', 'dn'], 200], 4.5, 3],
];

const inService = ['==', ['get', 'status'], 'in_service'];
const noCrossing = ['==', ['coalesce', ['get', 'crossing'], ''], ''];

const held = ['boolean', ['feature-state', 'held'], false];

const valveColor = [
  'case',
  held, colors.valve.held,
  ['!', ['get', 'operable']], colors.valve.inoperable,
  ['get', 'normally_open'], colors.valve.open,
  colors.valve.closed,
];

const pointRadius = (small, large) => ['interpolate', ['linear'], ['zoom'], 13, small, 18, large];
const empty = () => ({ type: 'FeatureCollection', features: [] });

// Overlay layers each screen shows (the others hide them): main.js toggles
// their visibility with the screen.
export const SCREEN_LAYERS = {
  dispatch: ['patrol-routes'], // and the repair sites, shown by dispatch.js when there are any
  patrol: ['route-casing', 'route-line', 'route-arrows', 'track-line', 'track-here'],
  survey: ['asbuilt-lines', 'asbuilt-points', 'asbuilt-issues', 'asbuilt-issue-hit'],
};

// volatileTiles is the URL template of a volatile tile layer: stamp
// changes it when the layer's rows change (a job opened), so that the
// browser asks again instead of revalidating a version-based ETag.
export function volatileTiles(base, layer, stamp) {
  return `${base}tiles/${layer}/{z}/{x}/{y}.mvt?v=${stamp}`;
}

export function buildStyle({ base, basemap, stamp = 0, today = '', version = '' }) {
  const sources = {
    network: {
      type: 'vector',
      tiles: [`${base}tiles/network/{z}/{x}/{y}.mvt${version !== '' && version != null ? `?v=${version}` : ''}`],
      minzoom: 0,
      maxzoom: 16,
      // Pipes and valves are addressed by their ids for their states (due
      // status, held closed by a job).
      promoteId: { pipes: 'id', valves: 'id' },
    },
    districts: {
      type: 'vector',
      tiles: [`${base}tiles/districts/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom: 14,
    },
    'repair-sites': { type: 'vector', tiles: [volatileTiles(base, 'repair_sites', stamp)], minzoom: 0, maxzoom: 16 },
    'patrol-routes': { type: 'vector', tiles: [volatileTiles(base, 'patrol_routes', stamp)], minzoom: 10, maxzoom: 16 },
    route: { type: 'geojson', data: empty() },
    track: { type: 'geojson', data: empty() },
    asbuilt: { type: 'geojson', data: empty() },
    'asbuilt-hit': { type: 'geojson', data: empty() },
    'search-hit': { type: 'geojson', data: empty() },
    'plan-range': { type: 'geojson', data: empty() },
    'plan-valves': { type: 'geojson', data: empty() },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': colors.background } }];
  if (basemap) {
    sources.basemap = { type: 'raster', tiles: [basemap], tileSize: 256, maxzoom: 19 };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.55, 'raster-saturation': -0.6 } });
  }
  const hidden = { visibility: 'none' };
  layers.push(
    {
      id: 'districts-fill', type: 'fill', source: 'districts', 'source-layer': 'districts',
      paint: { 'fill-color': colors.district, 'fill-opacity': 0.035 },
    },
    {
      id: 'districts-line', type: 'line', source: 'districts', 'source-layer': 'districts',
      paint: { 'line-color': colors.district, 'line-width': 1.2, 'line-opacity': 0.6, 'line-dasharray': [4, 3] },
    },
    // The isolated range under the pipes, as a wide halo.
    {
      id: 'plan-unintended', type: 'line', source: 'plan-range',
      filter: ['==', ['get', 'part'], 'unintended'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': colors.unintended, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 7, 18, 18], 'line-opacity': 0.6 },
    },
    {
      id: 'plan-segment', type: 'line', source: 'plan-range',
      filter: ['==', ['get', 'part'], 'segment'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': colors.segment, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 7, 18, 18], 'line-opacity': 0.45 },
    },
    // A manager's route under the pipes: a wide casing shows the way.
    {
      id: 'route-casing', type: 'line', source: 'route', layout: { ...hidden, 'line-cap': 'round', 'line-join': 'round' },
      filter: ['==', ['get', 'kind'], 'patrol'],
      paint: { 'line-color': colors.route.patrol, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 7, 18, 20], 'line-opacity': 0.3 },
    },
    {
      id: 'search-hit-line', type: 'line', source: 'search-hit', filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round' },
      paint: { 'line-color': colors.hit, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 8, 18, 20], 'line-opacity': 0.6 },
    },
    {
      id: 'pipes-inactive', type: 'line', source: 'network', 'source-layer': 'pipes',
      filter: ['!', inService],
      paint: { 'line-color': colors.inactive, 'line-width': 1.2, 'line-dasharray': [1, 2] },
    },
    {
      id: 'pipes', type: 'line', source: 'network', 'source-layer': 'pipes',
      filter: ['all', inService, noCrossing],
      layout: { 'line-cap': 'round', 'line-join': 'round', 'line-sort-key': ['get', 'dn'] },
      paint: { 'line-color': gradeColor, 'line-width': pipeWidth },
    },
    {
      id: 'pipes-crossing', type: 'line', source: 'network', 'source-layer': 'pipes',
      filter: ['all', inService, ['!', noCrossing]],
      layout: { 'line-sort-key': ['get', 'dn'] },
      paint: { 'line-color': gradeColor, 'line-width': pipeWidth, 'line-dasharray': [2, 1.2] },
    },
    // Every patrol route of the day (dispatcher's overview), over the pipes.
    {
      id: 'patrol-routes', type: 'line', source: 'patrol-routes', 'source-layer': 'patrol_routes', layout: { ...hidden, 'line-cap': 'round' },
      filter: ['all', ['==', ['get', 'date'], today], ['!=', ['get', 'kind'], 'offnet']],
      paint: {
        'line-color': colors.routes, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 2, 18, 6], 'line-opacity': 0.8,
        'line-dasharray': ['match', ['get', 'kind'], 'patrol', ['literal', [1, 0]], ['literal', [1, 1.5]]],
      },
    },
    // The walks between patrolled pipes, dashed; a patrolled pipe shows its
    // due colour inside the route's casing, with the arrows on top.
    {
      id: 'route-line', type: 'line', source: 'route', layout: { ...hidden, 'line-cap': 'round', 'line-join': 'round' },
      filter: ['all', ['==', ['geometry-type'], 'LineString'], ['!=', ['get', 'kind'], 'patrol']],
      paint: {
        'line-color': ['match', ['get', 'kind'], 'walk', colors.route.walk, 'road', colors.route.road, colors.route.offnet],
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, 1.5, 18, 3],
        'line-dasharray': [2, 1.5],
      },
    },
    {
      id: 'route-arrows', type: 'symbol', source: 'route', filter: ['all', ['==', ['geometry-type'], 'LineString'], ['!=', ['get', 'kind'], 'offnet']],
      layout: {
        ...hidden, 'symbol-placement': 'line', 'symbol-spacing': 70, 'icon-image': 'route-arrow',
        'icon-size': ['interpolate', ['linear'], ['zoom'], 13, 0.55, 18, 1], 'icon-allow-overlap': true,
        'icon-ignore-placement': true, 'icon-rotation-alignment': 'map', 'icon-keep-upright': false,
      },
    },
    {
      id: 'track-line', type: 'line', source: 'track', filter: ['==', ['geometry-type'], 'LineString'],
      layout: { ...hidden, 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': colors.track, 'line-width': 3.5, 'line-opacity': 0.9 },
    },
    {
      id: 'track-here', type: 'circle', source: 'track', filter: ['==', ['geometry-type'], 'Point'], layout: hidden,
      paint: { 'circle-color': colors.track, 'circle-radius': 7, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2.5 },
    },
    {
      id: 'hydrants', type: 'circle', source: 'network', 'source-layer': 'hydrants', minzoom: 13,
      paint: {
        'circle-color': colors.hydrant, 'circle-radius': pointRadius(2, 5),
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
      },
    },
    {
      id: 'valves', type: 'circle', source: 'network', 'source-layer': 'valves', minzoom: 14,
      paint: {
        'circle-color': valveColor, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, ['case', held, 5, 2.5], 18, ['case', held, 9, 6]],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.2,
      },
    },
    {
      id: 'sources', type: 'circle', source: 'network', 'source-layer': 'sources',
      paint: {
        'circle-color': colors.source, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 5, 16, 9],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
      },
    },
    // An as-built preview: changes, then every issue on top.
    {
      id: 'asbuilt-lines', type: 'line', source: 'asbuilt', layout: { ...hidden, 'line-cap': 'round' },
      filter: ['all', ['==', ['geometry-type'], 'LineString'], ['has', 'change']],
      paint: {
        'line-color': ['match', ['get', 'change'], 'add', colors.change.add, 'change', colors.change.change, 'split', colors.change.split, colors.change.remove],
        'line-width': ['interpolate', ['linear'], ['zoom'], 12, 3, 18, 9],
        'line-dasharray': ['match', ['get', 'change'], 'remove', ['literal', [1, 1]], 'split', ['literal', [3, 1]], ['literal', [1, 0]]],
      },
    },
    {
      id: 'asbuilt-points', type: 'circle', source: 'asbuilt', layout: hidden,
      filter: ['all', ['==', ['geometry-type'], 'Point'], ['has', 'change']],
      paint: {
        'circle-color': ['match', ['get', 'change'], 'add', colors.change.add, 'split_point', colors.change.split, 'change', colors.change.change, colors.change.remove],
        'circle-radius': 5, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
      },
    },
    {
      id: 'asbuilt-issues', type: 'circle', source: 'asbuilt', layout: hidden,
      filter: ['all', ['==', ['geometry-type'], 'Point'], ['has', 'issue']],
      paint: {
        'circle-color': ['match', ['get', 'severity'], 'error', colors.issue.error, colors.issue.warning],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 5, 18, 9],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
      },
    },
    {
      id: 'asbuilt-issue-hit', type: 'circle', source: 'asbuilt-hit', layout: hidden,
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 18, 'circle-stroke-color': colors.hit, 'circle-stroke-width': 4 },
    },
    // Repair sites: open jobs; late ones (feature state from the repair API) red.
    {
      id: 'repair-sites-halo', type: 'circle', source: 'repair-sites', 'source-layer': 'repair_sites', layout: hidden,
      paint: {
        'circle-color': colors.site.late, 'circle-radius': ['case', ['boolean', ['feature-state', 'late'], false], 17, 0],
        'circle-opacity': 0.25,
      },
    },
    {
      id: 'repair-sites', type: 'circle', source: 'repair-sites', 'source-layer': 'repair_sites', layout: hidden,
      paint: {
        'circle-color': ['case', ['boolean', ['feature-state', 'late'], false], colors.site.late,
          ['match', ['get', 'kind'], 'planned', colors.site.planned, colors.site.emergency]],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 5, 16, 9],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2.5,
      },
    },
    {
      id: 'search-hit-point', type: 'circle', source: 'search-hit', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': 14, 'circle-stroke-color': colors.hit, 'circle-stroke-width': 4 },
    },
    {
      id: 'plan-valves', type: 'circle', source: 'plan-valves',
      filter: ['!=', ['get', 'role'], 'to_close'],
      paint: {
        'circle-color': ['match', ['get', 'role'],
          'dry_side', colors.planValve.dry_side,
          'already_closed', colors.planValve.already_closed,
          'failed', colors.planValve.failed,
          '#999999'],
        'circle-radius': 6,
        'circle-stroke-color': ['match', ['get', 'role'], 'failed', colors.segment, '#ffffff'],
        'circle-stroke-width': 2,
      },
    },
  );
  return { version: 8, name: 'waterline', sources, layers };
}

// arrowImage draws the route's direction arrow (pointing along the line,
// i.e. east in the image) for map.addImage.
export function arrowImage(size = 24) {
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  g.fillStyle = '#ffffff';
  g.strokeStyle = colors.route.patrol;
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(size * 0.2, size * 0.2);
  g.lineTo(size * 0.85, size * 0.5);
  g.lineTo(size * 0.2, size * 0.8);
  g.lineTo(size * 0.38, size * 0.5);
  g.closePath();
  g.fill();
  g.stroke();
  return g.getImageData(0, 0, size, size);
}
