// Waterline map UI: one page, three screens on one map —
//   调度 dispatch (dispatch.js): click or search a pipe → the shutoff plan
//     (plan.js), the notice, open a repair job, the board of repair sites;
//   巡检 patrol (patrol.js): a district manager's route for today, due
//     pipes, the GPS track, anomaly reports;
//   竣工测量 survey (survey.js): as-built uploads, preview, approval.
// The network comes from vector tiles, coloured by patrol grade or due
// status. Chinese first, with an English switch.
import { Map as MapLibreMap, NavigationControl, ScaleControl, AttributionControl, setWorkerUrl, prewarm } from 'maplibre-gl';

import { api, base, loadSession, logout, screensFor, serverNow, session } from './api.js';
import { formatCoords, projected } from './crs.js';
import { h, fill } from './dom.js';
import { initLang, lang, setLang, setZone, t, apply } from './i18n.js';
import { showError } from './notify.js';
import { initPlan, state, showPanel, closePlan, clickPipe } from './plan.js';
import { buildStyle, colors, pipeColor, arrowImage, PIPE_LAYERS, SCREEN_LAYERS, volatileTiles } from './style.js';
import * as dispatch from './dispatch.js';
import * as patrol from './patrol.js';
import * as survey from './survey.js';

// The MapLibre worker is shipped next to app.js (see build.mjs); it starts
// loading now, while the page asks the API who and where.
setWorkerUrl(new URL('maplibre-gl-worker.js', import.meta.url).href);
prewarm();

const JINAN = [117.0, 36.67];
const SCREENS = { dispatch, patrol, survey };
const MODE_KEY = 'waterline.mode';

// window.__waterline is what the browser tests read: map (MapLibre),
// ready (first frames rendered), firstPaint (ms from navigation to the
// first idle frame with pipes), state (the plan), plans (plans shown),
// errors (map errors), app, projected (crs.js), and what the screens show
// (due, route, board, survey, …).
const w = (window.__waterline = { state, ready: false, firstPaint: null, errors: [], plans: 0, lang, map: null, projected });

// app is shared with the screens.
const app = {
  w,
  map: null,
  base,
  config: {},
  network: null,
  mode: null,
  colour: 'grade', // pipe colouring: grade | due
  district: '', // the district whose due status colours the pipes
  due: new Map(), // pipe id → due status shown (done | due | overdue | planned | ok)
  dueDate: '',
  stamp: Date.now(), // of the volatile tile layers
  hooks: {}, // notice(req, plan), openJob(req, plan), volatile(): set by dispatch.js
  langListeners: [],

  // today is the date in the utility's zone (YYYY-MM-DD).
  today() {
    const tz = app.config.time_zone || undefined;
    try {
      return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(serverNow()));
    } catch {
      return new Date(serverNow()).toISOString().slice(0, 10);
    }
  },
  onLang(fn) {
    app.langListeners.push(fn);
  },
  setColour,
  setDue,
  refreshVolatile,
  renderLegend,
  narrow,
};

// narrow is true on a phone-sized screen (the layout's breakpoint).
function narrow() {
  return window.matchMedia('(max-width: 700px)').matches;
}

// --- legend and colouring --------------------------------------------------------

function swatchLine(color, dashed, extra) {
  return h('span', { class: `swatch swatch-line${dashed ? ' dashed' : ''}${extra ? ` ${extra}` : ''}`, style: `--c:${color}` });
}

function swatchDot(color, extra) {
  return h('span', { class: `swatch swatch-dot${extra ? ` ${extra}` : ''}`, style: `--c:${color}` });
}

function legendItem(swatch, key, count) {
  return h('li', { dataset: { legend: key } }, swatch, h('span', {}, t(key)),
    count != null ? h('span', { class: 'legend-count', dataset: { count: key } }, String(count)) : null);
}

function dueCounts() {
  const c = { done: 0, due: 0, overdue: 0, planned: 0, ok: 0 };
  for (const s of app.due.values()) c[s] = (c[s] || 0) + 1;
  return c;
}

