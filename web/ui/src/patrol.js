// The district manager's screen (a phone first): today's route drawn with
// its direction and order (GET api/patrol/routes, routes/{id}.geojson),
// the pipes coloured by due status (api/patrol/status), "start patrol"
// recording the phone's GPS (navigator.geolocation.watchPosition) and
// uploading the track (POST api/patrol/tracks, GeoJSON with coordTimes),
// and "report anomaly" with its type, photo, position and the reporting
// clock (rules: report_within_minutes, 30 by the standard).
import { Marker } from 'maplibre-gl';

import { api, can, serverNow, session, userName } from './api.js';
import { formatCoords } from './crs.js';
import { h, modal, field, fill } from './dom.js';
import { t, bilingual, duration, clock, length } from './i18n.js';
import { showError, toast } from './notify.js';

const TRACK_KEY = 'waterline.track';
const DISTRICT_KEY = 'waterline.district';
const TYPES = ['lost', 'damaged', 'buried', 'chamber_collapsed', 'leak', 'other'];
const empty = () => ({ type: 'FeatureCollection', features: [] });

const st = {
  districts: [],
  routes: [],
  route: null, // the route shown (summary)
  geo: null, // its GeoJSON
  markers: [],
  rules: null, // GET api/patrol/rules
  status: null, // the last status report
  rec: null, // {watch, points: [{lon, lat, t, acc}], started, district, route}
  pending: null, // a recorded track not yet uploaded
  uploaded: null, // the last track uploaded
  draft: null, // an anomaly being reported: {foundAt, lon, lat, acc, source}
  dialog: null,
  picking: false,
  timer: 0,
  lastFix: null, // {lon, lat, acc, t}
  wake: null,
};

let app;

export function init(a) {
  app = a;
  const root = document.getElementById('screen-patrol');
  root.append(
    h('header', { class: 'screen-head sheet-head' },
      h('h2', { id: 'patrol-title' }, t('patrol_title')),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', id: 'patrol-start', class: 'button', onclick: startPatrol }, t('patrol_start')),
      h('button', { type: 'button', id: 'patrol-stop', class: 'button danger', hidden: true, onclick: stopPatrol }, t('patrol_stop')),
      h('button', { type: 'button', id: 'anomaly-open', class: 'button warn', onclick: () => anomalyDialog() }, t('anomaly_btn'))),
    h('div', { id: 'anomaly-draft', class: 'draft-chip', hidden: true, onclick: () => anomalyDialog() }),
    h('div', { id: 'track-status', class: 'track-status', hidden: true }),
    h('div', { id: 'upload-result', class: 'result', hidden: true }),
    h('div', { class: 'row' },
      h('label', { class: 'inline' }, h('span', { id: 'patrol-district-label' }, t('patrol_district')),
        h('select', { id: 'patrol-district', onchange: (e) => selectDistrict(e.target.value) })),
      h('span', { id: 'patrol-date', class: 'muted' })),
    h('div', { id: 'patrol-routes', class: 'chips' }),
    h('p', { id: 'route-summary', class: 'muted small' }),
    h('p', { id: 'due-counts', class: 'small' }),
    h('details', { id: 'route-steps-box' }, h('summary', { id: 'route-steps-title' }, t('patrol_steps')), h('ol', { id: 'route-steps', class: 'steps' })));
  app.onLang(render);
  restoreTrack();
  // The recording and the reporting clock tick on whatever screen is shown.
  st.timer = setInterval(tick, 1000);
}

export async function enter() {
  if (app.colour !== 'due') app.setColour('due');
  document.getElementById('patrol-date').textContent = app.today();
  if (!st.rules) st.rules = await api('api/patrol/rules').catch(() => null);
  if (!st.districts.length) {
    try {
      st.districts = (await api('api/patrol/districts'))?.districts || [];
    } catch (e) {
      showError(e);
    }
    // A district manager patrols their own districts only.
    const own = session.user?.role === 'district_manager' ? session.user.districts || [] : [];
    if (own.length) st.districts = st.districts.filter((d) => own.includes(d.district));
    const sel = document.getElementById('patrol-district');
    sel.replaceChildren(...st.districts.map((d) => h('option', { value: d.district }, d.name ? `${d.name} (${d.district})` : d.district)));
  }
  const mine = session.user?.districts || [];
  let saved = '';
  try {
    saved = localStorage.getItem(DISTRICT_KEY) || '';
  } catch {
    // none
  }
  const ids = st.districts.map((d) => d.district);
  const pickD = [app.district, ...mine, saved].find((d) => d && ids.includes(d)) || ids[0] || '';
  if (pickD) await selectDistrict(pickD);
  render();
}

