// SPDX-License-Identifier: MIT
// app.js - the web UI's entry: session, navigation and the hash router.
//
// Routes are hash paths (#/cases/Y-01) so that only "/" is ever requested
// from the server and no case data reaches a URL beyond the case id.  Each
// screen is its own module (screen-*.js) exporting render(main, ctx); ctx
// carries the session, the route's parameters, a navigate() and, when
// the session expired while a form was being filled, the draft to
// restore.  A screen may set ctx.keepDraft = () => data: it is called
// when a 401 arrives, and the data comes back as ctx.draft after the
// person logs in again and returns to the same route.
//
// A screen still loading when the person navigates elsewhere must not draw
// over the new one: each route() takes a generation number and checks it
// after every await, and the previous screen's loads are aborted
// (api.js setLoadSignal: an aborted GET never settles, so that screen's
// render stops where it waits).

import { get, setCsrf, setUnauthorizedHandler, setLoadSignal, del } from './api.js';
import { h, clear, roleLabel, setTitle } from './ui.js';
import * as login from './screen-login.js';
import * as password from './screen-password.js';
import * as home from './screen-home.js';
import * as cases from './screen-cases.js';
import * as caseEdit from './screen-case-edit.js';
import * as caseView from './screen-case.js';
import * as proposal from './screen-proposal.js';
import * as users from './screen-users.js';
import * as schedule from './screen-schedule.js';
import * as meetings from './screen-meetings.js';
import * as meeting from './screen-meeting.js';
import * as meetingPrint from './screen-meeting-print.js';
import * as agencies from './screen-agencies.js';
import * as agency from './screen-agency.js';

