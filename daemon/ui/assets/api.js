// SPDX-License-Identifier: MIT
// api.js - the one way the pages talk to tsunagud: fetch() against /v1 on
// this origin with the session cookie (sent by the browser; HttpOnly, so
// scripts never see it) and the session's CSRF token in X-CSRF-Token on
// every request that changes something.  Errors become ApiError carrying
// the API's own {error, message, field}; a 401 on anything but the login
// itself calls the handler the app installed (back to ログイン, keeping
// what was being typed).
//
// Loads belong to the screen that made them: the router gives each screen
// an AbortSignal (setLoadSignal) and aborts it when the person navigates
// elsewhere.  A GET aborted that way never settles, so the screen that
// was left stops at its await and never draws over the new one.  Requests
// that change something are never aborted.

let csrf = null;
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error) || 'http';
    this.field = body && body.field;
    this.body = body || {};
  }
}

let loads = null;             // the current screen's AbortSignal for GETs

export function setCsrf(token) { csrf = token; }
export function setLoadSignal(signal) { loads = signal; }
const never = () => new Promise(() => {});
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const signal = method === 'GET' && loads ? loads : undefined;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store', signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (signal && signal.aborted) return never();      // the screen was left
    throw new ApiError(0, { error: 'network',
      message: 'tsunagud に接続できません。ネットワークを確認して、もう一度お試しください。' });
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (signal && signal.aborted) return never();
  const isLogin = path === '/v1/session' && method === 'POST';
  if (res.status === 401 && !isLogin && onUnauthorized) {
    onUnauthorized(data && data.error);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
export const enc = encodeURIComponent;
