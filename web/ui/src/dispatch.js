// The dispatcher's screen: search (pipe/valve id, address), the shutoff
// plan (plan.js) with its notice and "open repair job", and the board of
// open repair sites — each with its next milestone and a countdown, late
// ones red — drawn on the map from the repair_sites tile layer, with the
// valves the jobs hold closed.
import { api, can, canRecord, fromZoneInput, serverNow, userName, zoneInput, zoneLabel } from './api.js';
import { h, modal, field, fill } from './dom.js';
import { t, pick, duration, clock, lang } from './i18n.js';
import { hideError, showError, toast } from './notify.js';
import { plan } from './plan.js';

const REFRESH_MS = 30000;

const board = {
  jobs: [],
  late: new Set(), // job ids marked late on the map
  held: new Set(), // valve ids marked held on the map
  detail: null, // job id shown in detail
  timer: 0,
  tick: 0,
  unavailable: false,
};

let app;

export function init(a) {
  app = a;
  app.hooks.notice = noticeDialog;
  app.hooks.openJob = jobDialog;
  app.hooks.volatile = () => {
    board.late = new Set(); // the new source has no states yet
    markMap();
  };
  const root = document.getElementById('screen-dispatch');
  root.append(
    h('header', { class: 'screen-head' },
      h('h2', { id: 'board-title' }, t('board_title')),
      h('span', { id: 'board-count', class: 'count-chip' }),
      h('button', { type: 'button', id: 'board-refresh', class: 'text-button', onclick: () => loadBoard() }, t('board_refresh'))),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'show-routes', onchange: (e) => showRoutes(e.target.checked) }),
      h('span', { id: 'show-routes-label' }, t('show_patrol_routes'))),
    h('ol', { id: 'board-list', class: 'board-list', 'aria-live': 'polite' }),
    h('section', { id: 'job-detail', hidden: true }));
  initSearch();
  app.onLang(() => {
    document.getElementById('board-title').textContent = t('board_title');
    document.getElementById('board-refresh').textContent = t('board_refresh');
    document.getElementById('show-routes-label').textContent = t('show_patrol_routes');
    document.getElementById('search-input').setAttribute('placeholder', t('search_placeholder'));
    renderBoard();
    if (board.detail) showJob(board.detail);
  });
  // Countdowns tick every second, wherever they are shown.
  board.tick = setInterval(tickCountdowns, 1000);
}

export function enter() {
  loadBoard();
  clearInterval(board.timer);
  board.timer = setInterval(loadBoard, REFRESH_MS);
}

export function leave() {
  clearInterval(board.timer);
  closeSearch();
  showSites(false);
}

// showSites shows the repair sites' layers (their tiles are only asked for
// while there are open jobs to show).
function showSites(on) {
  for (const id of ['repair-sites-halo', 'repair-sites']) {
    const v = on ? 'visible' : 'none';
    if (app.map.getLayer(id) && app.map.getLayoutProperty(id, 'visibility') !== v) app.map.setLayoutProperty(id, 'visibility', v);
  }
}

// --- the board ---------------------------------------------------------------

function isLate(job) {
  return (job.overdue?.length || 0) > 0 || job.next?.state === 'overdue';
}

// loadBoard fetches the open jobs with their next deadlines: every open
// job, or for a crew member the open jobs of their crews (api/me/jobs).
export async function loadBoard() {
  try {
    const all = can('list_jobs');
    const l = await api(all ? 'api/repair/jobs?status=open&limit=200' : 'api/me/jobs');
    board.jobs = (l?.jobs || []).filter((j) => all || j.status === 'open');
    board.unavailable = false;
  } catch (e) {
    if (e.status === 404 || e.status === 503) {
      board.unavailable = true;
      board.jobs = [];
    } else {
      showError(e);
      return;
    }
  }
  renderBoard();
  markMap();
  if (app.mode === 'dispatch') showSites(board.jobs.length > 0);
}

