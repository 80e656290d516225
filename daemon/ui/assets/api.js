// SPDX-License-Identifier: MIT
// api.js - the one way the pages talk to tsunagud: fetch() against /v1 on
// this origin with the session cookie (sent by the browser; HttpOnly, so
// scripts never see it) and the session's CSRF token in X-CSRF-Token on
// every request that changes something.  Errors become ApiError carrying
// the API's own {error, message, field}; a 401 on anything but the login
// itself calls the handler the app installed (back to ログイン, keeping
// what was being typed).

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

export function setCsrf(token) { csrf = token; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: 'network',
      message: 'tsunagud に接続できません。ネットワークを確認して、もう一度お試しください。' });
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
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
