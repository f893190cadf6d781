// Every request the UI makes goes through api() (JSON) or apiURL() (tiles,
// links): this is the one place that knows about sign-in.
//
// Sign-in (web/auth.go): GET api/me says who is signed in and gives the
// session's anti-forgery token and the header to send it in
// ({user, csrf_token, csrf_header, sign_in}); every state-changing request
// sends it. A 401 sends the browser to the server's sign-in page
// (login?next=…), which comes back here. A server without sign-in answers
// api/me with an open principal (or, before the auth routes, 404): the UI
// then shows every screen.
import { t } from './i18n.js';

// base is the directory the UI is served from: API and tile URLs are
// relative to it, so the UI works behind a path prefix.
export const base = new URL('.', document.baseURI).href;

export class APIError extends Error {
  constructor(code, message, status, body) {
    super(message);
    this.code = code;
    this.status = status;
    this.body = body;
  }
}

export const session = {
  user: null, // {name, display_name, role, districts}
  signIn: false, // the server has sign-in
  csrfHeader: 'X-CSRF-Token',
  csrfToken: '',
  clockOffset: 0, // server clock − browser clock, ms (from Date headers)
};

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function apiURL(path) {
  return new URL(path, base).href;
}

// toSignIn leaves for the sign-in page, coming back to where the user was.
export function toSignIn() {
  const here = location.pathname + location.search + location.hash;
  location.assign(apiURL(`login?next=${encodeURIComponent(here)}`));
}

function noteClock(res) {
  const d = Date.parse(res.headers.get('date') || '');
  if (Number.isNaN(d)) return;
  const off = d - Date.now();
  // Date headers have a resolution of a second: only a real skew counts.
  session.clockOffset = Math.abs(off) > 2500 ? off : 0;
}

// serverNow is the time by the server's clock (deadlines and the anomaly
// clock are the server's).
export function serverNow() {
  return Date.now() + session.clockOffset;
}

// api sends a request and returns the decoded JSON answer (null for an
// empty one). opts: {method, json (a body to send as JSON), body (sent as
// is: FormData, Blob, string), headers, type (Content-Type for body)}.
// Errors: APIError with the server's {error: {code, message}}.
export async function api(path, opts = {}) {
  const method = (opts.method || (opts.json !== undefined || opts.body !== undefined ? 'POST' : 'GET')).toUpperCase();
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = 'application/json';
  } else if (opts.type) {
    headers['Content-Type'] = opts.type;
  }
  if (!SAFE.has(method) && session.csrfToken) headers[session.csrfHeader] = session.csrfToken;
  let res;
  try {
    res = await fetch(apiURL(path), { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new APIError('network', t('network_error', { msg: e.message }), 0);
  }
  noteClock(res);
  let data = null;
  if ((res.headers.get('content-type') || '').includes('json')) data = await res.json().catch(() => null);
  if (res.status === 401 && session.signIn) {
    toSignIn();
  }
  if (!res.ok) {
    const msg = data?.error?.message || `${res.status} ${res.statusText}`;
    throw new APIError(data?.error?.code || `http.${res.status}`, msg, res.status, data);
  }
  return data;
}

// loadSession asks who is signed in. A server without the auth routes
// (404) or without sign-in is open: every screen, no token.
export async function loadSession() {
  try {
    const me = await api('api/me');
    session.user = me?.user || null;
    session.signIn = !!me?.sign_in;
    session.csrfHeader = me?.csrf_header || session.csrfHeader;
    session.csrfToken = me?.csrf_token || '';
  } catch (e) {
    if (e.status === 401) {
      session.signIn = true;
      toSignIn();
      throw e;
    }
    if (e.status !== 404) throw e;
  }
  return session;
}

export async function logout() {
  try {
    await api('api/logout', { method: 'POST' });
  } finally {
    toSignIn();
  }
}

// userName names the signed-in user in records (who opened a job, who
// reported an anomaly); '' on an open server.
export function userName() {
  const u = session.user;
  if (!u || u.via === 'open') return '';
  return u.display_name || u.name || '';
}

// Screens by role (web/auth Role). An open server (no sign-in) is an
// administrator: every screen.
const SCREENS = {
  admin: ['dispatch', 'patrol', 'survey'],
  dispatcher: ['dispatch', 'patrol'],
  gis: ['survey', 'dispatch'],
  district_manager: ['patrol'],
  crew: ['dispatch'],
  viewer: ['dispatch'],
};

export function screensFor() {
  const role = session.user?.role;
  return SCREENS[role] || SCREENS.admin;
}

// can says whether the user may do something the server will check anyway
// (buttons for what would be refused are not shown).
export function can(what) {
  const role = session.user?.role || 'admin';
  const rules = {
    plan: ['admin', 'dispatcher', 'gis', 'crew', 'viewer'],
    open_job: ['admin', 'dispatcher'],
    notice: ['admin', 'dispatcher'],
    plan_patrol: ['admin', 'dispatcher'],
    patrol: ['admin', 'dispatcher', 'district_manager'],
    upload_survey: ['admin', 'gis'],
    approve_survey: ['admin', 'gis'],
    customers: ['admin', 'dispatcher'],
  };
  return (rules[what] || []).includes(role);
}
