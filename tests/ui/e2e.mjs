// SPDX-License-Identifier: MIT
// e2e.mjs - browser tests of tsunagu's web UI (make ui-test).
//
// Starts the real bin/tsunagud on a free loopback port with a temp
// database, imports the fixture city (tests/data/yamanami), and drives
// Debian's /usr/bin/chromium (headless) with playwright-core as people
// would use the UI: admin creates the accounts in the browser; the
// coordinator logs in (a wrong password first, which is slowed), changes
// the initial password, registers the demo case with two members and an
// exclusion through the 確認 step, and asks for a proposal; the
// secretariat reads the explanation, overrides with a reason, then
// approves a later proposal and re-checks it; the audit trail names both
// people.  Negative cases: a coordinator sees no approve button and the
// API refuses it; a POST without the CSRF token is refused; an agency
// account sees no case; an idle session ends and the login brings the
// person back to the form with what they had typed.
//
// On every screen: axe-core finds no serious or critical violation, no
// console error (API refusals that the page itself handles, logged by
// Chromium as "Failed to load resource: … 4xx", are expected only where a
// test provokes them), no request leaves the daemon's origin, and a
// screenshot goes to build/ui-screenshots/.  One line "ui/e2e P F" is
// appended to build/results.txt for tests/summary.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const SHOTS = join(ROOT, 'build/ui-screenshots');
const ADMIN = 'ui-test-admin-token-0123456789abcdef';
const LOGIN_DELAY_MS = 400;
const SESSION_IDLE = 15;       // s; long enough that filling the case form on a busy machine does not expire it
const AXE = readFileSync(join(ROOT, 'tests/ui/node_modules/axe-core/axe.min.js'), 'utf8');

let passed = 0, failed = 0;
const state = {};
const t0 = Date.now();

function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`); }

async function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

// ---- the daemon ---------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'tsunagu-ui-'));
const port = await freePort();
const BASE = `http://127.0.0.1:${port}`;
const daemon = spawn(join(ROOT, 'bin/tsunagud'), [], {
  cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, TSUNAGU_LISTEN: `127.0.0.1:${port}`, TSUNAGU_DATABASE: join(dir, 'db'),
    TSUNAGU_ADMIN_TOKEN: ADMIN, TSUNAGU_NOW: '2026-12-01T09:00:00+09:00', TSUNAGU_POLL_INTERVAL: '600',
    TSUNAGU_LOGIN_DELAY_MS: String(LOGIN_DELAY_MS), TSUNAGU_SESSION_IDLE: String(SESSION_IDLE),
    TSUNAGU_SECRETS: '', TSUNAGU_MAIL_TRANSPORT: 'maildir', TSUNAGU_MAIL_PATH: join(dir, 'maildir') },
});
let daemonLog = '';
daemon.stdout.on('data', (d) => { daemonLog += d; });
daemon.stderr.on('data', (d) => { daemonLog += d; });

async function adminApi(method, path, body) {
  const res = await fetch(BASE + path, { method, headers: { Authorization: `Bearer ${ADMIN}`,
    'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

async function waitForDaemon() {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${BASE}/healthz`)).ok) return; } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tsunagud did not start:\n${daemonLog}`);
}

async function importCity() {
  const cityDir = join(ROOT, 'tests/data/yamanami');
  const doc = JSON.parse(readFileSync(join(cityDir, 'agencies.json'), 'utf8'));
  for (const a of doc.agencies) for (const c of a.calendars || []) c.url = resolve(cityDir, c.url);
  await adminApi('POST', '/v1/import', doc);
}

// ---- the browser -----------------------------------------------------------------
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });

// A person at a PC: one context (cookie jar), checks on every page.
async function person(opts = {}) {
  const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo',
    viewport: opts.viewport || { width: 1280, height: 900 }, deviceScaleFactor: opts.scale || 1 });
  const page = await context.newPage();
  page.allowed4xx = 0;         // console 4xx lines the current step expects
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && page.allowed4xx > 0) {
      page.allowed4xx--;
      return;
    }
    page.problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('data:')) page.problems.push(`outside request: ${r.url()}`); });
  page.setDefaultTimeout(15000);
  state.lastPage = page;
  return page;
}