export function leave() {
  st.picking = false;
}

// onMapClick places the anomaly being reported where the map was tapped.
export function onMapClick(a, e) {
  if (!st.draft || !st.picking) return false;
  st.draft.lon = e.lngLat.lng;
  st.draft.lat = e.lngLat.lat;
  st.draft.source = 'map';
  st.draft.acc = null;
  st.picking = false;
  anomalyDialog();
  return true;
}

// loadDue colours the pipes of the chosen district by due status.
export async function loadDue(a) {
  app = app || a;
  if (!app.district) return;
  try {
    st.status = await api(`api/patrol/status?district=${encodeURIComponent(app.district)}`);
    app.setDue(st.status);
  } catch (e) {
    showError(e);
  }
  renderCounts();
}

async function selectDistrict(id) {
  app.district = id;
  document.getElementById('patrol-district').value = id;
  try {
    localStorage.setItem(DISTRICT_KEY, id);
  } catch {
    // not remembered
  }
  await Promise.all([loadRoutes(), app.colour === 'due' ? loadDue(app) : null]);
}

async function loadRoutes() {
  let rs = [];
  try {
    rs = (await api(`api/patrol/routes?district=${encodeURIComponent(app.district)}`))?.routes || [];
  } catch (e) {
    showError(e);
  }
  st.routes = rs;
  const me = userName();
  const route = rs.find((r) => me && r.manager === me) || rs[0] || null;
  await showRoute(route);
}

async function showRoute(r) {
  st.route = r;
  st.geo = null;
  for (const m of st.markers) m.remove();
  st.markers = [];
  const src = app.map.getSource('route');
  if (!r) {
    src?.setData(empty());
    renderRoutes();
    return;
  }
  try {
    st.geo = await api(`api/patrol/routes/${r.id}.geojson`);
  } catch (e) {
    showError(e);
    return;
  }
  if (st.route !== r) return;
  src.setData(st.geo);
  // Order: a numbered marker at the start of each patrol step, the start
  // point marked 起.
  let n = 0;
  for (const f of st.geo.features) {
    const p = f.properties;
    if (p.kind === 'start') {
      const el = h('div', { class: 'start-marker', id: 'route-start', title: t('start_point') }, t('start_point').slice(0, 1));
      st.markers.push(new Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(app.map));
      continue;
    }
    if (p.kind !== 'patrol' || !f.geometry) continue;
    n++;
    const el = h('div', { class: `step-marker${p.overdue ? ' overdue' : ''}`, dataset: { seq: p.seq, order: n, pipe: p.pipe }, title: bilingual(p.text) }, n);
    st.markers.push(new Marker({ element: el }).setLngLat(f.geometry.coordinates[0]).addTo(app.map));
  }
  app.w.route = { id: r.id, steps: st.geo.features.length - 1, patrolSteps: n };
  renderRoutes();
  fitRoute();
}

function fitRoute() {
  const cs = [];
  for (const f of st.geo?.features || []) {
    if (!f.geometry) continue;
    if (f.geometry.type === 'Point') cs.push(f.geometry.coordinates);
    else cs.push(...f.geometry.coordinates);
  }
  if (!cs.length) return;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of cs) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  const pad = app.narrow() ? { top: 30, left: 20, right: 20, bottom: Math.round(innerHeight * 0.42) } : { top: 50, bottom: 40, left: 360, right: 260 };
  app.map.fitBounds([[x0, y0], [x1, y1]], { padding: pad, maxZoom: 17, duration: 0 });
}

