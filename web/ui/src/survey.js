// The GIS staff's screen: upload an as-built survey (POST
// api/asbuilt/batches), see its preview on the map (additions, changes,
// live pipes split where the new ones tie in, removals) and every
// validation issue — each clickable to its place — then approve (someone
// other than the uploader), reject, commit, roll back; and the history of
// batches. The routes are web/asbuilt.go's; their paths are all here.
import { api, can, userName } from './api.js';
import { h, field, fill } from './dom.js';
import { t, clock, length } from './i18n.js';
import { showError, toast } from './notify.js';

export const ASBUILT = {
  batches: 'api/asbuilt/batches',
  batch: (id) => `api/asbuilt/batches/${id}`,
  preview: (id) => `api/asbuilt/batches/${id}/preview`,
  action: (id, a) => `api/asbuilt/batches/${id}/${a}`, // validate | approve | reject | commit | rollback
};

const NAME_KEY = 'waterline.by';
const CRS = ['', 'EPSG:4548', 'EPSG:4527', 'EPSG:4490', 'EPSG:4326'];
const empty = () => ({ type: 'FeatureCollection', features: [] });

const sv = {
  batches: [],
  batch: null, // the batch shown, with its issues
  preview: null,
  unavailable: '',
  hit: null, // the issue shown
};

let app;

function by() {
  const el = document.getElementById('survey-by');
  return (el?.value || '').trim() || userName();
}

export function init(a) {
  app = a;
  const root = document.getElementById('screen-survey');
  let saved = '';
  try {
    saved = localStorage.getItem(NAME_KEY) || '';
  } catch {
    // none
  }
  const form = h('form', { id: 'survey-upload', class: 'card' },
    h('h3', { id: 'survey-upload-title', dataset: { i18n: 'survey_upload' } }, t('survey_upload')),
    field({ key: 'survey_file' }, h('input', { type: 'file', id: 'survey-file', name: 'file', required: true, accept: '.xlsx,.csv,.zip,.gpkg,.dxf,.geojson,.json' })),
    h('div', { class: 'row2' },
      field({ key: 'survey_project' }, h('input', { id: 'survey-project', name: 'project', maxlength: 200 })),
      field({ key: 'survey_contractor' }, h('input', { id: 'survey-contractor', name: 'contractor', maxlength: 200 }))),
    h('div', { class: 'row2' },
      field({ key: 'survey_date' }, h('input', { id: 'survey-date', name: 'survey_date', type: 'date' })),
      field({ key: 'survey_crs' }, h('select', { id: 'survey-crs', name: 'crs' }, CRS.map((c) => h('option', { value: c, dataset: c ? {} : { i18n: 'survey_crs_auto' } }, c || t('survey_crs_auto')))))),
    userName() ? null : field({ key: 'job_by' }, h('input', { id: 'survey-by', value: saved, maxlength: 100, required: true })),
    h('button', { type: 'submit', class: 'button', id: 'survey-send', dataset: { i18n: 'survey_send' } }, t('survey_send')),
    h('p', { id: 'survey-status', class: 'small', hidden: true }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    upload(form);
  });
  root.append(
    h('header', { class: 'screen-head' }, h('h2', { id: 'survey-title' }, t('survey_title'))),
    can('upload_survey') ? form : null,
    h('section', { id: 'batch-detail', hidden: true }),
    h('h3', { id: 'survey-history-title' }, t('survey_history')),
    h('ol', { id: 'batch-list', class: 'batch-list' }));
  app.onLang(() => {
    document.getElementById('survey-title').textContent = t('survey_title');
    document.getElementById('survey-history-title').textContent = t('survey_history');
    renderList();
    renderBatch();
  });
}

export function enter() {
  loadList();
}

export function leave() {}

// onMapClick opens the issue or change clicked on the preview.
export function onMapClick(a, e) {
  if (!sv.preview) return false;
  const fs = app.map.queryRenderedFeatures([[e.point.x - 6, e.point.y - 6], [e.point.x + 6, e.point.y + 6]], { layers: ['asbuilt-issues'] });
  if (!fs.length) return false;
  const code = fs[0].properties.issue;
  const el = [...document.querySelectorAll('#issue-list li[data-code]')].find((li) => li.dataset.code === code);
  el?.scrollIntoView({ block: 'nearest' });
  el?.click();
  return true;
}

async function loadList() {
  try {
    sv.batches = (await api(`${ASBUILT.batches}?limit=50`))?.batches || [];
    sv.unavailable = '';
  } catch (e) {
    if (e.status === 404 && e.code === 'route.not_found') sv.unavailable = ASBUILT.batches;
    else showError(e);
    sv.batches = [];
  }
  renderList();
}

function statusChip(s) {
  return h('span', { class: `status-chip st-${s}`, dataset: { status: s } }, t(`st_${s}`));
}