function renderLegend() {
  const el = document.getElementById('legend-body');
  const pipes = app.colour === 'due'
    ? [
      h('h3', {}, t('legend_due')),
      app.due.size === 0 ? h('p', { class: 'muted small', id: 'due-hint' }, t('due_pick_district')) : null,
      h('ul', {}, ...(() => {
        const c = dueCounts();
        return [
          legendItem(swatchLine(colors.due.done), 'due_done', c.done),
          legendItem(swatchLine(colors.due.due), 'due_due', c.due),
          legendItem(swatchLine(colors.due.overdue), 'due_overdue', c.overdue),
          legendItem(swatchLine(colors.due.planned), 'due_planned', c.planned),
          legendItem(swatchLine(colors.due.ok), 'due_ok', c.ok),
          legendItem(swatchLine(colors.due.none, false, 'thin'), 'due_none'),
        ];
      })()),
    ]
    : [
      h('h3', {}, t('legend_pipes')),
      h('ul', {},
        legendItem(swatchLine(colors.grade.special), 'grade_special'),
        legendItem(swatchLine(colors.grade[1]), 'grade_1'),
        legendItem(swatchLine(colors.grade[2]), 'grade_2'),
        legendItem(swatchLine(colors.grade[3]), 'grade_3'),
        legendItem(swatchLine('#555', true), 'crossing'),
        legendItem(swatchLine(colors.inactive, true, 'thin'), 'inactive')),
    ];
  fill(el, 
    ...pipes,
    h('h3', {}, t('legend_points')),
    h('ul', {},
      legendItem(swatchDot(colors.valve.open), 'valve_open'),
      legendItem(swatchDot(colors.valve.closed), 'valve_closed'),
      legendItem(swatchDot(colors.valve.inoperable), 'valve_inoperable'),
      legendItem(swatchDot(colors.valve.held), 'valve_held'),
      legendItem(swatchDot(colors.hydrant), 'hydrant'),
      legendItem(swatchDot(colors.source, 'big'), 'source'),
      legendItem(swatchLine(colors.district, true, 'thin'), 'district')),
    h('h3', {}, t('legend_work')),
    h('ul', {},
      legendItem(swatchDot(colors.site.emergency, 'big'), 'site_emergency'),
      legendItem(swatchDot(colors.site.planned, 'big'), 'site_planned'),
      legendItem(swatchDot(colors.site.late, 'big'), 'site_late'),
      legendItem(swatchLine(colors.route.patrol), 'route_patrol'),
      legendItem(swatchLine(colors.route.walk, true), 'route_walk'),
      legendItem(swatchLine(colors.route.road, true), 'route_road'),
      legendItem(swatchLine(colors.track), 'track')),
    h('h3', {}, t('legend_plan')),
    h('ul', {},
      legendItem(swatchLine(colors.segment, false, 'halo'), 'segment'),
      legendItem(swatchLine(colors.unintended, false, 'halo'), 'unintended'),
      legendItem(h('span', { class: 'swatch valve-marker mini' }, '1'), 'valve_to_close'),
      legendItem(swatchDot(colors.planValve.dry_side), 'valve_dry_side'),
      legendItem(swatchDot(colors.planValve.failed, 'failed'), 'valve_failed'),
      legendItem(h('span', { class: 'swatch leak-marker mini' }), 'leak')));
  for (const b of document.querySelectorAll('#color-switch [data-colour]')) {
    b.setAttribute('aria-pressed', String(b.dataset.colour === app.colour));
  }
}

// setColour switches the pipes between grade and due-status colours.
function setColour(mode) {
  app.colour = mode === 'due' ? 'due' : 'grade';
  document.body.dataset.colour = app.colour;
  if (app.map?.getLayer('pipes')) {
    for (const id of ['pipes', 'pipes-crossing']) app.map.setPaintProperty(id, 'line-color', pipeColor(app.colour));
  }
  renderLegend();
  if (app.colour === 'due') patrol.loadDue(app);
}

// setDue shows a district's due status (GET api/patrol/status): each
// pipe's feature state "due" is done (patrolled today), due, overdue,
// planned or ok; pipes no longer in the report lose theirs.
function setDue(report) {
  const map = app.map;
  const next = new Map();
  const date = report?.date || '';
  for (const p of report?.pipes || []) next.set(p.pipe, p.last === date ? 'done' : p.status);
  for (const id of app.due.keys()) {
    if (!next.has(id)) map.removeFeatureState({ source: 'network', sourceLayer: 'pipes', id }, 'due');
  }
  for (const [id, s] of next) {
    if (app.due.get(id) !== s) map.setFeatureState({ source: 'network', sourceLayer: 'pipes', id }, { due: s });
  }
  app.due = next;
  app.dueDate = date;
  w.due = Object.fromEntries(next);
  renderLegend();
}