// markMap puts the board's lateness and held valves into the map's
// feature states.
function markMap() {
  const map = app.map;
  const late = new Set(board.jobs.filter(isLate).map((j) => j.id));
  for (const id of board.late) if (!late.has(id)) map.setFeatureState({ source: 'repair-sites', sourceLayer: 'repair_sites', id }, { late: false });
  for (const id of late) map.setFeatureState({ source: 'repair-sites', sourceLayer: 'repair_sites', id }, { late: true });
  board.late = late;
  const held = new Set(board.jobs.filter((j) => j.holding).flatMap((j) => j.valves || []));
  for (const id of board.held) if (!held.has(id)) map.setFeatureState({ source: 'network', sourceLayer: 'valves', id }, { held: false });
  for (const id of held) map.setFeatureState({ source: 'network', sourceLayer: 'valves', id }, { held: true });
  board.held = held;
  app.w.board = { jobs: board.jobs.length, late: [...late], held: [...held] };
}

function countdown(due, late) {
  return h('span', { class: `countdown${late ? ' late' : ''}`, dataset: { due } }, countdownText(due));
}

function countdownText(due) {
  const ms = Date.parse(due) - serverNow();
  return ms >= 0 ? t('left', { t: duration(ms) }) : t('late_by', { t: duration(ms) });
}

function tickCountdowns() {
  for (const el of document.querySelectorAll('.countdown[data-due]')) {
    el.textContent = countdownText(el.dataset.due);
    const late = Date.parse(el.dataset.due) < serverNow();
    el.classList.toggle('late', late);
    const li = el.closest('[data-job-id]');
    if (late && li && li.dataset.late !== 'true') {
      li.dataset.late = 'true';
      li.classList.add('late');
    }
  }
}

function kindBadge(kind) {
  return h('span', { class: `badge kind-${kind}` }, t(kind === 'planned' ? 'kind_planned' : 'kind_emergency'));
}

function renderBoard() {
  const list = document.getElementById('board-list');
  if (!list) return;
  document.getElementById('board-count').textContent = board.jobs.length ? String(board.jobs.length) : '';
  if (board.unavailable || board.jobs.length === 0) {
    list.replaceChildren(h('li', { class: 'muted empty' }, t('board_empty')));
    return;
  }
  list.replaceChildren(...board.jobs.map((j) => {
    const late = isLate(j);
    const next = j.next;
    return h('li', {
      class: `job${late ? ' late' : ''}${board.detail === j.id ? ' selected' : ''}`,
      dataset: { jobId: j.id, late: String(late), kind: j.kind },
      tabindex: '0',
      onclick: () => showJob(j.id),
      onkeydown: (e) => { if (e.key === 'Enter') showJob(j.id); },
    },
    h('div', { class: 'job-head' }, kindBadge(j.kind), h('strong', {}, ` #${j.id} `), h('span', { class: 'job-address' }, j.order?.address || t('board_pipe', { pipe: j.leak?.pipe }))),
    next
      ? h('div', { class: 'job-next', dataset: { milestone: next.milestone, state: next.state } },
        h('span', {}, t('board_next', { m: pick(next.label_zh, next.label) })), ' · ',
        next.due ? countdown(next.due, late) : h('span', { class: 'muted' }, t('state_pending')))
      : h('div', { class: 'job-next muted' }, t('board_done_all')),
    h('div', { class: 'muted small' }, [t('board_pipe', { pipe: j.leak?.pipe }), j.district ? t('board_district', { d: j.district }) : null,
      j.holding ? t('board_holding') : null].filter(Boolean).join(' · ')));
  }));
}