function renderList() {
  const ul = document.getElementById('batch-list');
  if (!ul) return;
  if (sv.unavailable) {
    ul.replaceChildren(h('li', { class: 'muted empty', id: 'survey-unavailable' }, t('survey_unavailable', { path: sv.unavailable })));
    return;
  }
  if (!sv.batches.length) {
    ul.replaceChildren(h('li', { class: 'muted empty' }, t('survey_none')));
    return;
  }
  ul.replaceChildren(...sv.batches.map((b) => h('li', {
    class: `batch${sv.batch?.id === b.id ? ' selected' : ''}`, dataset: { batchId: b.id, status: b.status }, tabindex: '0',
    onclick: () => showBatch(b.id),
  },
  h('div', {}, h('strong', {}, `#${b.id} `), b.file || '', ' ', statusChip(b.status)),
  h('div', { class: 'muted small' }, [b.project, b.uploaded_by, clock(b.uploaded_at), b.rollback_of ? `↩ #${b.rollback_of}` : ''].filter(Boolean).join(' · ')),
  h('div', { class: 'small' }, t('batch_issues', { errors: b.errors, warnings: b.warnings })))));
}

async function upload(form) {
  const status = document.getElementById('survey-status');
  const fd = new FormData();
  const file = document.getElementById('survey-file').files?.[0];
  if (!file) return;
  for (const [k, id] of [['project', 'survey-project'], ['contractor', 'survey-contractor'], ['survey_date', 'survey-date'], ['crs', 'survey-crs']]) {
    const v = document.getElementById(id).value.trim();
    if (v) fd.append(k, v);
  }
  const who = by();
  if (who) fd.append('by', who);
  try {
    localStorage.setItem(NAME_KEY, who);
  } catch {
    // not remembered
  }
  fd.append('file', file, file.name);
  status.hidden = false;
  status.dataset.state = 'loading';
  status.textContent = t('survey_uploading');
  let b = null;
  try {
    b = await api(ASBUILT.batches, { body: fd });
    status.dataset.state = 'ready';
    status.textContent = '';
    status.hidden = true;
  } catch (e) {
    // A file that cannot be used still makes a (failed) batch: show it.
    b = e.body?.batch || null;
    status.dataset.state = 'error';
    status.dataset.errorCode = e.code;
    status.textContent = e.message;
  }
  form.reset();
  if (document.getElementById('survey-by')) document.getElementById('survey-by').value = who;
  await loadList();
  if (b?.id) await showBatch(b.id);
}

async function showBatch(id) {
  try {
    const [b, p] = await Promise.all([api(ASBUILT.batch(id)), api(ASBUILT.preview(id)).catch(() => null)]);
    sv.batch = b;
    sv.preview = p;
  } catch (e) {
    showError(e);
    return;
  }
  sv.hit = null;
  // The preview has one feature per issue, in the batch's order: it
  // places the issues the batch gives no lon/lat for.
  const placed = (sv.preview?.features || []).filter((f) => f.properties && 'issue' in f.properties);
  (sv.batch.issues || []).forEach((is, i) => {
    const g = placed[i]?.geometry;
    if (!is.lonlat && g?.type === 'Point' && placed[i].properties.issue === is.code) is.lonlat = g.coordinates;
  });
  app.map.getSource('asbuilt')?.setData(sv.preview || empty());
  app.map.getSource('asbuilt-hit')?.setData(empty());
  app.w.survey = { batch: sv.batch.id, status: sv.batch.status, features: sv.preview?.features?.length ?? 0 };
  renderList();
  renderBatch();
  fitPreview();
}

function fitPreview() {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of sv.preview?.features || []) {
    const g = f.geometry;
    if (!g) continue;
    for (const [x, y] of g.type === 'Point' ? [g.coordinates] : g.coordinates) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
  }
  if (x0 === Infinity) return;
  const pad = app.narrow() ? 30 : { top: 60, bottom: 40, left: 370, right: 270 };
  app.map.fitBounds([[x0, y0], [x1, y1]], { padding: pad, maxZoom: 18, duration: 0 });
}

function count(obj) {
  return Object.values(obj || {}).reduce((a, b) => a + (Number(b) || 0), 0);
}