// refreshVolatile reloads the volatile tile layers (repair sites, patrol
// routes) after their rows changed. The sources are made anew: MapLibre
// keeps a tile whose answer carries the ETag it already has, and the
// server's tile ETags name the network version, which a new repair job
// does not change. Feature states go with the old source; hooks.volatile
// puts them back.
function refreshVolatile() {
  const map = app.map;
  app.stamp = Date.now();
  const style = map.getStyle();
  for (const [src, layer] of [['repair-sites', 'repair_sites'], ['patrol-routes', 'patrol_routes']]) {
    const spec = style.sources[src];
    if (!spec) continue;
    const mine = style.layers.filter((l) => l.source === src);
    const ids = new Set(mine.map((l) => l.id));
    const before = mine.map((l) => {
      const i = style.layers.findIndex((x) => x.id === l.id);
      return style.layers.slice(i + 1).find((x) => !ids.has(x.id))?.id;
    });
    for (const l of mine) map.removeLayer(l.id);
    map.removeSource(src);
    map.addSource(src, { ...spec, tiles: [volatileTiles(base, layer, app.stamp)] });
    mine.forEach((l, i) => map.addLayer(l, before[i]));
  }
  app.hooks.volatile?.();
}

function renderNetworkInfo() {
  const el = document.getElementById('network-info');
  const n = app.network;
  if (!n) el.textContent = t('loading_network');
  else if (!n.counts?.pipes) el.textContent = t('network_empty');
  else el.textContent = t('network_info', { pipes: n.counts.pipes, valves: n.counts.valves ?? 0, version: n.version });
}

function renderUser() {
  const u = session.user;
  const el = document.getElementById('user-info');
  const out = document.getElementById('logout');
  const signedIn = session.signIn && u && u.via !== 'open';
  el.textContent = signedIn ? (u.display_name || u.name) : '';
  out.hidden = !signedIn;
}

function renderAll() {
  apply();
  document.getElementById('lang-toggle').textContent = t('lang_button');
  document.getElementById('search-input')?.setAttribute('placeholder', t('search_placeholder'));
  renderLegend();
  renderNetworkInfo();
  renderUser();
  document.getElementById('hint').textContent = t(app.mode === 'patrol' ? 'hint_patrol' : app.mode === 'survey' ? 'hint_survey' : 'hint');
  if (state.status !== 'idle') showPanel();
  for (const fn of app.langListeners) fn();
}

// --- screens --------------------------------------------------------------------------

function setMode(mode) {
  const allowed = screensFor();
  if (!allowed.includes(mode)) mode = allowed[0];
  if (app.mode === mode) return;
  const prev = app.mode;
  if (prev) {
    SCREENS[prev].leave?.(app);
    for (const id of SCREEN_LAYERS[prev] || []) {
      if (app.map.getLayer(id) && app.map.getLayoutProperty(id, 'visibility') !== 'none') app.map.setLayoutProperty(id, 'visibility', 'none');
    }
  }
  app.mode = mode;
  document.body.dataset.mode = mode;
  for (const b of document.querySelectorAll('#mode-tabs [data-mode]')) {
    b.setAttribute('aria-selected', String(b.dataset.mode === mode));
    b.classList.toggle('active', b.dataset.mode === mode);
  }
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.dataset.screen !== mode;
  if (mode !== 'dispatch' && state.status !== 'idle') closePlan();
  for (const id of SCREEN_LAYERS[mode] || []) {
    // Only a real change: setting a layout property reloads the layer's tiles.
    if (app.map.getLayer(id) && id !== 'patrol-routes' && app.map.getLayoutProperty(id, 'visibility') === 'none') {
      app.map.setLayoutProperty(id, 'visibility', 'visible');
    }
  }
  try {
    localStorage.setItem(MODE_KEY, mode);
  } catch {
    // not remembered
  }
  if (location.hash !== `#${mode}`) history.replaceState(null, '', `#${mode}`);
  document.getElementById('hint').textContent = t(mode === 'patrol' ? 'hint_patrol' : mode === 'survey' ? 'hint_survey' : 'hint');
  SCREENS[mode].enter?.(app);
}

function initialMode() {
  const fromHash = location.hash.replace('#', '');
  if (SCREENS[fromHash]) return fromHash;
  try {
    const saved = localStorage.getItem(MODE_KEY);
    if (SCREENS[saved]) return saved;
  } catch {
    // none saved
  }
  return screensFor()[0];
}

// --- start ---------------------------------------------------------------------------------

// mark notes how long the start took to reach a stage (window.__waterline.timing).
function mark(name) {
  w.timing[name] = Math.round(performance.now());
}