// showJob shows a job's timeline in the side panel and the site on the map.
async function showJob(id) {
  board.detail = id;
  const el = document.getElementById('job-detail');
  let jb;
  try {
    jb = await api(`api/repair/jobs/${id}`);
  } catch (e) {
    showError(e);
    return;
  }
  if (board.detail !== id) return;
  // What was typed in the form survives a redraw of the same job.
  const kept = el.dataset.jobId === String(id) ? {
    time: document.getElementById('milestone-time')?.value || '',
    note: document.getElementById('milestone-note')?.value || '',
    by: document.getElementById('milestone-by')?.value,
  } : {};
  el.dataset.jobId = String(id);
  app.w.job = { id: jb.id, status: jb.status, next: jb.next?.milestone || '', timeline: (jb.timeline || []).map((x) => [x.milestone, x.state]) };
  if (jb.leak?.lon != null) app.map.easeTo({ center: [jb.leak.lon, jb.leak.lat], zoom: Math.max(app.map.getZoom(), 16), duration: 400 });
  const late = isLate(jb);
  fill(el, 
    h('header', { class: 'screen-head' },
      h('button', { type: 'button', class: 'text-button', id: 'job-back', onclick: closeJob }, `‹ ${t('back')}`),
      h('h2', {}, t('job_detail', { id: jb.id })), kindBadge(jb.kind)),
    h('p', {}, jb.order?.address || ''),
    jb.order?.content ? h('p', { class: 'muted' }, jb.order.content) : null,
    jb.next?.due ? h('p', { class: 'job-next', id: 'job-next', dataset: { milestone: jb.next.milestone, state: jb.next.state } },
      t('board_next', { m: pick(jb.next.label_zh, jb.next.label) }), ' · ', countdown(jb.next.due, late)) : null,
    h('h3', {}, t('timeline')),
    h('ol', { class: 'timeline', id: 'job-timeline' }, (jb.timeline || []).map((s) => h('li', { dataset: { milestone: s.milestone, state: s.state }, class: `tl tl-${s.state}` },
      h('span', { class: 'tl-label' }, pick(s.label_zh, s.label)),
      h('span', { class: 'tl-state' }, t(`state_${s.state}`)),
      s.done ? h('small', {}, t('tl_done', { t: clock(s.done) })) : s.due ? h('small', {}, t('tl_due', { t: clock(s.due) })) : null,
      s.late_by ? h('small', { class: 'late' }, t('late_by', { t: duration((s.late_by_s || 0) * 1000) })) : null,
      s.note ? h('small', { class: 'tl-note muted' }, s.note) : null,
      s.photo ? h('a', { class: 'tl-photo', href: s.photo, target: '_blank', rel: 'noopener' }, t('ms_photo_link')) : null))),
    failuresList(jb),
    recordForm(jb, kept));
  el.hidden = false;
  document.getElementById('board-list').hidden = true;
  renderBoard();
}

// --- recording milestones and failed valves ---------------------------------------

const RECORDED = new Set(['done', 'late', 'not_applicable']);

// recordable lists the milestones of a job that may be recorded now: not
// recorded yet, every milestone they require recorded (closing: every
// other milestone), and the user's role allowing it (repair.checkOrder and
// web/auth_rules.go decide anyway).
export function recordable(jb) {
  if (jb.status !== 'open') return [];
  const tl = jb.timeline || [];
  const done = new Set(tl.filter((s) => RECORDED.has(s.state)).map((s) => s.milestone));
  return tl.filter((s) => !done.has(s.milestone)
    && (s.milestone === 'closed' ? tl.every((o) => o === s || done.has(o.milestone)) : (s.requires || []).every((r) => done.has(r)))
    && canRecord(s.milestone));
}

// failable lists the job's valves that may be reported failed now: after
// the approval, before the reopening (repair.FailValve).
function failable(jb) {
  if (jb.status !== 'open' || !can('fail_valve')) return [];
  const st = Object.fromEntries((jb.timeline || []).map((s) => [s.milestone, s.state]));
  if (!RECORDED.has(st.approved) || RECORDED.has(st.valves_reopened)) return [];
  const failed = new Set(jb.failed_valves || []);
  return (jb.valves || []).filter((v) => !failed.has(v));
}

function failuresList(jb) {
  const fs = jb.valve_failures || [];
  if (!fs.length) return null;
  return h('ul', { id: 'valve-failures', class: 'muted small' }, fs.map((f) => h('li', { dataset: { valve: f.valve } },
    t('vf_extra', { v: f.valve, x: (f.extra_valves || []).join(t('list_sep')) || '—', n: f.extra_households ?? 0 }))));
}