let shotNo = 0;
// Every screen: settle, accessibility check, no problems, a screenshot.
async function screen(page, name) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(`${AXE}\n;0`);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert(!bad.length, `${name}: accessibility: ${JSON.stringify(bad)}`);
  assert(!page.problems.length, `${name}: ${page.problems.join('; ')}`);
  const title = await page.title();
  assert(!/[一-龥ぁ-んァ-ン]{2,}さん|田中|鈴木/.test(title), `${name}: personal data in title ${title}`);
  shotNo++;
  await page.screenshot({ path: join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function login(page, name, password) {
  await page.goto(`${BASE}/#/login`);
  await page.getByLabel('アカウント名').fill(name);
  await page.locator('#login-password').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
}

async function firstLogin(page, name, initial, fresh) {
  await login(page, name, initial);
  await page.getByRole('heading', { name: 'パスワードの変更' }).waitFor();
  await page.getByLabel('渡されたパスワード').fill(initial);
  await page.getByLabel('新しいパスワード', { exact: false }).first().fill(fresh);
  await page.getByLabel('新しいパスワード (確認のためもう一度)').fill(fresh);
  await page.getByRole('button', { name: 'パスワードを変更する' }).click();
  await page.getByRole('heading', { name: 'ホーム' }).waitFor();
}

// fetch() from inside the page: what a script on the page could do.
function pageFetch(page, method, path, withCsrf) {
  return page.evaluate(async ({ method, path, withCsrf }) => {
    const s = await (await fetch('/v1/session')).json();
    const headers = { 'Content-Type': 'application/json' };
    if (withCsrf) headers['X-CSRF-Token'] = s.csrf;
    const r = await fetch(path, { method, headers, body: '{}' });
    return { status: r.status, body: await r.json() };
  }, { method, path, withCsrf });
}


const tests = [
  ['the shell: headers, skip link, keyboard login', async () => {
    const res = await fetch(`${BASE}/`);
    const csp = res.headers.get('content-security-policy');
    assert(csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `CSP ${csp}`);
    assert(csp.includes("frame-ancestors 'none'"), 'framing refused');
    assert(res.headers.get('cache-control') === 'no-store', 'shell is no-store');
    assert(res.headers.get('referrer-policy') === 'no-referrer', 'referrer policy');
    assert(res.headers.get('x-content-type-options') === 'nosniff', 'nosniff');
    const html = await res.text();
    const asset = /\/assets\/[0-9a-f]+\/app\.js/.exec(html)[0];
    const a = await fetch(BASE + asset);
    assert(/immutable/.test(a.headers.get('cache-control')), 'assets immutable');
    const admin = await adminApi('POST', '/v1/users', { name: 'kanri', role: 'admin' });
    const page = await person();
    await page.goto(`${BASE}/`);
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    assert(await page.evaluate(() => document.documentElement.lang) === 'ja', 'lang=ja');
    await page.keyboard.press('Tab');
    assert(await page.evaluate(() => document.activeElement.textContent) === '本文へ移動', 'skip link first');
    await page.keyboard.press('Enter');
    assert(await page.evaluate(() => document.activeElement.id) === 'main', 'skip link moves focus to main');
    await screen(page, 'login');
    // keyboard only: name, password, Enter
    await page.getByLabel('アカウント名').focus();
    await page.keyboard.type('kanri');
    await page.keyboard.press('Tab');
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'パスワードの変更' }).waitFor();
    await screen(page, 'password-change');
    await page.getByLabel('渡されたパスワード').fill(admin.password);
    await page.getByLabel('新しいパスワード', { exact: false }).first().fill('short');
    await page.getByRole('button', { name: 'パスワードを変更する' }).click();
    const err = page.locator('#pw-new-error');
    await err.waitFor();
    assert((await page.getByLabel('新しいパスワード', { exact: false }).first().getAttribute('aria-describedby')).includes('pw-new-error'),
      'the error is tied to its field');
    await page.getByLabel('新しいパスワード', { exact: false }).first().fill('mori-no-hikari-77');
    await page.getByLabel('新しいパスワード (確認のためもう一度)').fill('mori-no-hikari-77');
    await page.getByRole('button', { name: 'パスワードを変更する' }).click();
    await page.getByRole('heading', { name: 'ホーム' }).waitFor();
    await screen(page, 'home-admin');
    state.admin = page;
  }],

  ['admin creates a coordinator and a secretariat account', async () => {
    const page = state.admin;
    await page.getByRole('link', { name: 'アカウント' }).click();
    await page.getByRole('heading', { name: 'アカウント', exact: true }).waitFor();
    for (const [name, role] of [['tanaka', 'coordinator'], ['suzuki', 'secretariat']]) {
      await page.getByLabel('アカウント名').fill(name);
      await page.getByLabel('役割').selectOption(role);
      await page.getByRole('button', { name: '追加する' }).click();
      await page.getByText(`${name} のアカウントを作成しました`).waitFor();
      const secret = page.locator('#initial-password');
      state[name] = await secret.textContent();
      assert(state[name].length >= 10, 'initial password shown');
    }
    await screen(page, 'accounts');
    // a taken name is an error next to the field
    await page.getByLabel('アカウント名').fill('tanaka');
    await page.getByLabel('役割').selectOption('coordinator');
    page.allowed4xx = 1;
    await page.getByRole('button', { name: '追加する' }).click();
    await page.locator('#user-name-error').waitFor();
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await page.getByText('ログアウトしました。').waitFor();
  }],

  ['coordinator: a wrong password is slowed; registers the demo case; asks for a proposal', async () => {
    const page = await person();
    state.coord = page;
    page.allowed4xx = 1;
    const start = Date.now();
    await login(page, 'tanaka', 'not-my-password');
    await page.getByText('ログインできませんでした').waitFor();
    assert(Date.now() - start >= LOGIN_DELAY_MS, 'a failed login is answered slowly');
    assert(await page.locator('.error-summary').count() === 1, 'error summary shown');
    await screen(page, 'login-failed');
    await firstLogin(page, 'tanaka', state.tanaka, 'coord-sakura-2026');
    await screen(page, 'home-coordinator');
    await page.getByRole('link', { name: '事例を登録する' }).click();
    await page.getByRole('heading', { name: '事例の登録' }).waitFor();
    await page.getByRole('button', { name: '確認へ進む' }).click();    // empty: errors
    await page.locator('.error-summary').waitFor();
    assert(await page.locator('#f-id').getAttribute('aria-invalid') === 'true', 'id marked invalid');
    await screen(page, 'case-form-errors');
    await page.getByLabel('事例ID').fill('Y-01');
    await page.getByLabel('件名').fill('8050: 要介護の親とひきこもりの子');
    await page.getByLabel('地区').selectOption('中央');
    await page.getByLabel('重層的支援会議').check();
    await page.getByLabel('最初の相談窓口').selectOption('jiritsu');
    await page.locator('#f-involved').getByLabel('中央地域包括支援センター').check();
    await page.locator('#f-members-0-age').fill('82');
    await page.locator('#f-members-0-features').fill('要介護');
    await page.locator('#f-members-0-features').press('Enter');
    await page.locator('#f-members-0-consent').check();
    await page.getByRole('button', { name: '世帯員を追加' }).click();
    await page.locator('#f-members-1-relation').selectOption('子');
    await page.locator('#f-members-1-age').fill('53');
    await page.locator('#f-members-1-features').fill('ひきこもり');
    await page.locator('#f-members-1-features').press('Enter');
    await page.locator('#f-members-1-features').fill('認知賞');        // a word the rules do not know
    await page.locator('#f-members-1-features').press('Enter');
    await page.getByText('「認知賞」はルールが知らない課題です').waitFor();
    await page.getByRole('button', { name: '認知賞 を外す' }).click();
    await page.locator('#f-members-1').getByText('情報を共有しない機関').first().click();
    await page.locator('#f-members-1-consent_excludes').getByLabel('教育委員会 スクールソーシャルワーカー').check();
    await screen(page, 'case-form');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '入力内容の確認' }).waitFor();
    const check = page.locator('dl.summary');
    assert(await check.getByText('教育委員会 スクールソーシャルワーカー', { exact: true }).count() === 1, 'the exclusion is shown before saving');
    assert(await check.getByText('82歳').count() === 1 && await check.getByText('53歳').count() === 1, 'both members are shown');
    assert(!(await page.locator('main').innerText()).includes('[object'), 'nothing is drawn as [object …]');
    await screen(page, 'case-check');
    await page.getByRole('button', { name: 'この内容で登録する' }).click();
    await page.getByRole('heading', { name: '事例 Y-01' }).waitFor();
    await page.getByText('事例を登録しました。').waitFor();
    await screen(page, 'case');
    await page.getByRole('button', { name: '主担当の提案を作る' }).click();
    await page.getByRole('heading', { name: '提案と承認: 事例 Y-01' }).waitFor();
    assert(await page.getByRole('button', { name: 'この提案を承認する' }).count() === 0, 'no approve button for a coordinator');
    await page.getByText('承認は事務局が行います。').waitFor();
    await screen(page, 'proposal-coordinator');
    const decisions = await page.evaluate(async () => (await (await fetch('/v1/decisions?case=Y-01')).json()).decisions);
    state.firstDecision = decisions[decisions.length - 1].id;
    const refused = await pageFetch(page, 'POST', `/v1/decisions/${state.firstDecision}/approve`, true);
    assert(refused.status === 403 && refused.body.error === 'forbidden', 'the API refuses a coordinator');
    const noCsrf = await pageFetch(page, 'POST', '/v1/cases/Y-01/proposals', false);
    assert(noCsrf.status === 403 && noCsrf.body.error === 'csrf', 'a POST without the CSRF token is refused');
    page.problems = page.problems.filter((p) => !/status of 403/.test(p));
  }],

  ['case list filters by status, district and text', async () => {
    const page = state.coord;
    await page.getByRole('link', { name: '事例', exact: true }).click();
    await page.getByRole('heading', { name: '事例一覧' }).waitFor();
    await page.getByRole('link', { name: 'Y-01' }).waitFor();
    await screen(page, 'cases');
    await page.getByLabel('地区').selectOption('北部');
    assert(await page.getByRole('link', { name: 'Y-01' }).count() === 0, 'district filter');
    await page.getByLabel('地区').selectOption('');
    await page.getByLabel('事例ID・件名で探す').fill('8050');
    assert(await page.getByRole('link', { name: 'Y-01' }).count() === 1, 'text filter');
  }],

  ['secretariat reads the explanation, overrides with a reason, approves a later proposal', async () => {
    const page = await person();
    state.secr = page;
    await firstLogin(page, 'suzuki', state.suzuki, 'secr-kaede-2026');
    await screen(page, 'home-secretariat');
    await page.getByRole('link', { name: /事例 Y-01: .* を主担当に提案/ }).click();
    await page.getByRole('heading', { name: '提案と承認: 事例 Y-01' }).waitFor();
    const text = await page.locator('#explanation').innerText();
    assert(text.includes('主担当') && text.includes('中央地域包括支援センター'), 'the explanation is shown');
    assert(await page.locator('#explanation p').count() > 3, 'one sentence per line');
    await page.getByRole('table', { name: '候補の機関と点数' }).waitFor();
    await page.getByText('決め手:').waitFor();
    await screen(page, 'proposal-secretariat');
    await page.emulateMedia({ media: 'print' });
    assert(!(await page.getByRole('button', { name: 'この提案を承認する' }).isVisible()), 'print view hides buttons');
    await page.screenshot({ path: join(SHOTS, 'print-proposal.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    await page.getByLabel('主担当にする機関').selectOption('jiritsu');
    await page.getByRole('button', { name: '変更して承認する' }).click();
    await page.locator('#override-reason-error').waitFor();                // reason required
    await page.getByLabel('変更する理由').fill('生活困窮の相談が先行しており、本人との関係ができているため');
    await page.getByRole('button', { name: '変更して承認する' }).click();
    await page.getByText(/suzuki \(事務局\) が主担当を .* に変更して承認しました/).waitFor();   // the role in Japanese (actorLabel)
    await screen(page, 'proposal-overridden');
    await page.getByRole('button', { name: 'もう一度提案を作る' }).click();
    await page.getByRole('button', { name: 'この提案を承認する' }).waitFor();
    await page.getByRole('button', { name: 'この提案を承認する' }).click();
    await page.getByText(/suzuki \(事務局\) が承認しました/).waitFor();
    const recheck = page.getByRole('button', { name: `提案 ${state.firstDecision} を再計算する` });
    await recheck.click();
    await page.getByText('再現できます').first().waitFor();
    await screen(page, 'proposal-history');
  }],

  ['secretariat: 日程調整 from the approved decision, candidate 1 by keyboard, 確認, booked', async () => {
    const page = state.secr;
    await page.getByRole('link', { name: '日程調整へ進む' }).click();
    await page.getByRole('heading', { name: '日程調整: 事例 Y-01' }).waitFor();
    // the heading is drawn before the case and agencies arrive: wait for the rows
    await page.getByRole('table', { name: '出席する機関' }).locator('tbody tr').nth(1).waitFor();   // attendees prefilled
    // nothing fits in a weekend: the API's diagnostics, in Japanese
    const from = page.getByLabel('探す期間 (から)'), to = page.getByLabel('探す期間 (まで)');
    const [from0, to0] = [await from.inputValue(), await to.inputValue()];
    await from.fill('2026-12-05');
    await to.fill('2026-12-06');
    await page.getByRole('button', { name: '候補を探す' }).click();
    await page.getByText('勤務時間内の候補がありません').first().waitFor();
    assert(await page.locator('.sched-cand').count() === 0, 'no candidate drawn when nothing fits');
    await screen(page, 'schedule-nothing-fits');
    await from.fill(from0);
    await to.fill(to0);
    const t = Date.now();
    await page.getByRole('button', { name: '候補を探す' }).click();
    await page.locator('.sched-cand').first().waitFor();
    console.log(`    grid drawn and usable in ${Date.now() - t} ms`);
    await page.getByRole('list', { name: /候補 \d+件/ }).waitFor();
    await screen(page, 'schedule-grid');
    const first = page.locator('.sched-cand[data-rank="1"]');
    await first.focus();
    await page.keyboard.press('ArrowRight');
    assert(await page.evaluate(() => document.activeElement.dataset.rank) === '2', 'ArrowRight moves to candidate 2');
    await page.keyboard.press('ArrowLeft');
    assert(await page.evaluate(() => document.activeElement.dataset.rank) === '1', 'ArrowLeft back to candidate 1');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^予約: / }).waitFor();
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.locator('#book-location-error').waitFor();             // place or URL required
    await page.getByLabel('場所').fill('市役所本庁舎 3階 301会議室');
    await screen(page, 'schedule-booking');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '予約の内容を確認してください' }).waitFor();
    await screen(page, 'schedule-confirm');
    await page.getByRole('button', { name: 'この内容で予約する' }).click();
    await page.getByRole('heading', { name: /会議 \d+ を予約しました/ }).waitFor();
    await page.getByRole('table', { name: '出席機関と回答' }).waitFor();
    await screen(page, 'schedule-booked');
    const { meetings } = await adminApi('GET', '/v1/meetings?case=Y-01');
    assert(meetings.length === 1 && meetings[0].location === '市役所本庁舎 3階 301会議室', 'the meeting is stored');
  }],

  ['the audit trail names both people', async () => {
    const { decisions } = await adminApi('GET', '/v1/decisions?case=Y-01');
    assert(decisions.every((d) => d.actor === 'tanaka (coordinator)' || d.actor === 'suzuki (secretariat)'), 'proposers');
    assert(decisions.some((d) => d.actor === 'tanaka (coordinator)'), 'the coordinator proposed');
    const reviewed = decisions.filter((d) => d.review);
    assert(reviewed.length === 2 && reviewed.every((d) => d.review.actor === 'suzuki (secretariat)'), 'the secretariat reviewed');
    assert(reviewed.some((d) => d.status === 'overridden' && d.review.reason.includes('生活困窮')), 'the override reason is kept');
  }],

  ['an agency account sees no case it may not read', async () => {
    const u = await adminApi('POST', '/v1/users', { name: 'kodomo1', role: 'agency:kodomo' });
    const page = await person({ viewport: { width: 390, height: 844 } });
    await firstLogin(page, 'kodomo1', u.password, 'kodomo-tsubaki-2026');
    await screen(page, 'home-agency-390px');
    assert(await page.getByRole('link', { name: '事例', exact: true }).count() === 0, 'no case menu for an agency');
    page.allowed4xx = 1;
    await page.goto(`${BASE}/#/cases/Y-01`);
    await page.getByText('このケースは閲覧できません').waitFor();
    assert(await page.getByText('8050').count() === 0, 'nothing of the case is shown');
    await screen(page, 'agency-case-refused');
    await page.goto(`${BASE}/#/cases`);
    await page.getByText('この画面を使う権限がありません。').waitFor();
  }],

  ['an idle session ends; logging in again brings back what was typed', async () => {
    const page = await person({ viewport: { width: 1093, height: 614 }, scale: 1.25 });   // 1366x768 at 125 %
    await login(page, 'tanaka', 'coord-sakura-2026');
    await page.getByRole('heading', { name: 'ホーム' }).waitFor();
    await page.goto(`${BASE}/#/cases/Y-01/edit`);
    await page.getByRole('heading', { name: '事例 Y-01 の編集' }).waitFor();
    await screen(page, 'case-edit-1366x768-125');
    await page.getByLabel('件名').fill('8050: 入力中に時間切れ');
    await page.waitForTimeout((SESSION_IDLE + 1) * 1000);
    await page.getByRole('button', { name: '確認へ進む' }).click();
    page.allowed4xx = 1;
    await page.getByRole('button', { name: 'この内容で保存する' }).click();
    await page.getByText('ログインが切れました').waitFor();
    await screen(page, 'login-expired');
    await page.getByLabel('アカウント名').fill('tanaka');
    await page.locator('#login-password').fill('coord-sakura-2026');
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.getByText('ログインが切れる前に入力していた内容を戻しました。').waitFor();
    assert(await page.getByLabel('件名').inputValue() === '8050: 入力中に時間切れ', 'the draft is restored');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('button', { name: 'この内容で保存する' }).click();
    await page.getByText('事例を保存しました。').waitFor();
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await page.getByText('ログアウトしました。').waitFor();
    await page.goto(`${BASE}/#/cases`);
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  }],
];