async function start() {
  w.timing = {};
  mark('script');
  initLang();
  document.getElementById('lang-toggle').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    renderAll();
  });
  const legend = document.getElementById('legend');
  const legendToggle = document.getElementById('legend-toggle');
  const showLegend = (open) => {
    legend.classList.toggle('open', open);
    legendToggle.setAttribute('aria-expanded', String(open));
  };
  showLegend(!narrow()); // open on a desk, folded on a phone
  legendToggle.addEventListener('click', () => showLegend(!legend.classList.contains('open')));
  for (const b of document.querySelectorAll('#color-switch [data-colour]')) {
    b.addEventListener('click', () => setColour(b.dataset.colour));
  }
  document.getElementById('side-toggle').addEventListener('click', () => {
    document.body.classList.toggle('side-folded');
  });
  document.getElementById('logout').addEventListener('click', () => logout());
  renderAll();

  mark('rendered');
  // Who, the configuration and the network's extent, asked at once.
  const configP = api('api/config').catch((e) => {
    showError(e);
    return {};
  });
  const networkP = api('api/network').catch((e) => {
    if (e.status !== 401) showError(e);
    return null;
  });
  try {
    await loadSession();
  } catch (e) {
    if (e.status !== 401) showError(e);
    if (e.status === 401) return;
  }
  const allowed = screensFor();
  for (const b of document.querySelectorAll('#mode-tabs [data-mode]')) {
    b.hidden = !allowed.includes(b.dataset.mode);
    b.addEventListener('click', () => setMode(b.dataset.mode));
  }
  document.getElementById('mode-tabs').hidden = allowed.length < 2;
  renderUser();

  const [config, network] = await Promise.all([configP, networkP]);
  mark('config');
  app.config = config || {};
  setZone(app.config.time_zone);
  app.network = network;
  renderNetworkInfo();

  const opts = {
    container: 'map',
    style: buildStyle({ base, basemap: app.config.basemap || '', stamp: app.stamp, today: app.today(), version: network?.version }),
    attributionControl: false,
    // No fading: the map is idle as soon as its tiles are drawn.
    fadeDuration: 0,
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
  };
  const bb = network?.bbox;
  if (Array.isArray(bb) && bb.length === 4) {
    opts.bounds = [[bb[0], bb[1]], [bb[2], bb[3]]];
    // Keep the network clear of the side panel and the legend on a desk.
    opts.fitBoundsOptions = { padding: narrow() ? 20 : { top: 50, bottom: 30, right: 250, left: 350 } };
  } else {
    opts.center = JINAN;
    opts.zoom = 11;
  }
  const map = new MapLibreMap(opts);
  mark('map');

  app.map = map;
  w.map = map;
  w.app = app;
  initPlan(app);
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  if (app.config.basemap) map.addControl(new AttributionControl({ compact: true }));
  map.on('error', (e) => {
    const msg = e.error?.message || String(e.error || e);
    w.errors.push(msg);
    console.error('map:', msg);
  });
  // The route's arrow is drawn when a layer first needs it (patrol screen).
  map.setMissingStyleImageResolver((id) => {
    if (id === 'route-arrow' && !map.hasImage(id)) map.addImage(id, arrowImage(), { pixelRatio: 1 });
  });
  map.on('click', (e) => {
    const screen = SCREENS[app.mode];
    if (screen.onMapClick?.(app, e)) return;
    if (app.mode === 'dispatch') clickPipe(e);
  });
  for (const id of PIPE_LAYERS) {
    map.on('mouseenter', id, () => { if (app.mode === 'dispatch') map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  // Coordinates: under the pointer on a desk, of the map's centre on a phone.
  const coords = document.getElementById('coords');
  const showCoords = (ll) => { coords.textContent = formatCoords(app.config.srid, ll.lng, ll.lat); };
  map.on('mousemove', (e) => showCoords(e.lngLat));
  map.on('moveend', () => { if (narrow()) showCoords(map.getCenter()); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.status !== 'idle' && !document.querySelector('.dialog-wrap')) closePlan();
  });
  for (const s of Object.values(SCREENS)) s.init?.(app);
  map.once('load', () => {
    mark('load');
    setMode(initialMode());
    window.addEventListener('hashchange', () => {
      const m = location.hash.replace('#', '');
      if (SCREENS[m]) setMode(m);
    });
    map.once('idle', () => {
      mark('idle');
      w.ready = true;
      document.body.dataset.mapReady = 'true';
    });
    // The first paint: the first idle frame with pipes drawn (performance.now
    // counts from the navigation).
    const painted = () => {
      if (w.firstPaint == null && map.queryRenderedFeatures({ layers: PIPE_LAYERS }).length > 0) {
        w.firstPaint = Math.round(performance.now());
        map.off('idle', painted);
      }
    };
    map.on('idle', painted);
  });
}

start();