// recordForm is the job detail's form: the time (the utility's wall clock;
// blank = now), a note, who (on a server without sign-in), a button per
// milestone recordable now (the next one first), and "valve failed".
function recordForm(jb, kept = {}) {
  const ms = recordable(jb);
  const valves = failable(jb);
  if (!ms.length && !valves.length) {
    return jb.status === 'open' && can('record_milestone') ? h('p', { class: 'muted small', id: 'milestone-none' }, t('ms_none')) : null;
  }
  const tz = app.config.time_zone || '';
  const time = h('input', { id: 'milestone-time', type: 'datetime-local', value: kept.time || '' });
  const note = h('input', { id: 'milestone-note', maxlength: 500, value: kept.note || '' });
  const by = userName() ? null : h('input', { id: 'milestone-by', maxlength: 100, value: kept.by ?? remembered() });
  const photo = h('input', { id: 'milestone-photo', type: 'file', accept: 'image/*', capture: 'environment' });
  const hint = h('small', { class: 'muted' }, t('ms_time_hint'), ' · ',
    h('button', { type: 'button', class: 'text-button', id: 'milestone-now', onclick: () => { time.value = zoneInput(serverNow(), tz); } }, t('ms_now')));
  const box = h('section', { id: 'milestone-form', class: 'record-form', dataset: { state: 'ready' } });
  const next = jb.next?.milestone;
  ms.sort((a, b) => (b.milestone === next) - (a.milestone === next));
  const buttons = ms.map((s, i) => h('button', {
    type: 'button', id: 'milestone-record', class: `button${i === 0 ? '' : ' secondary'} milestone-record`,
    dataset: { milestone: s.milestone },
    onclick: () => send(box, jb.id, `api/repair/jobs/${jb.id}/milestones`, { milestone: s.milestone }, pick(s.label_zh, s.label)),
  }, t('ms_record_btn', { m: pick(s.label_zh, s.label) })));
  // Optional milestones (callback, site restored, road notice) may not
  // apply to a job: recorded so, with the reason in the note.
  const skips = ms.filter((s) => s.optional).map((s) => h('button', {
    type: 'button', class: 'text-button milestone-na', dataset: { milestone: s.milestone },
    onclick: () => {
      if (!note.value.trim()) {
        showError(Object.assign(new Error(t('ms_na_needs_note')), { code: 'milestone.note' }));
        note.focus();
        return;
      }
      send(box, jb.id, `api/repair/jobs/${jb.id}/milestones`, { milestone: s.milestone, not_applicable: true }, pick(s.label_zh, s.label));
    },
  }, t('ms_na_btn', { m: pick(s.label_zh, s.label) })));
  const common = () => {
    const b = {};
    if (time.value) {
      b.at = fromZoneInput(time.value, tz);
      if (!b.at) throw Object.assign(new Error(t('ms_bad_time')), { code: 'milestone.time' });
    }
    if (note.value.trim()) b.note = note.value.trim();
    b.by = userName() || by?.value.trim() || '';
    return b;
  };
  box.common = common;
  box.photo = photo;
  let fail = null;
  if (valves.length) {
    const sel = h('select', { id: 'valve-fail-select' }, valves.map((v) => h('option', { value: v }, v)));
    fail = h('div', { class: 'valve-fail' }, h('h3', {}, t('vf_title')),
      field(t('vf_valve'), sel),
      h('button', {
        type: 'button', id: 'valve-fail-record', class: 'button danger',
        onclick: () => send(box, jb.id, `api/repair/jobs/${jb.id}/failed-valves`, { valve: sel.value }, sel.value),
      }, t('vf_record')));
  }
  return fill(box,
    h('h3', {}, t('ms_record_title')),
    field(t('ms_time', { zone: zoneLabel(serverNow(), tz) }), time, hint),
    by ? field(t('ms_by'), by) : null,
    field(t('ms_note'), note),
    ms.length ? field(t('ms_photo'), photo) : null,
    ms.length ? h('div', { class: 'record-buttons' }, buttons) : null,
    skips.length ? h('div', { class: 'record-buttons' }, skips) : null,
    fail);
}