async function makePlan() {
  try {
    await api('api/patrol/plan', { json: { district: app.district, save: true } });
    app.refreshVolatile();
    await loadRoutes();
    await loadDue(app);
  } catch (e) {
    showError(e);
  }
}

// --- rendering ---------------------------------------------------------------------

function render() {
  document.getElementById('patrol-title').textContent = t('patrol_title');
  document.getElementById('patrol-start').textContent = t('patrol_start');
  document.getElementById('patrol-stop').textContent = t('patrol_stop');
  document.getElementById('anomaly-open').textContent = t('anomaly_btn');
  document.getElementById('patrol-district-label').textContent = t('patrol_district');
  document.getElementById('route-steps-title').textContent = t('patrol_steps');
  renderRoutes();
  renderCounts();
  renderTrack();
  tick();
}

function renderRoutes() {
  const box = document.getElementById('patrol-routes');
  const sum = document.getElementById('route-summary');
  const steps = document.getElementById('route-steps');
  if (!box) return;
  if (!st.routes.length) {
    fill(box, h('span', { class: 'muted', id: 'no-route' }, t('patrol_no_route')),
      can('plan_patrol') ? h('button', { type: 'button', class: 'text-button', id: 'make-plan', onclick: makePlan }, t('patrol_make_plan')) : null);
    sum.textContent = '';
    steps.replaceChildren();
    return;
  }
  box.replaceChildren(...st.routes.map((r) => h('button', {
    type: 'button', class: `chip-button${st.route?.id === r.id ? ' active' : ''}`, dataset: { routeId: r.id },
    onclick: () => showRoute(r),
  }, `${t('patrol_route_n', { i: r.index, of: r.of })}${r.manager ? ` · ${r.manager}` : ''}`)));
  const r = st.route;
  sum.textContent = r ? t('patrol_summary', { km: length(r.total_m), min: Math.round(r.minutes), pipes: r.pipes, overdue: r.overdue }) : '';
  let n = 0;
  steps.replaceChildren(...(st.geo?.features || []).filter((f) => f.properties.kind !== 'start').map((f) => {
    const p = f.properties;
    const order = p.kind === 'patrol' && f.geometry ? ++n : null;
    return h('li', {
      class: `step step-${p.kind}${p.overdue ? ' overdue' : ''}`, dataset: { seq: p.seq },
      onclick: () => f.geometry && app.map.easeTo({ center: f.geometry.coordinates[0], zoom: Math.max(app.map.getZoom(), 17) }),
    }, order ? h('span', { class: 'step-no' }, order) : null, bilingual(p.text));
  }));
}

function renderCounts() {
  const el = document.getElementById('due-counts');
  if (!el) return;
  const c = { done: 0, due: 0, overdue: 0 };
  for (const s of app.due.values()) if (s in c) c[s]++;
  el.textContent = app.due.size ? t('patrol_counts', c) : '';
  el.dataset.done = c.done;
  el.dataset.due = c.due;
  el.dataset.overdue = c.overdue;
}

// --- the GPS track -----------------------------------------------------------------

function trackLength(points) {
  let m = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const k = Math.cos((a.lat * Math.PI) / 180);
    m += Math.hypot((b.lon - a.lon) * k * 111320, (b.lat - a.lat) * 110540);
  }
  return m;
}

function saveTrack() {
  try {
    const v = st.rec || st.pending;
    if (v) localStorage.setItem(TRACK_KEY, JSON.stringify({ ...v, watch: undefined }));
    else localStorage.removeItem(TRACK_KEY);
  } catch {
    // storage full or off: the track lives in memory only
  }
}

// restoreTrack brings back a track the page lost (a reload, a crash) as a
// track to upload.
function restoreTrack() {
  try {
    const v = JSON.parse(localStorage.getItem(TRACK_KEY) || 'null');
    if (v?.points?.length) st.pending = v;
  } catch {
    // none
  }
}

function drawTrack() {
  const v = st.rec || st.pending || st.uploaded;
  const src = app.map.getSource('track');
  if (!src) return;
  const fs = [];
  if (v?.points.length > 1) fs.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: v.points.map((p) => [p.lon, p.lat]) } });
  const last = st.rec ? st.lastFix : null;
  if (last) fs.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [last.lon, last.lat] } });
  src.setData({ type: 'FeatureCollection', features: fs });
}

