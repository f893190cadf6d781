// The shutoff plan: click a pipe (or pick a search result) → POST
// api/shutoffs/plan → the range and valves on the map, the panel with the
// counts, critical customers, closing order, "valve failed" (re-plans in
// place), CSV, and for a dispatcher the notice and "open repair job".
import { Marker } from 'maplibre-gl';

import { api, can } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { showError, hideError } from './notify.js';
import { render as renderPanel, normalize } from './panel.js';
import { PIPE_LAYERS } from './style.js';

const empty = { type: 'FeatureCollection', features: [] };

// The plan's state, shared with the tests through window.__waterline.state.
export const state = {
  status: 'idle', // idle | loading | ready
  plan: null,
  req: null, // {pipe, at, failed_valves} of the plan shown
  seq: 0,
  markers: [],
};

let app; // main.js's app: {map, w, hooks}

export function initPlan(a) {
  app = a;
}

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
    if (step.lon != null) app.map.easeTo({ center: [step.lon, step.lat], zoom: Math.max(app.map.getZoom(), 17) });
  },
};

function actions() {
  const a = { ...panelActions };
  if (can('notice') && app.hooks.notice) a.notice = () => app.hooks.notice(state.req, state.plan);
  if (can('open_job') && app.hooks.openJob) a.openJob = () => app.hooks.openJob(state.req, state.plan);
  return a;
}

export function showPanel() {
  if (state.status === 'idle') return;
  const panel = document.getElementById('plan-panel');
  renderPanel(panel, state, actions());
  document.body.classList.add('has-plan');
}

function clearPlanLayers() {
  for (const m of state.markers) m.remove();
  state.markers = [];
  app.map.getSource('plan-range')?.setData(empty);
  app.map.getSource('plan-valves')?.setData(empty);
}

export function closePlan() {
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
  app.map.getSource('plan-range').setData(p.range || empty);
  app.map.getSource('plan-valves').setData(p.valves || empty);
  for (const s of p.closing_order) {
    if (s.lon == null) continue;
    const el = h('div', { class: 'valve-marker', dataset: { valveId: s.id, order: s.order }, title: `${s.id} DN${s.dn}` }, s.order);
    state.markers.push(new Marker({ element: el }).setLngLat([s.lon, s.lat]).addTo(app.map));
  }
  if (p.leak?.lon != null) {
    const el = h('div', { class: 'leak-marker', id: 'leak-marker', title: t('leak') });
    state.markers.push(new Marker({ element: el }).setLngLat([p.leak.lon, p.leak.lat]).addTo(app.map));
  }
}

// keepInView pans the map when the panel (side panel, or bottom sheet on a
// phone) covers the leak.
function keepInView(lngLat) {
  const map = app.map;
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

// flyToLeak brings a leak found by search into view, clear of the panel.
function flyToLeak(lngLat) {
  const map = app.map;
  const panel = document.getElementById('plan-panel').getBoundingClientRect();
  const box = map.getContainer().getBoundingClientRect();
  const sheet = panel.width >= box.width - 1;
  const offset = sheet ? [0, -(box.bottom - panel.top) / 2] : [-(box.right - panel.left) / 2, 0];
  map.easeTo({ center: lngLat, zoom: Math.max(map.getZoom(), 16), offset, duration: 500 });
}

function round(v) {
  return Math.round(v * 1e6) / 1e6;
}

// plan asks the server for a shutoff plan: req (or a promise of it) is
// {pipe, at} or {point}, with optional failed_valves. opts.fly brings the
// leak into view (a search result may be off screen).
export async function plan(reqOrPromise, opts = {}) {
  const seq = ++state.seq;
  const prev = { status: state.status, plan: state.plan, req: state.req };
  hideError();
  state.status = 'loading';
  showPanel();
  const req = await reqOrPromise;
  if (seq !== state.seq) return;
  const body = req.point ? { point: req.point } : { pipe: req.pipe, at: req.at ?? 0.5 };
  if (req.failed_valves?.length) body.failed_valves = req.failed_valves;
  try {
    const p = normalize(await api('api/shutoffs/plan', { json: body }));
    if (seq !== state.seq) return;
    state.plan = p;
    state.status = 'ready';
    state.req = { pipe: p.leak?.pipe ?? req.pipe, at: round(p.leak?.at ?? req.at ?? 0.5), failed_valves: req.failed_valves || [] };
    app.w.plans++;
    drawPlan(p);
    showPanel();
    if (p.leak?.lon != null) {
      if (opts.fly) flyToLeak([p.leak.lon, p.leak.lat]);
      else if (!req.failed_valves?.length) keepInView([p.leak.lon, p.leak.lat]);
    }
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

export function nearestPipe(point) {
  const r = 6;
  const feats = app.map.queryRenderedFeatures([[point.x - r, point.y - r], [point.x + r, point.y + r]], { layers: PIPE_LAYERS });
  let best = null;
  let bestD = Infinity;
  for (const f of feats) {
    const lines = f.geometry.type === 'LineString' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const line of lines) {
      for (let i = 0; i + 1 < line.length; i++) {
        const a = app.map.project(line[i]);
        const b = app.map.project(line[i + 1]);
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

// clickPipe plans a shutoff for a map click; false when no pipe is near.
export function clickPipe(e) {
  const f = nearestPipe(e.point);
  if (!f) return false;
  plan(leakAt(f.properties.id, e.lngLat));
  return true;
}