// send posts a milestone or a failed valve with the form's time, note and
// who, then redraws the job, the board and the map; errors go to the
// banner.
async function send(box, id, path, body, label) {
  if (box.dataset.state === 'saving') return;
  let req;
  try {
    req = { ...body, ...box.common() };
  } catch (e) {
    showError(e);
    return;
  }
  box.dataset.state = 'saving';
  for (const b of box.querySelectorAll('button')) b.disabled = true;
  try {
    const file = box.photo?.files?.[0];
    if (body.milestone && !body.not_applicable && file) req.photo = await shrinkPhoto(file);
    const res = await api(path, { json: req });
    hideError();
    if (req.by && !userName()) {
      try {
        localStorage.setItem(BY_KEY, req.by);
      } catch {
        // not remembered
      }
    }
    if (body.milestone) {
      const jb = res?.job;
      const step = (jb?.timeline || []).find((s) => s.milestone === body.milestone);
      app.w.lastMilestone = { job: id, milestone: body.milestone, at: req.at || '', done: step?.done || '' };
      const v = res?.valves;
      const sep = t('list_sep');
      toast([t('ms_recorded', { m: label }),
        v?.close?.length ? t('ms_close_valves', { v: v.close.join(sep) }) : null,
        v?.open?.length ? t('ms_open_valves', { v: v.open.join(sep) }) : null,
        v?.keep_closed?.length ? t('ms_keep_closed', { v: v.keep_closed.map((k) => k.valve).join(sep) }) : null].filter(Boolean).join(' · '));
    } else {
      const f = (res?.valve_failures || []).find((x) => x.valve === body.valve);
      app.w.lastFailure = { job: id, valve: body.valve, extra: f?.extra_valves || [] };
      toast(t('vf_recorded', { v: body.valve, n: f?.extra_valves?.length ?? 0 }));
    }
    // The time, note and photo were this record's: the next starts blank.
    for (const f of ['milestone-time', 'milestone-note', 'milestone-photo']) {
      const el = document.getElementById(f);
      if (el) el.value = '';
    }
    app.refreshVolatile();
    await loadBoard();
    await showJob(id);
  } catch (e) {
    box.dataset.state = 'error';
    for (const b of box.querySelectorAll('button')) b.disabled = false;
    showError(e);
  }
}

// maxPhotoBytes is what a milestone's photo may weigh once shrunk (the
// server takes up to 700 KiB).
const maxPhotoBytes = 600 << 10;

// shrinkPhoto turns a picture from the camera or the gallery into a JPEG
// data URL of at most 1600 px a side and maxPhotoBytes, as the milestone
// API takes it.
async function shrinkPhoto(file) {
  let img;
  try {
    img = await createImageBitmap(file);
  } catch {
    throw Object.assign(new Error(t('ms_photo_unreadable')), { code: 'milestone.photo' });
  }
  const scale = Math.min(1, 1600 / Math.max(img.width, img.height));
  const c = document.createElement('canvas');
  c.width = Math.max(1, Math.round(img.width * scale));
  c.height = Math.max(1, Math.round(img.height * scale));
  c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
  for (const q of [0.85, 0.7, 0.5, 0.35]) {
    const url = c.toDataURL('image/jpeg', q);
    if ((url.length - url.indexOf(',') - 1) * 0.75 <= maxPhotoBytes) return url;
  }
  throw Object.assign(new Error(t('ms_photo_too_big')), { code: 'milestone.photo' });
}

function closeJob() {
  board.detail = null;
  document.getElementById('job-detail').hidden = true;
  document.getElementById('board-list').hidden = false;
  renderBoard();
}