function renderTrack() {
  const el = document.getElementById('track-status');
  const startB = document.getElementById('patrol-start');
  const stopB = document.getElementById('patrol-stop');
  if (!el) return;
  startB.hidden = !!st.rec;
  stopB.hidden = !st.rec;
  if (st.rec) {
    const p = st.rec.points;
    el.hidden = false;
    el.dataset.points = p.length;
    el.textContent = t('patrol_recording', { n: p.length, len: length(trackLength(p)), time: duration(Date.now() - st.rec.started) });
  } else if (st.pending) {
    el.hidden = false;
    el.dataset.points = st.pending.points.length;
    el.replaceChildren(h('span', {}, t('patrol_pending_track', { n: st.pending.points.length })), ' ',
      h('button', { type: 'button', class: 'text-button', id: 'track-retry', onclick: upload }, t('patrol_retry')));
  } else {
    el.hidden = true;
  }
}

function onFix(pos) {
  const c = pos.coords;
  const fix = { lon: c.longitude, lat: c.latitude, acc: c.accuracy, t: pos.timestamp || Date.now() };
  st.lastFix = fix;
  if (!st.rec) return;
  const pts = st.rec.points;
  const prev = pts[pts.length - 1];
  // One point per instant; a fix older than the last is a replay.
  if (prev && fix.t <= prev.t) return;
  if (prev && prev.lon === fix.lon && prev.lat === fix.lat && fix.t - prev.t < 5000) return;
  pts.push(fix);
  if (pts.length % 10 === 0) saveTrack();
  drawTrack();
  renderTrack();
}

function onFixError(e) {
  showError({ code: 'gps', message: t('patrol_gps_error', { msg: e.message || e.code }) });
}

async function startPatrol() {
  if (st.rec) return;
  if (!navigator.geolocation) {
    onFixError({ message: 'navigator.geolocation' });
    return;
  }
  st.pending = null;
  st.uploaded = null;
  st.rec = { points: [], started: Date.now(), district: app.district, route: st.route?.id || 0 };
  st.rec.watch = navigator.geolocation.watchPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
  try {
    st.wake = await navigator.wakeLock?.request('screen');
  } catch {
    // the screen may sleep; the GPS keeps recording while the page lives
  }
  document.getElementById('upload-result').hidden = true;
  saveTrack();
  renderTrack();
  drawTrack();
}

async function stopPatrol() {
  if (!st.rec) return;
  navigator.geolocation.clearWatch(st.rec.watch);
  st.wake?.release?.().catch(() => {});
  st.wake = null;
  const { points, district, route } = st.rec;
  st.rec = null;
  st.pending = { points, district, route, started: points[0]?.t || Date.now() };
  saveTrack();
  renderTrack();
  await upload();
}

// upload sends the pending track as GeoJSON with a time per point.
async function upload() {
  const v = st.pending;
  if (!v) return;
  const out = document.getElementById('upload-result');
  if (v.points.length < 2) {
    out.hidden = false;
    out.dataset.state = 'error';
    out.textContent = t('patrol_too_short');
    st.pending = null;
    saveTrack();
    renderTrack();
    return;
  }
  const fc = {
    type: 'Feature',
    properties: { name: `patrol ${v.district} ${new Date(v.points[0].t).toISOString()}`, coordTimes: v.points.map((p) => new Date(p.t).toISOString()) },
    geometry: { type: 'LineString', coordinates: v.points.map((p) => [Math.round(p.lon * 1e7) / 1e7, Math.round(p.lat * 1e7) / 1e7]) },
  };
  const q = new URLSearchParams({ district: v.district });
  if (v.route) q.set('route', String(v.route));
  const me = userName();
  if (me) q.set('manager', me);
  out.hidden = false;
  out.dataset.state = 'loading';
  out.textContent = t('patrol_uploading');
  try {
    const res = await api(`api/patrol/tracks?${q}`, { method: 'POST', body: JSON.stringify(fc), type: 'application/geo+json' });
    st.uploaded = v; // shown until the next patrol starts
    st.pending = null;
    saveTrack();
    out.dataset.state = 'ready';
    out.dataset.patrolled = res.patrolled;
    const cv = res.coverage;
    fill(out, h('div', {}, t('patrol_uploaded', { n: res.patrolled, len: length(res.patrolled_m || 0), partial: res.partial })),
      cv ? h('div', { class: 'muted small' }, t('patrol_coverage', { pct: Math.round((cv.rate || 0) * 100), missed: cv.missed?.length ?? 0 })) : null);
    app.w.lastTrack = res;
    await loadDue(app);
    app.refreshVolatile();
  } catch (e) {
    out.dataset.state = 'error';
    out.dataset.errorCode = e.code;
    out.textContent = e.message;
    if (e.code === 'track.duplicate' || (e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429)) {
      // The server will never take this track: do not offer it again.
      st.pending = null;
      saveTrack();
    }
  }
  renderTrack();
  drawTrack();
}

