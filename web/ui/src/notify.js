// The error banner and short notes (toasts).
import { h } from './dom.js';
import { t } from './i18n.js';

export function showError(err) {
  const banner = document.getElementById('error-banner');
  banner.replaceChildren(
    h('strong', {}, t('error_prefix')),
    h('span', { id: 'error-message' }, err?.message || String(err)),
    h('button', { type: 'button', class: 'text-button', onclick: hideError }, t('dismiss')));
  banner.dataset.errorCode = err?.code || 'error';
  banner.hidden = false;
}

export function hideError() {
  const banner = document.getElementById('error-banner');
  banner.hidden = true;
  banner.replaceChildren();
  delete banner.dataset.errorCode;
}

let toastTimer = 0;

// toast shows a short note for a few seconds.
export function toast(msg, kind = 'ok') {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}
