// Waterline map UI: the network from vector tiles, coloured by patrol grade;
// click a pipe to plan a shutoff (POST api/shutoffs/plan) and see it on the
// map and in the side panel. Chinese first, with an English switch.
import { Map as MapLibreMap, Marker, NavigationControl, ScaleControl, AttributionControl, setWorkerUrl } from 'maplibre-gl';

import { h } from './dom.js';
import { initLang, lang, setLang, t, apply } from './i18n.js';
import { buildStyle, colors, PIPE_LAYERS } from './style.js';
import { render as renderPanel, normalize } from './panel.js';

// The MapLibre worker is shipped next to app.js (see build.mjs).
setWorkerUrl(new URL('maplibre-gl-worker.js', import.meta.url).href);

// base is the directory the UI is served from: API and tile URLs are
// relative to it, so the UI works behind a path prefix.
const base = new URL('.', document.baseURI).href;

const JINAN = [117.0, 36.67];
const empty = { type: 'FeatureCollection', features: [] };

// The page's state, shared with the browser tests through window.__waterline.
const state = {
  config: null,
  network: null,
  status: 'idle', // idle | loading | ready
  plan: null,
  req: null, // {pipe, at, failed_valves} of the plan shown
  seq: 0,
  markers: [],
};

const w = (window.__waterline = { state, ready: false, errors: [], plans: 0, lang, map: null });

class APIError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function api(path, opts) {
  let res;
  try {
    res = await fetch(new URL(path, base), opts);
  } catch (e) {
    throw new APIError('network', t('network_error', { msg: e.message }), 0);
  }
  let body = null;
  if ((res.headers.get('content-type') || '').includes('json')) body = await res.json().catch(() => null);
  if (!res.ok) {
    const msg = body?.error?.message || `${res.status} ${res.statusText}`;
    throw new APIError(body?.error?.code || `http.${res.status}`, msg, res.status);
  }
  return body;
}

// --- errors -----------------------------------------------------------------

function showError(err) {
  const banner = document.getElementById('error-banner');
  banner.replaceChildren(
    h('strong', {}, t('error_prefix')),
    h('span', { id: 'error-message' }, err.message || String(err)),
    h('button', { type: 'button', class: 'text-button', onclick: hideError }, t('dismiss')));
  banner.dataset.errorCode = err.code || 'error';
  banner.hidden = false;
}

function hideError() {
  const banner = document.getElementById('error-banner');
  banner.hidden = true;
  banner.replaceChildren();
  delete banner.dataset.errorCode;
}

// --- legend -----------------------------------------------------------------

function swatchLine(color, dashed, extra) {
  return h('span', { class: `swatch swatch-line${dashed ? ' dashed' : ''}${extra ? ` ${extra}` : ''}`, style: `--c:${color}` });
}

function swatchDot(color, extra) {
  return h('span', { class: `swatch swatch-dot${extra ? ` ${extra}` : ''}`, style: `--c:${color}` });
}

function legendItem(swatch, key) {
  return h('li', { dataset: { legend: key } }, swatch, h('span', {}, t(key)));
}

function renderLegend() {
  const el = document.getElementById('legend-body');
  el.replaceChildren(
    h('h3', {}, t('legend_pipes')),
    h('ul', {},
      legendItem(swatchLine(colors.grade.special), 'grade_special'),
      legendItem(swatchLine(colors.grade[1]), 'grade_1'),
      legendItem(swatchLine(colors.grade[2]), 'grade_2'),
      legendItem(swatchLine(colors.grade[3]), 'grade_3'),
      legendItem(swatchLine('#555', true), 'crossing'),
      legendItem(swatchLine(colors.inactive, true, 'thin'), 'inactive')),
    h('h3', {}, t('legend_points')),
    h('ul', {},
      legendItem(swatchDot(colors.valve.open), 'valve_open'),
      legendItem(swatchDot(colors.valve.closed), 'valve_closed'),
      legendItem(swatchDot(colors.valve.inoperable), 'valve_inoperable'),
      legendItem(swatchDot(colors.hydrant), 'hydrant'),
      legendItem(swatchDot(colors.source, 'big'), 'source'),
      legendItem(swatchLine(colors.district, true, 'thin'), 'district')),
    h('h3', {}, t('legend_plan')),
    h('ul', {},
      legendItem(swatchLine(colors.segment, false, 'halo'), 'segment'),
      legendItem(swatchLine(colors.unintended, false, 'halo'), 'unintended'),
      legendItem(h('span', { class: 'swatch valve-marker mini' }, '1'), 'valve_to_close'),
      legendItem(swatchDot(colors.planValve.dry_side), 'valve_dry_side'),
      legendItem(swatchDot(colors.planValve.failed, 'failed'), 'valve_failed'),
      legendItem(h('span', { class: 'swatch leak-marker mini' }), 'leak')));
}