function renderBatch() {
  const el = document.getElementById('batch-detail');
  const b = sv.batch;
  if (!el) return;
  if (!b) {
    el.hidden = true;
    return;
  }
  const sm = b.summary || {};
  const ch = sm.changes || {};
  const issues = b.issues || [];
  const errors = b.errors ?? issues.filter((i) => i.severity === 'error').length;
  const warnings = b.warnings ?? issues.filter((i) => i.severity === 'warning').length;
  const ack = h('input', { type: 'checkbox', id: 'batch-ack', checked: !!b.warnings_acknowledged });
  const reason = h('input', { id: 'batch-reason', maxlength: 500, placeholder: t('batch_reject_reason') });
  const act = (a, body) => async () => {
    const payload = { ...body };
    const who = by();
    if (who) payload.by = who;
    try {
      const nb = await api(ASBUILT.action(b.id, a), { json: payload });
      toast(`#${nb.id} ${t(`st_${nb.status}`)}`);
      if (a === 'commit' || (a === 'rollback' && nb.status === 'committed')) await networkChanged();
      await loadList();
      await showBatch(nb.id);
    } catch (e) {
      showError(e);
    }
  };
  const may = can('approve_survey');
  const buttons = [];
  if (b.status === 'ready' && may) {
    if (warnings > 0) buttons.push(h('label', { class: 'check' }, ack, h('span', {}, t('batch_ack'))));
    buttons.push(h('button', { type: 'button', class: 'button', id: 'batch-approve', onclick: () => act('approve', { acknowledge_warnings: ack.checked })() }, t('batch_approve')));
  }
  if (b.status === 'approved' && may) buttons.push(h('button', { type: 'button', class: 'button', id: 'batch-commit', onclick: act('commit', {}) }, t('batch_commit')));
  if (['ready', 'invalid', 'approved', 'received'].includes(b.status) && may) {
    buttons.push(h('span', { class: 'reject-row' }, reason,
      h('button', { type: 'button', class: 'button secondary', id: 'batch-reject', onclick: () => act('reject', { reason: reason.value.trim() })() }, t('batch_reject'))));
  }
  if (b.status === 'committed' && !b.rolled_back_by && may) {
    buttons.push(h('button', {
      type: 'button', class: 'button danger', id: 'batch-rollback',
      onclick: () => { if (confirm(t('batch_rollback_confirm', { id: b.id }))) act('rollback', {})(); },
    }, t('batch_rollback')));
  }
  el.hidden = false;
  el.dataset.batchId = b.id;
  el.dataset.status = b.status;
  fill(el, 
    h('header', { class: 'screen-head' }, h('h3', {}, t('batch_title', { id: b.id, file: b.file || '' })), statusChip(b.status)),
    h('p', { class: 'muted small' }, t('batch_meta', { project: b.project || '—', contractor: b.contractor || '—', by: b.uploaded_by || '—', at: clock(b.uploaded_at) }),
      b.source_crs ? ` · ${b.source_crs}` : ''),
    b.failure ? h('p', { class: 'error-text' }, t('batch_failure', { msg: b.failure })) : null,
    h('p', { id: 'batch-summary' }, t('batch_summary', { pipes: sm.pipes ?? 0, len: length(sm.length_m || 0), valves: sm.valves ?? 0, hydrants: sm.hydrants ?? 0 })),
    h('p', { id: 'batch-changes', class: 'small', dataset: { add: count(ch.add), change: count(ch.change), split: count(ch.split), remove: count(ch.remove) } },
      t('batch_changes', { add: count(ch.add), change: count(ch.change), split: count(ch.split), remove: count(ch.remove) })),
    h('p', { id: 'batch-issue-count', class: errors ? 'error-text' : 'small', dataset: { errors, warnings } }, t('batch_issues', { errors, warnings })),
    h('div', { class: 'batch-actions' }, buttons),
    h('ol', { id: 'issue-list', class: 'issue-list' }, issues.map((is, i) => h('li', {
      class: `issue sev-${is.severity}${sv.hit === i ? ' selected' : ''}`, dataset: { code: is.code, severity: is.severity, index: i, located: String(!!is.lonlat) },
      tabindex: '0', onclick: () => showIssue(i),
    },
    h('div', {}, h('span', { class: `badge sev-${is.severity}` }, t(`sev_${is.severity}`)), ' ', h('code', {}, is.code),
      is.rows?.length ? h('span', { class: 'muted' }, ` · ${t('issue_rows', { rows: is.rows.join(', ') })}`) : null,
      is.lonlat ? null : h('span', { class: 'muted' }, ` ${t('issue_no_place')}`)),
    h('div', { class: 'small' }, is.message),
    is.fix ? h('div', { class: 'small muted' }, t('issue_fix', { fix: is.fix })) : null))));
}

// showIssue flies to an issue and rings it on the map.
function showIssue(i) {
  const is = sv.batch?.issues?.[i];
  if (!is) return;
  sv.hit = i;
  for (const li of document.querySelectorAll('#issue-list li')) li.classList.toggle('selected', Number(li.dataset.index) === i);
  app.w.issueShown = { index: i, code: is.code, lonlat: is.lonlat || null };
  if (!is.lonlat) {
    app.map.getSource('asbuilt-hit')?.setData(empty());
    return;
  }
  const [lon, lat] = is.lonlat;
  app.map.getSource('asbuilt-hit')?.setData({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { code: is.code }, geometry: { type: 'Point', coordinates: [lon, lat] } }] });
  app.map.easeTo({ center: [lon, lat], zoom: Math.max(app.map.getZoom(), 18), duration: 400 });
}

// networkChanged reloads what a commit changed: the network's tiles and
// counts.
async function networkChanged() {
  try {
    app.network = await api('api/network');
  } catch {
    // keep the old counts
  }
  const v = app.network?.version ?? Date.now();
  app.map.getSource('network')?.setTiles([`${app.base}tiles/network/{z}/{x}/{y}.mvt?v=${v}`]);
  document.getElementById('network-info').textContent = t('network_info', { pipes: app.network?.counts?.pipes ?? 0, valves: app.network?.counts?.valves ?? 0, version: v });
}