const routes = [
  [/^#\/login$/, login, { open: true }],
  [/^#\/password$/, password, {}],
  [/^(#\/?)?$/, home, {}],
  [/^#\/cases$/, cases, { staff: true }],
  [/^#\/cases\/new$/, caseEdit, { staff: true }],
  [/^#\/cases\/([^/]+)\/edit$/, caseEdit, { staff: true }],
  [/^#\/cases\/([^/]+)\/proposal$/, proposal, { staff: true }],
  [/^#\/cases\/([^/]+)\/schedule$/, schedule, { staff: true }],
  [/^#\/cases\/([^/]+)$/, caseView, {}],
  [/^#\/meetings$/, meetings, {}],
  [/^#\/meetings\/(\d+)$/, meeting, {}],
  [/^#\/meetings\/(\d+)\/print$/, meetingPrint, {}],
  [/^#\/meetings\/(\d+)\/reschedule$/, schedule, { staff: true, mode: 'reschedule' }],
  [/^#\/users$/, users, { admin: true }],
  [/^#\/agencies$/, agencies, { staff: true }],
  [/^#\/agencies\/([^/]+)$/, agency, { staff: true }],
];

const state = { session: null, returnTo: null, draft: null, expired: false, ctx: null, routed: 0, gen: 0, loads: null };

export function isStaff(s) { return s && ['admin', 'coordinator', 'secretariat'].includes(s.role); }
export function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function renderNav() {
  const nav = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  const s = state.session;
  if (!s || s.must_change) return;
  const items = [['#/', 'ホーム']];
  if (isStaff(s)) items.push(['#/cases', '事例'], ['#/agencies', '機関']);
  items.push(['#/meetings', '会議']);
  if (s.role === 'admin') items.push(['#/users', 'アカウント']);
  const here = location.hash || '#/';
  nav.appendChild(h('ul', {}, items.map(([href, text]) => h('li', {},
    h('a', { href, 'aria-current': (href === '#/' ? here === '#/' || here === '' : here.startsWith(href)) ? 'page' : null }, text)))));
  who.append(
    h('span', {}, `${s.name} (${roleLabel(s.role)})`),
    h('button', { type: 'button', class: 'button', id: 'logout', onclick: logout }, 'ログアウト'));
}

async function logout() {
  try { await del('/v1/session'); } catch (e) { /* ended anyway */ }
  state.session = null;
  setCsrf(null);
  state.returnTo = null;
  state.draft = null;
  state.loggedOut = true;
  navigate('#/login');
}

export async function loadSession() {
  try {
    const s = await get('/v1/session');
    state.session = s.logged_in ? s : null;
    setCsrf(s.csrf || null);
  } catch (e) {
    state.session = null;
    if (e && e.code === 'session-expired') state.expired = true;   // say so on ログイン
  }
  return state.session;
}

// Called by the login screen once a session exists.
export function loggedIn(session) {
  state.session = session;
  state.expired = false;
  state.loggedOut = false;
  setCsrf(session.csrf);
  if (session.must_change) { navigate('#/password'); return; }
  const back = state.returnTo;
  state.returnTo = null;
  navigate(back && back !== '#/login' && back !== '#/password' ? back : '#/');
}

export function passwordChanged() {
  state.session.must_change = false;
  const back = state.returnTo;
  state.returnTo = null;
  navigate(back && back !== '#/login' && back !== '#/password' ? back : '#/');
}

function onUnauthorized(code) {
  if (!state.session) return;
  const ctx = state.ctx;
  state.draft = ctx && ctx.keepDraft ? { hash: location.hash, data: ctx.keepDraft() } : null;
  state.returnTo = location.hash;
  state.session = null;
  state.expired = true;
  setCsrf(null);
  navigate('#/login');
}

async function route() {
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return;       // in-page anchors (skip link)
  const gen = ++state.gen;                          // a later route() makes this one stale
  if (state.loads) state.loads.abort();             // the previous screen's loads
  state.loads = new AbortController();
  setLoadSignal(state.loads.signal);
  const stale = () => gen !== state.gen;
  let found = null, params = [];
  for (const [re, mod, opts] of routes) {
    const m = re.exec(hash);
    if (m) { found = [mod, opts]; params = m.slice(1).map(decodeURIComponent); break; }
  }
  const main = document.getElementById('main');
  if (!found) { notFound(main); return; }
  const [mod, opts] = found;
  if (!opts.open && !state.session) await loadSession();
  if (stale()) return;
  if (!opts.open && !state.session) {
    state.returnTo = hash || '#/';
    navigate('#/login');
    return;
  }
  if (state.session && state.session.must_change && mod !== password && mod !== login) {
    navigate('#/password');
    return;
  }
  if ((opts.staff && !isStaff(state.session)) || (opts.admin && state.session.role !== 'admin')) {
    notFound(main, 'この画面を使う権限がありません。');
    return;
  }
  renderNav();
  // the draft waits (through ログイン) for the route it was taken on
  let draft = null;
  if (state.draft && state.draft.hash === hash) { draft = state.draft.data; state.draft = null; }
  const ctx = { session: state.session, params, navigate, draft, expired: state.expired,
                loggedOut: state.loggedOut, keepDraft: null, mode: opts.mode || null };
  state.ctx = ctx;
  clear(main);
  try {
    await mod.render(main, ctx);
  } catch (e) {
    if (stale() || (e && e.status === 401)) return;
    main.appendChild(h('div', { class: 'notice notice--error', role: 'alert' },
      h('p', {}, (e && e.message) || '表示できませんでした。')));
  }
  if (stale()) return;
  // after a navigation (not the first load, where the skip link comes
  // first) the new heading takes focus so that it is announced
  const h1 = main.querySelector('h1');
  if (state.routed++ && h1 && !main.querySelector('.error-summary') && !main.contains(document.activeElement)) h1.focus();
}

function notFound(main, msg) {
  renderNav();
  setTitle('見つかりません');
  clear(main).append(h('h1', { tabindex: '-1' }, 'ページが見つかりません'),
    h('p', {}, msg || 'URLを確認してください。'), h('p', {}, h('a', { href: '#/' }, 'ホームへ戻る')));
  main.querySelector('h1').focus();
}

document.getElementById('skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main').focus();
});
setUnauthorizedHandler(onUnauthorized);
window.addEventListener('hashchange', route);
route();