// More scenarios live in tests/ui/scenarios/*.mjs, one file per area of
// the UI, run after the ones above in file-name order.  Each file's
// default export takes the harness below and returns [name, fn] pairs.
// While working on one area, E2E_SCENARIOS=30 (a part of the file names,
// comma-separated) runs the core scenarios and only those files; make
// check always runs all of them.
const harness = { BASE, ADMIN, ROOT, SHOTS, dir, state, assert, adminApi, person, screen, login,
  firstLogin, pageFetch, log: () => daemonLog };
const scenarioDir = join(ROOT, 'tests/ui/scenarios');
const only = (process.env.E2E_SCENARIOS || '').split(',').filter(Boolean);
for (const f of readdirSync(scenarioDir).filter((n) => n.endsWith('.mjs') && (!only.length || only.some((o) => n.includes(o)))).sort()) {
  const mod = await import(join(scenarioDir, f));
  tests.push(...mod.default(harness));
}

rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });
try {
  await waitForDaemon();
  await importCity();
  for (const [name, fn] of tests) {
    const t = Date.now();
    try {
      await fn();
      passed++;
      console.log(`  ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`  FAIL ${name}: ${e.message}`);
      const p = state.lastPage;
      if (p) {
        console.log(`    at ${p.url()}; problems: ${p.problems.join('; ') || 'none'}`);
        console.log(`    page: ${(await p.locator('main').innerText().catch(() => '')).slice(0, 400).replace(/\n/g, ' | ')}`);
        await p.screenshot({ path: join(SHOTS, `FAIL-${passed + failed}.png`), fullPage: true }).catch(() => {});
      }
    }
  }
} catch (e) {
  failed++;
  console.log(`  FAIL setup: ${e.message}`);
} finally {
  await browser.close();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  if (failed) console.log(`--- tsunagud log (last 30 lines) ---\n${daemonLog.split('\n').slice(-30).join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
}
mkdirSync(join(ROOT, 'build'), { recursive: true });
appendFileSync(join(ROOT, 'build/results.txt'), `ui/e2e ${passed} ${failed}\n`);
console.log(`${failed ? 'FAIL' : 'ok  '} ui/e2e (${passed} passed, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in build/ui-screenshots/)`);
process.exit(failed ? 1 : 0);
