// The plan panel: counts, critical customers first, the valves to close in
// order (each with a "valve failed" button), the CSV export.
import { h } from './dom.js';
import { t, category, length } from './i18n.js';

const COUNTS = [
  ['valves_to_close', (p) => p.valves_to_close.length],
  ['customers', (p) => p.customers.length],
  ['households', (p) => p.households],
  ['length_m', (p) => p.length_m, (v) => length(v)],
  ['critical_customers', (p) => p.critical_customers.length],
  ['hydrants', (p) => p.hydrants.length],
];

function list(v) {
  return Array.isArray(v) ? v : [];
}

// normalize makes every array of a plan answer an array (the API may send
// null for an empty one).
export function normalize(p) {
  for (const k of ['valves_to_close', 'valves_dry_side', 'valves_already_closed', 'valves_failed', 'segment_pipes',
    'unintended_pipes', 'connections', 'customers', 'critical_customers', 'hydrants', 'closing_order', 'critical']) {
    p[k] = list(p[k]);
  }
  p.households = p.households || 0;
  p.length_m = p.length_m || 0;
  return p;
}

export function csvURL(req) {
  const q = new URLSearchParams({ pipe: req.pipe, at: String(req.at) });
  if (req.failed_valves?.length) q.set('failed', req.failed_valves.join(','));
  return `api/shutoffs/customers.csv?${q}`;
}

// render fills panel for state: {status: 'loading'|'ready', plan, req}.
// actions: {close(), failValve(id), clearFailed(), focusValve(step)}, and
// when the user may: notice() and openJob().
export function render(panel, state, actions) {
  panel.replaceChildren();
  panel.hidden = false;
  panel.dataset.state = state.status;
  panel.append(h('header', { class: 'panel-head' },
    h('h2', { id: 'plan-title' }, t('plan_title')),
    h('button', { id: 'plan-close', type: 'button', class: 'icon-button', 'aria-label': t('close'), title: t('close'), onclick: actions.close }, '×')));
  if (state.status === 'loading') {
    panel.append(h('p', { class: 'muted', id: 'plan-loading' }, t('planning')));
    return;
  }
  const p = state.plan;
  const req = state.req;
  panel.append(h('p', { id: 'plan-leak', class: 'leak-line' },
    t('leak_at', { pipe: p.leak?.pipe ?? req.pipe, dn: p.leak?.dn ?? '?', pct: Math.round((p.leak?.at ?? req.at) * 100) })));

  const counts = h('dl', { class: 'counts', id: 'plan-counts' });
  for (const [key, get, fmt] of COUNTS) {
    const v = get(p);
    counts.append(h('div', { class: `count count-${key}`, dataset: { count: key, value: v } },
      h('dt', {}, t(`count_${key}`)), h('dd', {}, fmt ? fmt(v) : v)));
  }
  panel.append(counts);

  // Critical customers first: they are called before anyone else.
  const crit = h('section', { id: 'critical-customers', class: 'panel-section' }, h('h3', {}, t('critical_title')));
  if (p.critical.length === 0) crit.append(h('p', { class: 'muted' }, t('no_critical')));
  else {
    crit.append(h('ul', { class: 'critical-list' }, p.critical.map((c) => h('li', { dataset: { customerId: c.id, category: c.category || '' } },
      h('span', { class: 'badge badge-critical' }, category(c.category)), ' ', h('strong', {}, c.name || c.id),
      c.phone ? h('span', { class: 'muted' }, ` · ${c.phone}`) : null))));
  }
  panel.append(crit);

  const order = h('section', { id: 'closing-order', class: 'panel-section' }, h('h3', {}, t('closing_title')),
    h('p', { class: 'muted small' }, t('closing_rule')));
  if (p.closing_order.length === 0) order.append(h('p', { class: 'muted' }, t('no_valves')));
  const ol = h('ol', { class: 'valve-list' });
  for (const s of p.closing_order) {
    const fails = s.if_fails;
    let fallback = null;
    if (fails) {
      fallback = h('small', { class: 'if-fails' }, fails.extra_valves?.length
        ? t('if_fails', { valves: fails.extra_valves.join(t('list_sep')), n: fails.extra_customers ?? 0 })
        : t('if_fails_none'));
    }
    ol.append(h('li', { class: 'valve-step', dataset: { valveId: s.id, order: s.order } },
      h('button', { type: 'button', class: 'order-badge', title: s.id, onclick: () => actions.focusValve(s) }, s.order),
      h('div', { class: 'valve-text' },
        h('div', {}, t('valve_line', { id: s.id, dn: s.dn })),
        s.from_previous_m != null ? h('small', { class: 'muted' }, t('from_prev', { d: length(s.from_previous_m) })) : null,
        fallback),
      h('button', { type: 'button', class: 'fail-button', dataset: { failValve: s.id }, title: t('valve_failed_title'), onclick: () => actions.failValve(s.id) },
        t('valve_failed_btn'))));
  }
  order.append(ol);
  panel.append(order);

  if (req.failed_valves?.length) {
    panel.append(h('section', { id: 'failed-valves', class: 'panel-section' }, h('h3', {}, t('failed_title')),
      h('p', {}, req.failed_valves.map((id) => h('span', { class: 'chip', dataset: { failedValve: id } }, id))),
      h('button', { type: 'button', id: 'clear-failed', class: 'text-button', onclick: actions.clearFailed }, t('clear_failed'))));
  }
  const more = [
    ['dry_side_title', p.valves_dry_side],
    ['already_closed_title', p.valves_already_closed],
    ['unintended_title', p.unintended_pipes],
  ].filter(([, ids]) => ids.length);
  for (const [key, ids] of more) {
    panel.append(h('section', { class: 'panel-section' }, h('h3', {}, t(key)),
      h('p', { class: 'id-list' }, ids.slice(0, 50).join(t('list_sep')) + (ids.length > 50 ? ` … (${ids.length})` : ''))));
  }
  panel.append(h('p', { class: 'panel-actions' },
    h('a', { id: 'csv-link', class: 'button', href: csvURL(req), download: '' }, t('csv')),
    actions.notice ? h('button', { type: 'button', id: 'notice-open', class: 'button secondary', onclick: actions.notice }, t('notice_btn')) : null,
    actions.openJob ? h('button', { type: 'button', id: 'job-open', class: 'button secondary', onclick: actions.openJob }, t('open_job_btn')) : null));
}