// --- the anomaly report ------------------------------------------------------------

function limitMin() {
  return st.rules?.rules?.report_within_minutes || 30;
}

function clockText() {
  const d = st.draft;
  if (!d) return { text: '', late: false };
  const deadline = d.foundAt + limitMin() * 60000;
  const left = deadline - serverNow();
  return left >= 0
    ? { text: t('anomaly_clock', { t: duration(left) }), late: false, soon: left < 5 * 60000 }
    : { text: t('anomaly_clock_late', { min: limitMin(), t: duration(left) }), late: true };
}

function tick() {
  if (st.rec) renderTrack();
  const c = clockText();
  const chip = document.getElementById('anomaly-draft');
  if (chip) {
    chip.hidden = !st.draft || !!st.dialog;
    if (st.draft) {
      chip.textContent = t('anomaly_draft', { clock: c.text });
      chip.classList.toggle('late', c.late);
    }
  }
  const el = document.getElementById('anomaly-clock');
  if (el) {
    el.textContent = c.text;
    el.dataset.late = String(c.late);
    el.classList.toggle('late', c.late);
    el.classList.toggle('soon', !!c.soon);
  }
}

// position finds where the anomaly is: the latest GPS fix when it is
// fresh, else one fix now, else the map's centre (to move by a tap).
async function position(d) {
  const fresh = st.lastFix && Date.now() - st.lastFix.t < 60000 ? st.lastFix : null;
  if (fresh) {
    Object.assign(d, { lon: fresh.lon, lat: fresh.lat, acc: fresh.acc, source: 'gps' });
    return;
  }
  const fix = await new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    navigator.geolocation.getCurrentPosition((p) => resolve(p), () => resolve(null), { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
  });
  if (fix) {
    Object.assign(d, { lon: fix.coords.longitude, lat: fix.coords.latitude, acc: fix.coords.accuracy, source: 'gps' });
    return;
  }
  const c = app.map.getCenter();
  Object.assign(d, { lon: c.lng, lat: c.lat, acc: null, source: 'map' });
}

// downscale shrinks a phone photo (often 4–8 MB) to at most 1600 px as JPEG,
// under the server's limit; the original when the browser cannot.
async function downscale(file) {
  if (!file || !file.type.startsWith('image/') || file.size < 900 * 1024) return file;
  try {
    const img = await createImageBitmap(file);
    const k = Math.min(1, 1600 / Math.max(img.width, img.height));
    const c = document.createElement('canvas');
    c.width = Math.round(img.width * k);
    c.height = Math.round(img.height * k);
    c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.85));
    return blob || file;
  } catch {
    return file;
  }
}