function showRoutes(on) {
  app.map.setLayoutProperty('patrol-routes', 'visibility', on ? 'visible' : 'none');
  if (on) app.map.setFilter('patrol-routes', ['all', ['==', ['get', 'date'], app.today()], ['!=', ['get', 'kind'], 'offnet']]);
}

// --- search ---------------------------------------------------------------------

const search = { seq: 0, timer: 0, results: [], missing: false };

function initSearch() {
  const form = document.getElementById('search');
  const input = document.getElementById('search-input');
  input.setAttribute('placeholder', t('search_placeholder'));
  input.addEventListener('input', () => {
    clearTimeout(search.timer);
    search.timer = setTimeout(() => runSearch(input.value), 250);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeSearch();
    if (e.key === 'ArrowDown') document.querySelector('#search-results button')?.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearTimeout(search.timer);
    await runSearch(input.value);
    if (search.results.length) choose(search.results[0]);
    else if (search.missing && input.value.trim()) {
      // No search API on this server: an id is planned for directly.
      closeSearch();
      plan({ pipe: input.value.trim(), at: 0.5 }, { fly: true });
    }
  });
  document.addEventListener('click', (e) => {
    if (!form.contains(e.target)) closeSearch();
  });
}

function closeSearch() {
  const ul = document.getElementById('search-results');
  ul.hidden = true;
  ul.replaceChildren();
}

async function runSearch(q) {
  q = q.trim();
  const seq = ++search.seq;
  const ul = document.getElementById('search-results');
  if (!q) {
    search.results = [];
    closeSearch();
    return;
  }
  let res = [];
  try {
    const r = await api(`api/search?q=${encodeURIComponent(q)}&limit=8`);
    res = r?.results || [];
    search.missing = false;
  } catch (e) {
    if (e.status === 404 && e.code === 'route.not_found') search.missing = true;
    else if (e.status !== 400) showError(e);
  }
  if (seq !== search.seq) return;
  search.results = res;
  ul.replaceChildren(...(res.length ? res.map((r, i) => h('li', {},
    h('button', {
      type: 'button', class: 'search-hit', dataset: { kind: r.kind, id: r.id, index: i },
      onclick: () => choose(r),
      onkeydown: (e) => {
        if (e.key === 'ArrowDown') e.target.closest('li').nextElementSibling?.querySelector('button')?.focus();
        if (e.key === 'ArrowUp') (e.target.closest('li').previousElementSibling?.querySelector('button') || document.getElementById('search-input')).focus();
      },
    },
    h('span', { class: `badge hit-${r.kind}` }, t(`search_kind_${r.kind}`)), ' ',
    h('strong', {}, r.kind === 'address' ? r.label : r.id),
    r.kind !== 'address' && r.label ? h('span', { class: 'muted' }, ` ${r.label}`) : null,
    r.count ? h('span', { class: 'muted' }, ` · ${t('search_customers', { n: r.count })}`) : null)))
    : [h('li', { class: 'muted empty' }, search.missing ? '' : t('search_none', { q }))]));
  ul.hidden = false;
}

function hit(geom) {
  app.map.getSource('search-hit')?.setData({ type: 'FeatureCollection', features: geom ? [{ type: 'Feature', geometry: geom, properties: {} }] : [] });
}

