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
    list_jobs: ['admin', 'dispatcher', 'viewer'],
    record_milestone: ['admin', 'dispatcher', 'crew'],
    fail_valve: ['admin', 'dispatcher', 'crew'],
  };
  return (rules[what] || []).includes(role);
}

// canRecord says whether the user may record milestone m (web/auth_rules.go
// crewMayRecord: the approval and the closing are the dispatch centre's).
export function canRecord(m) {
  if (!can('record_milestone')) return false;
  return session.user?.role !== 'crew' || (m !== 'approved' && m !== 'closed');
}

// --- times in the utility's zone ---------------------------------------------
//
// Times are entered as the utility's wall clock (api/config time_zone, e.g.
// Asia/Shanghai), whatever the browser's zone, and sent as RFC 3339 with
// that zone's offset.

// wallParts returns the wall clock of instant ms in zone tz as numbers.
function wallParts(ms, tz) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz || undefined, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const o = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') o[p.type] = Number(p.value);
  return o;
}

// zoneOffset is the offset of zone tz at instant ms, in minutes east of UTC.
export function zoneOffset(ms, tz) {
  const p = wallParts(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// zoneInput formats instant ms for a datetime-local input in zone tz
// (YYYY-MM-DDTHH:mm).
export function zoneInput(ms, tz) {
  const p = wallParts(ms, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour % 24)}:${pad(p.minute)}`;
}

// fromZoneInput reads a datetime-local value (YYYY-MM-DDTHH:mm[:ss]) as a
// wall clock in zone tz and returns it in RFC 3339 with the zone's offset
// (2026-03-01T08:30:00+08:00), or '' when it is not a time.
export function fromZoneInput(value, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || '');
  if (!m) return '';
  const [y, mo, d, hh, mi, ss] = m.slice(1).map((v) => Number(v || 0));
  const wall = Date.UTC(y, mo - 1, d, hh, mi, ss);
  // The offset at the instant, found from a guess (two steps settle it
  // across a daylight-saving change).
  let off = zoneOffset(wall, tz);
  off = zoneOffset(wall - off * 60000, tz);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(hh)}:${pad(mi)}:${pad(ss)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// zoneLabel names zone tz with its offset at ms ("Asia/Shanghai UTC+08:00").
export function zoneLabel(ms, tz) {
  const off = zoneOffset(ms, tz);
  const a = Math.abs(off);
  return `${tz || 'UTC'} UTC${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