async function anomalyDialog() {
  if (st.dialog) return;
  if (!st.draft) {
    st.draft = { foundAt: serverNow(), type: '', note: '', photo: null };
    await position(st.draft);
  }
  const d = st.draft;
  const types = h('div', { class: 'type-grid', role: 'radiogroup', id: 'anomaly-types' }, TYPES.map((ty) => h('label', { class: 'type-choice' },
    h('input', { type: 'radio', name: 'anomaly-type', value: ty, checked: d.type === ty, onchange: () => { d.type = ty; } }),
    h('span', {}, t(`an_${ty}`)))));
  const photo = h('input', { type: 'file', id: 'anomaly-photo', accept: 'image/*', capture: 'environment' });
  const thumb = h('img', { id: 'anomaly-thumb', alt: '', hidden: !d.photo });
  if (d.photo) thumb.src = URL.createObjectURL(d.photo);
  photo.addEventListener('change', () => {
    d.photo = photo.files?.[0] || null;
    thumb.hidden = !d.photo;
    if (d.photo) thumb.src = URL.createObjectURL(d.photo);
  });
  const note = h('textarea', { id: 'anomaly-note', rows: 2, maxlength: 1000, oninput: (e) => { d.note = e.target.value; } }, d.note);
  const where = h('div', { id: 'anomaly-where', class: 'small' },
    h('div', {}, d.source === 'gps' ? t('anomaly_pos_gps', { acc: Math.round(d.acc ?? 0) }) : t('anomaly_pos_map')),
    h('div', { class: 'muted mono' }, formatCoords(app.config.srid, d.lon, d.lat)),
    h('button', {
      type: 'button', class: 'text-button', id: 'anomaly-pick', onclick: () => {
        st.picking = true;
        box.close();
        toast(t('anomaly_pos_pick'));
      },
    }, t('anomaly_pos_pick')));
  const found = h('p', { class: 'small' }, t('anomaly_found', { t: clock(d.foundAt), deadline: clock(d.foundAt + limitMin() * 60000) }));
  const clockEl = h('p', { id: 'anomaly-clock', class: 'report-clock', 'aria-live': 'off' }, clockText().text);
  const err = h('p', { class: 'error-text', id: 'anomaly-error', hidden: true });
  const submit = async () => {
    if (!d.type) {
      err.hidden = false;
      err.textContent = t('anomaly_no_type');
      return false;
    }
    // The district shown: a district manager reports in theirs (the server
    // checks it); empty lets the server take the nearest pipe's.
    const body = { type: d.type, lon: d.lon, lat: d.lat, found_at: new Date(d.foundAt).toISOString(), note: d.note || '', district: app.district || '' };
    const me = userName();
    if (me) body.manager = me;
    try {
      const a = await api('api/patrol/anomalies', { json: body });
      if (d.photo) {
        const fd = new FormData();
        fd.append('photo', await downscale(d.photo), d.photo.name || 'photo.jpg');
        await api(`api/patrol/anomalies/${a.id}/photos`, { body: fd });
      }
      st.draft = null;
      app.w.lastAnomaly = a;
      const msg = t('anomaly_sent', { id: a.id, min: a.delay_min, late: t(a.late ? 'anomaly_late' : 'anomaly_on_time') })
        + (a.repair_job ? ` · ${t('anomaly_job', { job: a.repair_job })}` : '');
      const out = document.getElementById('upload-result');
      out.hidden = false;
      out.dataset.state = a.late ? 'late' : 'ready';
      out.dataset.anomalyId = a.id;
      out.textContent = msg;
      toast(msg, a.late ? 'warn' : 'ok');
      if (a.repair_job) app.refreshVolatile();
      return true;
    } catch (e) {
      err.hidden = false;
      err.dataset.errorCode = e.code;
      err.textContent = e.message;
      return false;
    }
  };
  const box = modal({
    id: 'anomaly-dialog', title: t('anomaly_title'),
    body: [clockEl, found, field(t('anomaly_type'), types), field(t('anomaly_photo'), photo, thumb),
      field(t('anomaly_position'), where), field(t('anomaly_note'), note), err],
    buttons: [{ label: t('submit'), primary: true, id: 'anomaly-submit', onclick: submit },
      { label: t('anomaly_later'), id: 'anomaly-later' },
      { label: t('anomaly_discard'), id: 'anomaly-discard', onclick: () => { st.draft = null; } }],
    onclose: () => { st.dialog = null; tick(); },
  });
  st.dialog = box;
  tick();
}