// choose acts on a search result: a pipe or an address is planned for
// (the pipe serving the address), a valve or hydrant is shown with a
// button to plan on its pipe, a district is fitted.
function choose(r) {
  closeSearch();
  document.getElementById('search-input').value = r.kind === 'address' ? r.label : r.id;
  hit(null);
  if (r.kind === 'district' && r.bbox) {
    app.map.fitBounds([[r.bbox[0], r.bbox[1]], [r.bbox[2], r.bbox[3]]], { padding: 60 });
    return;
  }
  if ((r.kind === 'pipe' || r.kind === 'address') && r.pipe) {
    hit({ type: 'Point', coordinates: [r.lon, r.lat] });
    plan({ pipe: r.pipe, at: r.at ?? 0.5 }, { fly: true });
    return;
  }
  hit({ type: 'Point', coordinates: [r.lon, r.lat] });
  app.map.easeTo({ center: [r.lon, r.lat], zoom: Math.max(app.map.getZoom(), 17), duration: 500 });
  if (r.pipe) {
    const box = modal({
      id: 'hit-dialog', title: `${t(`search_kind_${r.kind}`)} ${r.id}${r.label ? ` · ${r.label}` : ''}`,
      body: [h('p', { class: 'muted' }, t('board_pipe', { pipe: r.pipe }))],
      buttons: [{ label: t('plan_here'), primary: true, id: 'hit-plan', onclick: () => plan({ pipe: r.pipe, at: r.at ?? 0.5 }, { fly: true }) },
        { label: t('close') }],
    });
    box.el.classList.add('compact');
  }
}

// --- the notice -------------------------------------------------------------------

function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function roundedNow(addMin = 0) {
  const d = new Date(serverNow() + addMin * 60000);
  d.setMinutes(Math.ceil(d.getMinutes() / 5) * 5, 0, 0);
  return d;
}

function planRequest(req) {
  const p = { pipe: req.pipe, at: req.at };
  if (req.failed_valves?.length) p.failed_valves = req.failed_valves;
  return p;
}

// noticeDialog writes the shutoff notice of the plan shown (POST
// api/shutoffs/notice), in Chinese and English side by side.
function noticeDialog(req) {
  if (!req) return;
  const reason = h('input', { id: 'notice-reason', value: t('notice_reason_default'), maxlength: 500 });
  const start = h('input', { id: 'notice-start', type: 'datetime-local', value: localInput(roundedNow()) });
  const restore = h('input', { id: 'notice-restore', type: 'datetime-local', value: localInput(roundedNow(240)) });
  const planned = h('input', { id: 'notice-planned', type: 'checkbox' });
  const out = h('div', { id: 'notice-out' });
  const make = async () => {
    const body = {
      plan: planRequest(req),
      notice: { reason: reason.value.trim(), start: new Date(start.value).toISOString(), restore: new Date(restore.value).toISOString(), planned: planned.checked },
    };
    out.dataset.state = 'loading';
    try {
      const n = await api('api/shutoffs/notice', { json: body });
      renderNotice(out, n);
    } catch (e) {
      out.dataset.state = 'error';
      out.replaceChildren(h('p', { class: 'error-text', dataset: { errorCode: e.code } }, e.message));
    }
    return false;
  };
  modal({
    id: 'notice-dialog', title: t('notice_title'),
    body: [
      field(t('notice_reason'), reason),
      h('div', { class: 'row2' }, field(t('notice_start'), start), field(t('notice_restore'), restore)),
      h('label', { class: 'check' }, planned, h('span', {}, t('notice_planned'))),
      out,
    ],
    buttons: [{ label: t('notice_make'), primary: true, id: 'notice-make', onclick: make, keep: true }, { label: t('close') }],
  });
}

function copyButton(text) {
  return h('button', {
    type: 'button', class: 'text-button copy', onclick: async (e) => {
      try {
        await navigator.clipboard.writeText(text);
        e.target.textContent = t('copied');
      } catch {
        // no clipboard (insecure origin): the text is selectable
      }
    },
  }, t('copy'));
}

function renderNotice(out, n) {
  out.dataset.state = 'ready';
  const first = lang() === 'zh' ? ['zh', n.zh] : ['en', n.en];
  const second = lang() === 'zh' ? ['en', n.en] : ['zh', n.zh];
  fill(out, 
    h('p', { class: 'muted small' }, t('notice_count', { n: n.customers ?? 0 }),
      n.area?.length ? ` · ${t('notice_area', { area: n.area.join(t('list_sep')) })}` : ''),
    h('div', { class: 'notice-texts' },
      ...[first, second].map(([l, text]) => h('figure', { class: 'notice-text', lang: l === 'zh' ? 'zh-CN' : 'en' },
        h('figcaption', {}, t(`notice_${l}`), copyButton(text)),
        h('pre', { id: `notice-${l}` }, text)))),
    n.late?.length
      ? h('section', { id: 'notice-late' }, h('h3', {}, t('notice_late')),
        h('ul', {}, n.late.map((c) => h('li', { dataset: { customerId: c.customer_id } },
          t('notice_late_line', { name: c.name || c.customer_id, need: c.need_hours, given: Math.round(c.given_hours * 10) / 10 })))))
      : null);
}