function renderNetworkInfo() {
  const el = document.getElementById('network-info');
  const n = state.network;
  if (!n) el.textContent = t('loading_network');
  else if (!n.counts?.pipes) el.textContent = t('network_empty');
  else el.textContent = t('network_info', { pipes: n.counts.pipes, valves: n.counts.valves ?? 0, version: n.version });
}

function renderAll() {
  apply();
  document.getElementById('lang-toggle').textContent = t('lang_button');
  renderLegend();
  renderNetworkInfo();
  if (state.status !== 'idle') showPanel();
}

// --- the plan ----------------------------------------------------------------

const panelActions = {
  close: closePlan,
  failValve(id) {
    const failed = [...(state.req.failed_valves || [])];
    if (!failed.includes(id)) failed.push(id);
    plan({ pipe: state.req.pipe, at: state.req.at, failed_valves: failed });
  },
  clearFailed() {
    plan({ pipe: state.req.pipe, at: state.req.at, failed_valves: [] });
  },
  focusValve(step) {
    if (step.lon != null) w.map.easeTo({ center: [step.lon, step.lat], zoom: Math.max(w.map.getZoom(), 17) });
  },
};

function showPanel() {
  const panel = document.getElementById('plan-panel');
  renderPanel(panel, state, panelActions);
  document.body.classList.add('has-plan');
}

function clearPlanLayers() {
  for (const m of state.markers) m.remove();
  state.markers = [];
  w.map.getSource('plan-range')?.setData(empty);
  w.map.getSource('plan-valves')?.setData(empty);
}

function closePlan() {
  state.seq++;
  state.status = 'idle';
  state.plan = null;
  state.req = null;
  clearPlanLayers();
  const panel = document.getElementById('plan-panel');
  panel.hidden = true;
  panel.replaceChildren();
  panel.dataset.state = 'idle';
  document.body.classList.remove('has-plan');
}

function drawPlan(p) {
  clearPlanLayers();
  w.map.getSource('plan-range').setData(p.range || empty);
  w.map.getSource('plan-valves').setData(p.valves || empty);
  for (const s of p.closing_order) {
    if (s.lon == null) continue;
    const el = h('div', { class: 'valve-marker', dataset: { valveId: s.id, order: s.order }, title: `${s.id} DN${s.dn}` }, s.order);
    state.markers.push(new Marker({ element: el }).setLngLat([s.lon, s.lat]).addTo(w.map));
  }
  if (p.leak?.lon != null) {
    const el = h('div', { class: 'leak-marker', id: 'leak-marker', title: t('leak') });
    state.markers.push(new Marker({ element: el }).setLngLat([p.leak.lon, p.leak.lat]).addTo(w.map));
  }
}

// keepInView pans the map when the panel (side panel, or bottom sheet on a
// phone) covers the leak.
function keepInView(lngLat) {
  const map = w.map;
  const panel = document.getElementById('plan-panel').getBoundingClientRect();
  const box = map.getContainer().getBoundingClientRect();
  const pt = map.project(lngLat);
  const x = box.left + pt.x;
  const y = box.top + pt.y;
  const margin = 40;
  if (x < panel.left - margin || y < panel.top - margin || x > panel.right || y > panel.bottom) return;
  const sheet = panel.width >= box.width - 1; // a bottom sheet spans the width
  const offset = sheet ? [0, -(box.bottom - panel.top) / 2] : [-(box.right - panel.left) / 2, 0];
  map.easeTo({ center: lngLat, offset, duration: 300 });
}

// plan asks the server for a shutoff plan: req (or a promise of it) is
// {pipe, at} or {point}, with optional failed_valves.
async function plan(reqOrPromise) {
  const seq = ++state.seq;
  const prev = { status: state.status, plan: state.plan, req: state.req };
  hideError();
  state.status = 'loading';
  showPanel();
  const req = await reqOrPromise;
  if (seq !== state.seq) return;
  const body = req.point ? { point: req.point } : { pipe: req.pipe, at: req.at };
  if (req.failed_valves?.length) body.failed_valves = req.failed_valves;
  try {
    const p = normalize(await api('api/shutoffs/plan', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }));
    if (seq !== state.seq) return;
    state.plan = p;
    state.status = 'ready';
    state.req = { pipe: p.leak?.pipe ?? req.pipe, at: round(p.leak?.at ?? req.at ?? 0.5), failed_valves: req.failed_valves || [] };
    w.plans++;
    drawPlan(p);
    showPanel();
    if (p.leak?.lon != null && !req.failed_valves?.length) keepInView([p.leak.lon, p.leak.lat]);
  } catch (e) {
    if (seq !== state.seq) return;
    showError(e);
    if (prev.plan) {
      Object.assign(state, prev);
      showPanel();
    } else {
      closePlan();
    }
  }
}

