// h builds an element: h('li', {class: 'x', dataset: {id: 'V1'}, onclick: f}, 'text', child…).
// Text is always set as text, never parsed as HTML.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// modal opens a dialog over the page: a title, a body (nodes), and
// buttons [{label, primary, onclick(close) → false keeps it open}]. It
// returns {el, close}. Escape and the × close it (onclose is called).
export function modal({ id, title, body, buttons = [], onclose, closeLabel = '×' }) {
  const root = document.getElementById('dialog-root');
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    wrap.remove();
    document.removeEventListener('keydown', onKey);
    onclose?.();
  };
  const onKey = (e) => {
    if (e.key === 'Escape') close();
  };
  const foot = h('footer', { class: 'dialog-foot' }, buttons.map((b) => h('button', {
    type: b.submit ? 'submit' : 'button', class: b.primary ? 'button' : 'button secondary', id: b.id,
    onclick: b.submit ? undefined : async (e) => {
      e.preventDefault();
      if ((await b.onclick?.(close)) !== false && !b.keep) close();
    },
  }, b.label)));
  const box = h('section', { class: 'dialog', id, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': `${id}-title` },
    h('header', { class: 'dialog-head' }, h('h2', { id: `${id}-title` }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': closeLabel, onclick: close }, '×')),
    h('div', { class: 'dialog-body' }, body),
    foot);
  const wrap = h('div', { class: 'dialog-wrap', onclick: (e) => { if (e.target === wrap) close(); } }, box);
  root.append(wrap);
  document.addEventListener('keydown', onKey);
  return { el: box, close, get closed() { return closed; } };
}

// field wraps a labelled form control. label is the text, or {key} of an
// i18n label that follows the language (data-i18n, see i18n.apply).
export function field(label, control, extra) {
  const text = typeof label === 'object' ? h('span', { class: 'field-label', dataset: { i18n: label.key } }) : h('span', { class: 'field-label' }, label);
  return h('label', { class: 'field' }, text, control, extra);
}

// fill replaces el's children, skipping null, undefined and false (as h does).
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}