// --- opening a repair job -----------------------------------------------------------

const BY_KEY = 'waterline.by';

function remembered() {
  try {
    return localStorage.getItem(BY_KEY) || '';
  } catch {
    return '';
  }
}

// jobDialog opens a repair job (or a planned shutoff) on the plan shown.
function jobDialog(req, p) {
  if (!req) return;
  const kind = h('select', { id: 'job-kind' },
    h('option', { value: 'emergency' }, t('kind_emergency')), h('option', { value: 'planned' }, t('kind_planned')));
  const source = h('select', { id: 'job-source' }, ['src_hotline', 'src_patrol', 'src_customer', 'src_other'].map((k) => h('option', { value: t(k) }, t(k))));
  const address = h('input', { id: 'job-address', maxlength: 500 });
  const content = h('textarea', { id: 'job-content', rows: 2, maxlength: 2000 });
  const contact = h('input', { id: 'job-contact', maxlength: 100 });
  const reporter = h('input', { id: 'job-reporter', maxlength: 100 });
  const by = h('input', { id: 'job-by', value: userName() || remembered(), maxlength: 100, required: true });
  const reason = h('input', { id: 'job-reason', maxlength: 500 });
  const start = h('input', { id: 'job-start', type: 'datetime-local', value: localInput(roundedNow(48 * 60)) });
  const end = h('input', { id: 'job-end', type: 'datetime-local', value: localInput(roundedNow(48 * 60 + 240)) });
  const plannedBox = h('fieldset', { class: 'planned-fields', hidden: true }, field(t('job_reason'), reason),
    h('div', { class: 'row2' }, field(t('job_start'), start), field(t('job_end'), end)));
  kind.addEventListener('change', () => { plannedBox.hidden = kind.value !== 'planned'; });
  const err = h('p', { class: 'error-text', id: 'job-error', hidden: true });
  const submit = async () => {
    const body = {
      kind: kind.value,
      leak: planRequest(req),
      order: { source: source.value, address: address.value.trim(), content: content.value.trim(), contact: contact.value.trim(), reporter: reporter.value.trim() },
      by: by.value.trim(),
    };
    if (kind.value === 'planned') {
      body.planned = { start: new Date(start.value).toISOString(), end: new Date(end.value).toISOString(), reason: reason.value.trim() };
    }
    try {
      localStorage.setItem(BY_KEY, body.by);
    } catch {
      // not remembered
    }
    try {
      const jb = await api('api/repair/jobs', { json: body });
      toast(t('job_opened', { id: jb.id }));
      app.w.lastJob = jb.id;
      app.refreshVolatile();
      await loadBoard();
      showJob(jb.id);
      return true;
    } catch (e) {
      err.hidden = false;
      err.dataset.errorCode = e.code;
      err.textContent = e.message;
      return false;
    }
  };
  modal({
    id: 'job-dialog', title: t('job_title'),
    body: [
      h('p', { class: 'muted small' }, t('job_plan_on', { pipe: req.pipe, n: p?.valves_to_close?.length ?? 0 })),
      h('div', { class: 'row2' }, field(t('job_kind'), kind), field(t('job_source'), source)),
      field(t('job_address'), address),
      field(t('job_content'), content),
      h('div', { class: 'row2' }, field(t('job_contact'), contact), field(t('job_reporter'), reporter)),
      field(t('job_by'), by),
      plannedBox,
      err,
    ],
    buttons: [{ label: t('submit'), primary: true, id: 'job-submit', onclick: submit }, { label: t('cancel') }],
  });
}
