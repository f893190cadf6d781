// The map style: a light background (optionally a raster base map), the
// districts, the network coloured by patrol grade, and the shutoff plan.
// No glyphs or sprites are needed, so the map works offline; numbers on the
// map are HTML markers.

export const colors = {
  background: '#f4f2ec',
  grade: { special: '#8e24aa', 1: '#e53935', 2: '#fb8c00', 3: '#1e88e5', other: '#78909c' },
  inactive: '#b0b7bb',
  valve: { open: '#2e7d32', closed: '#c62828', inoperable: '#616161' },
  hydrant: '#00897b',
  source: '#0d47a1',
  district: '#8d6e63',
  segment: '#d50000',
  unintended: '#ff9100',
  planValve: { to_close: '#d50000', dry_side: '#fdd835', already_closed: '#37474f', failed: '#000000' },
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

// Wider lines for larger pipes, growing with zoom.
const pipeWidth = [
  'interpolate', ['linear'], ['zoom'],
  10, ['case', ['>=', ['get', 'dn'], 600], 2.2, ['>=', ['get', 'dn'], 300], 1.4, 0.7],
  14, ['case', ['>=', ['get', 'dn'], 600], 4, ['>=', ['get', 'dn'], 300], 2.8, ['>=', ['get', 'dn'], 200], 2, 1.4],
  18, ['case', ['>=', ['get', 'dn'], 600], 9, ['>=', ['get', 'dn'], 300], 6, ['>=', ['get', 'dn'], 200], 4.5, 3],
];

const inService = ['==', ['get', 'status'], 'in_service'];
const noCrossing = ['==', ['coalesce', ['get', 'crossing'], ''], ''];

const valveColor = [
  'case',
  ['!', ['get', 'operable']], colors.valve.inoperable,
  ['get', 'normally_open'], colors.valve.open,
  colors.valve.closed,
];

const pointRadius = (small, large) => ['interpolate', ['linear'], ['zoom'], 13, small, 18, large];

export function buildStyle({ base, basemap }) {
  const sources = {
    network: {
      type: 'vector',
      tiles: [`${base}tiles/network/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom: 16,
    },
    districts: {
      type: 'vector',
      tiles: [`${base}tiles/districts/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom: 14,
    },
    'plan-range': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    'plan-valves': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': colors.background } }];
  if (basemap) {
    sources.basemap = { type: 'raster', tiles: [basemap], tileSize: 256, maxzoom: 19 };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.55, 'raster-saturation': -0.6 } });
  }
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
        'circle-color': valveColor, 'circle-radius': pointRadius(2.5, 6),
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