// narrow is true on a phone-sized screen (the layout's breakpoint).
function narrow() {
  return window.matchMedia('(max-width: 700px)').matches;
}

function round(v) {
  return Math.round(v * 1e6) / 1e6;
}

// --- clicking a pipe ---------------------------------------------------------

// fractionAlong projects p (lon/lat) onto a lon/lat line, in a local metric
// approximation, and returns the fraction of the line's length before it.
function fractionAlong(coords, p) {
  const k = Math.cos((p[1] * Math.PI) / 180);
  const xy = (c) => [c[0] * k * 111320, c[1] * 110540];
  const q = xy(p);
  let total = 0;
  let best = Infinity;
  let at = 0;
  for (let i = 0; i + 1 < coords.length; i++) {
    const a = xy(coords[i]);
    const b = xy(coords[i + 1]);
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len = Math.hypot(dx, dy);
    const u = len === 0 ? 0 : Math.max(0, Math.min(1, ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / (len * len)));
    const d = Math.hypot(a[0] + u * dx - q[0], a[1] + u * dy - q[1]);
    if (d < best) {
      best = d;
      at = total + u * len;
    }
    total += len;
  }
  return total > 0 ? at / total : 0.5;
}

function nearestPipe(point) {
  const r = 6;
  const feats = w.map.queryRenderedFeatures([[point.x - r, point.y - r], [point.x + r, point.y + r]], { layers: PIPE_LAYERS });
  let best = null;
  let bestD = Infinity;
  for (const f of feats) {
    const lines = f.geometry.type === 'LineString' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const line of lines) {
      for (let i = 0; i + 1 < line.length; i++) {
        const a = w.map.project(line[i]);
        const b = w.map.project(line[i + 1]);
        const dx = b.x - a.x;
        const dy = b.y - a.y;
        const l2 = dx * dx + dy * dy;
        const u = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((point.x - a.x) * dx + (point.y - a.y) * dy) / l2));
        const d = Math.hypot(a.x + u * dx - point.x, a.y + u * dy - point.y);
        if (d < bestD) {
          bestD = d;
          best = f;
        }
      }
    }
  }
  return best;
}

// leakAt works out {pipe, at} for a click on a pipe: the tile holds only the
// part of the pipe inside it, so the whole line comes from the features API.
async function leakAt(id, lngLat) {
  const d = 0.0004;
  const bbox = [lngLat.lng - d, lngLat.lat - d, lngLat.lng + d, lngLat.lat + d].map((v) => v.toFixed(7)).join(',');
  try {
    const fc = await api(`collections/pipes/items?bbox=${bbox}&limit=500`);
    const f = fc?.features?.find((x) => x.id === id);
    if (f?.geometry?.type === 'LineString') return { pipe: id, at: round(fractionAlong(f.geometry.coordinates, [lngLat.lng, lngLat.lat])) };
  } catch (e) {
    console.warn('features lookup failed; letting the server snap the point', e);
  }
  return { point: [lngLat.lng, lngLat.lat] };
}

async function onClick(e) {
  const f = nearestPipe(e.point);
  if (!f) return;
  plan(leakAt(f.properties.id, e.lngLat));
}

// --- start ---------------------------------------------------------------------

async function start() {
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
  renderAll();

  const [config, network] = await Promise.all([
    api('api/config').catch((e) => {
      showError(e);
      return {};
    }),
    api('api/network').catch((e) => {
      showError(e);
      return null;
    }),
  ]);
  state.config = config;
  state.network = network;
  renderNetworkInfo();

  const opts = {
    container: 'map',
    style: buildStyle({ base, basemap: config.basemap || '' }),
    attributionControl: false,
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
  };
  const bb = network?.bbox;
  if (Array.isArray(bb) && bb.length === 4) {
    opts.bounds = [[bb[0], bb[1]], [bb[2], bb[3]]];
    // Keep the network clear of the legend on a desk.
    opts.fitBoundsOptions = { padding: narrow() ? 20 : { top: 50, bottom: 30, right: 50, left: 260 } };
  } else {
    opts.center = JINAN;
    opts.zoom = 11;
  }
  const map = new MapLibreMap(opts);
  w.map = map;
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  if (config.basemap) map.addControl(new AttributionControl({ compact: true }));
  map.on('error', (e) => {
    const msg = e.error?.message || String(e.error || e);
    w.errors.push(msg);
    console.error('map:', msg);
  });
  map.on('click', onClick);
  for (const id of PIPE_LAYERS) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.status !== 'idle') closePlan();
  });
  map.once('load', () => {
    map.once('idle', () => {
      w.ready = true;
      document.body.dataset.mapReady = 'true';
    });
  });
}

start();
