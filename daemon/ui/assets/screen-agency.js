// SPDX-License-Identifier: MIT
// screen-agency.js - one agency: its calendars (feeds) with their health
// and a refresh button, and a week of its busy time.  Staff open it as
// 機関 > {agency} (#/agencies/{id}); an agency account gets the same parts
// for its own agency on its ホーム (renderOwnAgency, with the meetings.ics
// subscription address added).
//
// Feeds: state (正常 / 取得中 / 失敗, and 古い可能性 for a feed in state ok
// not fetched for over 3 poll intervals: its "stale"), last success, next
// poll, and for a failing feed the daemon's own advice (feed JSON "advice", from the one
// table in calendars/feed_explain.c) with the raw error folded away.
// 更新 posts /v1/feeds/{id}/refresh (staff with ?force=1, agencies wait
// out the backoff and see the API's 429 sentence), then polls the feed
// until its last_attempt moves and redraws only that row.
//
// The week: GET /v1/agencies/{id}/busy for Monday to Monday, drawn as
// seven day columns (busy only, never titles; time outside the agency's
// hours hatched grey; a day off labelled with its name from the answer's
// days_off, as in the 日程調整 grid: the holiday's name, 年末年始 or
// 閉庁日, else 休み), with 前の週 / 次の週, and
// the same busy time as a text list per day (the drawing is aria-hidden).

import { get, post, del, enc } from './api.js';
import { h, add, clear, notice, pageHeading, setTitle, fmtDate, fmtDateTime, announce } from './ui.js';
import { addDays, weekday, wall, hoursOf, spans } from './screen-schedule.js';

export const FEED_STATE = { ok: ['正常', 'ok'], failing: ['失敗', 'failing'], pending: ['取得中', 'pending'] };
const KIND = { ics: 'iCalendar', freebusy: '空き時間 (free/busy)', caldav: 'CalDAV', 'caldav-freebusy': 'CalDAV (free/busy)' };

function stateBadge(f) {
  const [text, cls] = FEED_STATE[f.state] || [f.state, 'pending'];
  return h('span', { class: `badge badge--feed-${cls}` }, text);
}

// The cells of one feed's row (redrawn in place after a refresh).
function feedCells(f, staff, onRefresh) {
  const advice = f.advice ? h('div', { class: 'advice' },
    h('p', { class: 'advice__text' }, f.advice.text),
    f.last_error ? h('details', {}, h('summary', {}, '技術的な内容'), h('p', { class: 'advice__raw' },
      f.http_status ? `HTTP ${f.http_status}: ` : '', f.last_error)) : null) : null;
  const btn = h('button', { type: 'button', class: 'secondary', 'aria-label': `カレンダー ${f.id} を更新` }, '更新');
  btn.addEventListener('click', () => onRefresh(btn));
  return [
    h('th', { scope: 'row' }, h('span', { class: 'feed-id' }, f.id), h('br'), h('span', { class: 'sched-meta' }, KIND[f.kind] || f.kind)),
    h('td', {}, stateBadge(f), f.state === 'failing' && f.failures > 1 ? h('span', { class: 'sched-meta' }, ` ${f.failures}回続けて失敗`) : null,
      f.stale ? h('span', { class: 'badge badge--feed-stale' }, '古い可能性') : null),
    h('td', {}, f.last_success ? fmtDateTime(f.last_success) : 'まだありません',
      f.state === 'failing' && f.last_success ? h('p', { class: 'sched-meta' }, 'それ以降は前回のデータで判断しています') : null),
    h('td', {}, f.next_poll ? fmtDateTime(f.next_poll) : '—'),
    h('td', {}, advice || (f.stale ? h('div', { class: 'advice' }, h('p', { class: 'advice__text' }, `${f.stale_text}。`,
      'しばらく取得できていません。つなぐが動いているか、カレンダーのサーバーが応答しているかを確認してください。'))
      : f.state === 'pending' ? h('span', {}, '取得を待っています') : h('span', {}, '問題はありません'))),
    h('td', {}, btn, h('p', { class: 'refresh-result', 'aria-live': 'polite' })),
  ];
}

async function refreshFeed(f, staff, row, draw) {
  const out = row.querySelector('.refresh-result');
  const btn = row.querySelector('button');
  btn.disabled = true;
  out.textContent = '取得しています…';
  try {
    await post(`/v1/feeds/${enc(f.id)}/refresh${staff ? '?force=1' : ''}`);
  } catch (e) {
    if (e.status === 401) return;
    btn.disabled = false;
    out.textContent = e.message;
    return;
  }
  // done when anything the fetch writes has moved (times have one-second
  // steps, so the failure count and error count too)
  const mark = (x) => [x.state, x.last_attempt, x.last_success, x.failures, x.last_error].join('|');
  const before = mark(f);
  let now = f;
  for (let i = 0; i < 40; i++) {                 // up to ~10 s
    await new Promise((r) => setTimeout(r, 250));
    now = await get(`/v1/feeds/${enc(f.id)}`);
    if (mark(now) !== before && now.state !== 'pending') break;
  }
  const done = mark(now) !== before;
  draw(now);
  const msg = !done ? `カレンダー ${f.id}: 取得を依頼しました。結果はこの表に反映されます。`
    : now.state === 'ok' ? `カレンダー ${f.id} を取得しました (正常)。`
      : `カレンダー ${f.id} の取得に失敗しました。${now.advice ? now.advice.text : ''}`;
  row.querySelector('.refresh-result').textContent = msg;
  announce(msg);
}

// The feeds table.  caption: its visible title.  onChange(feed, was), if
// given, is called after 更新 redraws a row, with the state it had before
// (so a list can update its counts without a reload).
export function feedTable(feeds, staff, caption, onChange) {
  const body = h('tbody');
  for (const f0 of feeds) {
    const cls = (f) => (f.state === 'failing' ? 'feed--failing' : f.stale ? 'feed--stale' : '');
    const row = h('tr', { 'data-feed': f0.id, class: cls(f0) || null });
    const draw = (f) => {
      const was = f0.state;
      if (f !== f0) Object.assign(f0, f);          // a redraw of the whole list shows it too
      clear(row).append(...feedCells(f, staff, () => refreshFeed(f, staff, row, draw)));
      row.className = cls(f);
      if (f !== f0 && onChange) onChange(f0, was);
    };
    draw(f0);
    body.append(row);
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'feeds' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['カレンダー', '状態', '最終成功', '次回取得', '内容と対処', '操作'].map((t) => h('th', { scope: 'col' }, t)))),
    body));
}

// ---- the week -------------------------------------------------------------

function mondayOf(ymd) { const wd = weekday(ymd); return addDays(ymd, wd === 0 ? -6 : 1 - wd); }
const hhmm = (min) => `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}`;

// A week of the agency's busy time; doc is GET /v1/agencies/{id}.
export function busyWeek(doc, today) {
  const box = h('section', { class: 'week', 'aria-labelledby': 'week-heading' });
  let monday = mondayOf(today);
  const title = h('h2', { id: 'week-heading', tabindex: '-1' });
  const prev = h('button', { type: 'button', class: 'secondary' }, '前の週');
  const next = h('button', { type: 'button', class: 'secondary' }, '次の週');
  const warn = h('div');
  const body = h('div', { class: 'week-body' });
  box.append(title, h('div', { class: 'actions' }, prev, next), warn, body);
  let shown = 0;                  // the latest week asked for; older answers are dropped
  const show = async (focus) => {
    const days = [...Array(7).keys()].map((i) => addDays(monday, i));
    title.textContent = `予定あり時間: ${fmtDate(days[0])}〜${fmtDate(days[6])}`;
    const asked = ++shown;
    const b = await get(`/v1/agencies/${enc(doc.id)}/busy?from=${enc(`${days[0]}T00:00:00`)}&to=${enc(`${addDays(monday, 7)}T00:00:00`)}`);
    if (asked !== shown) return;  // 次の週 was pressed again meanwhile: draw only the last week
    clear(warn);
    // a failing calendar keeps its last data; one never fetched has none
    const feed = Object.fromEntries((doc.feeds || []).map((f) => [f.id, f]));
    const failing = b.failing || [];
    const stale = failing.filter((id) => feed[id] && feed[id].last_success);
    const none = [...failing.filter((id) => !stale.includes(id)), ...(b.pending || []).filter((id) => !failing.includes(id))];
    if (stale.length) warn.append(notice('warn', h('p', {}, `取得に失敗しているカレンダーがあります (${stale.join('、')})。前回取得できたデータを表示しています。`)));
    if (b.stale) warn.append(notice('warn', h('p', {}, `${b.stale_text}。しばらく取得できていないカレンダーがあります (${(b.stale_calendars || []).join('、')})。その後の予定の変更は反映されていません。`)));
    if (none.length) warn.append(notice('warn', h('p', {}, `まだ取得できていないカレンダーがあります (${none.join('、')})。その予定は表示されていません (空いているとは限りません)。`)));
    const busy = spans(b.busy);
    const off = Object.fromEntries((b.days_off || []).map((x) => [x.date, x.label]));   // 祝日の名前, 年末年始, 閉庁日
    let lo = 8 * 60, hi = 18 * 60;
    for (const d of days) {
      const hr = off[d] ? null : hoursOf(doc, weekday(d));
      if (hr) { lo = Math.min(lo, Math.floor(hr[0] / 60) * 60); hi = Math.max(hi, Math.ceil(hr[1] / 60) * 60); }
    }
    const pct = (m) => `${(100 * (Math.max(lo, Math.min(hi, m)) - lo)) / (hi - lo)}%`;
    const place = (el, a, z) => { el.style.top = pct(a); el.style.height = `calc(${pct(z)} - ${pct(a)})`; return el; };
    const grid = h('div', { class: 'week-grid', 'aria-hidden': 'true' });
    grid.style.setProperty('--hour', `${24 / ((hi - lo) / 60)}rem`);      // .week-col is 24rem tall
    const ticks = h('div', { class: 'week-times' }, h('div', { class: 'week-head' }));
    const tickCol = h('div', { class: 'week-col week-col--times' });
    for (let m = lo; m < hi; m += 60) tickCol.append(place(h('span', { class: 'week-tick' }, hhmm(m)), m, m + 60));
    ticks.append(tickCol);
    grid.append(ticks);
    const list = h('ul', { class: 'week-list' });
    for (const d of days) {
      const hr = off[d] ? null : hoursOf(doc, weekday(d));
      const col = h('div', { class: 'week-col' });
      if (!hr) col.append(h('div', { class: `week-off week-off--day${off[d] ? ' week-holiday' : ''}` }, h('span', {}, off[d] || '休み')));
      else {
        if (hr[0] > lo) col.append(place(h('div', { class: 'week-off' }), lo, hr[0]));
        if (hr[1] < hi) col.append(place(h('div', { class: 'week-off' }), hr[1], hi));
      }
      const todays = busy[d] || [];
      for (const [a, z] of todays) if (Math.min(z, hi) > Math.max(a, lo)) col.append(place(h('div', { class: 'week-busy' }), Math.max(a, lo), Math.min(z, hi)));
      grid.append(h('div', { class: 'week-day' }, h('div', { class: 'week-head' }, fmtDate(d),
        off[d] ? h('span', { class: 'week-dayoff-label' }, off[d]) : null), col));
      const hoursText = hr ? `勤務 ${hhmm(hr[0])}〜${hhmm(hr[1])}` : off[d] ? `休み: ${off[d]}` : '休み';
      list.append(h('li', {}, h('strong', {}, fmtDate(d)), ` (${hoursText}): `,
        todays.length ? `予定あり ${todays.map(([a, z]) => `${hhmm(a)}〜${z >= 1440 ? '24:00' : hhmm(z)}`).join('、')}` : '予定なし'));
    }
    clear(body).append(
      h('p', { class: 'legend', 'aria-hidden': 'true' }, h('span', { class: 'key week-busy-key' }), ' 予定あり ', h('span', { class: 'key key--off' }), ' 勤務時間外'),
      h('div', { class: 'week-frame' }, grid),
      h('h3', {}, '日ごとの予定あり時間'), list);
    if (focus) title.focus();
  };
  prev.addEventListener('click', () => { monday = addDays(monday, -7); show(true); });
  next.addEventListener('click', () => { monday = addDays(monday, 7); show(true); });
  box.ready = show(false);
  return box;
}

// The city's today (the daemon's clock when the session carries it).
export function todayOf(ctx) { return ((ctx.session && ctx.session.now) || new Date().toISOString()).slice(0, 10); }

function facts(doc) {
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  return h('dl', { class: 'summary' },
    row('分野', (doc.fields || []).join('・') || '—'),
    row('担当地区', (doc.areas || []).length ? doc.areas.join('・') : '全域'),
    row('移動時間', `${doc.travel_minutes ?? 0}分`),
    row('必要人数', `${(doc.calendars || []).length}人中${doc.need ?? 1}人`),
    row('主担当件数', `${doc.lead_cases ?? 0} / ${doc.max_lead_cases ?? '—'}`));
}

// #/agencies/{id} (staff)
export async function render(main, ctx) {
  const id = ctx.params[0];
  const doc = await get(`/v1/agencies/${enc(id)}`);
  setTitle(`機関: ${doc.name}`);
  add(main, pageHeading(doc.name), h('p', {}, h('a', { href: '#/agencies' }, '機関の一覧に戻る')), facts(doc),
    h('h2', {}, 'カレンダーの取得状況'),
    (doc.feeds || []).length ? feedTable(doc.feeds, true, `${doc.name} のカレンダー`) : h('p', {}, 'カレンダーが登録されていません。'));
  const week = busyWeek(doc, todayOf(ctx));
  add(main, week);
  await week.ready;
}

// ---- 自分の機関: an agency account's ホーム ------------------------------------

const STEPS = [
  ['Outlook (デスクトップ版)', ['予定表を開き、「予定表の追加」から「インターネットから」を選びます。', '上の購読用アドレスを貼り付けて「OK」を押します。', '「この予定表を追加し、更新を購読しますか」には「はい」を押します。']],
  ['Outlook on the web', ['予定表を開き、左の「予定表を追加」を押します。', '「インターネットから購読」を選び、購読用アドレスを貼り付けます。', '名前に「つなぐの会議」などと入れて「インポート」を押します。']],
  ['Google カレンダー', ['左の「他のカレンダー」の「＋」を押し、「URLで追加」を選びます。', '購読用アドレスを貼り付けて「カレンダーを追加」を押します。']],
];

async function copyText(text) {
  try { await navigator.clipboard.writeText(text); return true; } catch (e) { return false; }
}

function subscription(agency) {
  const box = h('section', { 'aria-labelledby': 'sub-heading' }, h('h2', { id: 'sub-heading' }, '予定表の購読 (meetings.ics)'),
    h('p', {}, 'この機関が出席する会議を、Outlook や Google カレンダーに表示できます。表示されるのは事例番号・会議の種別・日時だけで、場所やメモ、個人の情報は含みません。'));
  const state = h('div', { id: 'sub-state', tabindex: '-1' });
  box.append(state);
  const show = async (issued, focus) => {
    clear(state);
    const k = issued || await get(`/v1/agencies/${enc(agency)}/ics-key`);
    if (issued) {
      const url = issued.url || `${location.origin}${issued.path}`;
      const input = h('input', { type: 'text', readOnly: true, value: url, id: 'sub-url', class: 'sub-url', spellcheck: 'false' });
      const copy = h('button', { type: 'button', id: 'sub-copy' }, 'アドレスをコピー');
      const copied = h('p', { 'aria-live': 'polite', class: 'sched-meta' });
      copy.addEventListener('click', async () => {
        input.select();
        copied.textContent = await copyText(url) ? 'コピーしました。カレンダーアプリに貼り付けてください。' : 'コピーできませんでした。アドレスを選んで Ctrl+C でコピーしてください。';
      });
      state.append(notice('ok', h('p', {}, '購読用アドレスを発行しました。このアドレスは今だけ表示されます。カレンダーアプリに登録してから画面を離れてください。')),
        h('div', { class: 'field' }, h('label', { for: 'sub-url' }, '購読用アドレス'), input), h('div', { class: 'actions' }, copy), copied);
    } else if (k.issued) {
      state.append(h('p', {}, `購読用アドレスは ${fmtDateTime(k.created)} に発行済みです。アドレスは発行したときにだけ表示されます。分からなくなったときは再発行してください (前のアドレスは使えなくなります)。`));
    } else {
      state.append(h('p', {}, '購読用アドレスはまだ発行されていません。'));
    }
    const issue = h('button', { type: 'button', id: 'sub-issue', class: k.issued || issued ? 'secondary' : null }, k.issued || issued ? '再発行する' : '購読用アドレスを発行する');
    issue.addEventListener('click', async () => { show(await post(`/v1/agencies/${enc(agency)}/ics-key`), true); announce('購読用アドレスを発行しました。'); });
    const acts = h('div', { class: 'actions' }, issue);
    if (k.issued || issued) {
      const stop = h('button', { type: 'button', class: 'danger', id: 'sub-stop' }, '購読を停止する');
      stop.addEventListener('click', () => {
        const yes = h('button', { type: 'button', class: 'danger' }, '停止する');
        const no = h('button', { type: 'button', class: 'secondary' }, 'やめる');
        const ask = notice('warn', h('p', {}, '購読を停止すると、登録済みのカレンダーアプリに会議が届かなくなります。停止しますか。'), h('div', { class: 'actions' }, yes, no));
        acts.replaceWith(ask);
        yes.focus();
        yes.addEventListener('click', async () => { await del(`/v1/agencies/${enc(agency)}/ics-key`); await show(null, true); announce('購読を停止しました。'); });
        no.addEventListener('click', () => { ask.replaceWith(acts); stop.focus(); });
      });
      acts.append(stop);
    }
    state.append(acts);
    if (focus) state.focus();
  };
  box.append(h('h3', {}, '登録のしかた'),
    ...STEPS.map(([app, steps]) => h('div', { class: 'howto' }, h('h4', {}, app), h('ol', {}, steps.map((s) => h('li', {}, s))))),
    notice('info', h('p', {}, 'このアドレスを知っている人は、だれでも会議の日時と事例番号を見られます。他の人に渡さないでください。漏れたおそれがあるときは再発行してください。'),
      h('p', {}, 'Google カレンダーと Outlook on the web は、各社のサーバーからこのアドレスを読みに来ます。つなぐがインターネットから見えない場合 (庁内ネットワークだけの場合) は、Outlook (デスクトップ版) をお使いください。カレンダーアプリへの反映には数時間かかることがあります。')));
  box.ready = show(null, false);
  return box;
}

export async function renderOwnAgency(main, ctx) {
  const id = ctx.session.agency;
  const doc = await get(`/v1/agencies/${enc(id)}`);
  add(main, h('p', { class: 'lead-agency' }, `${doc.name} の職員としてログインしています。`),
    h('section', { 'aria-labelledby': 'mtg-heading' }, h('h2', { id: 'mtg-heading' }, '会議'),
      h('p', {}, 'この機関が招待された会議の一覧です。出欠の回答もここからできます。'),
      h('p', {}, h('a', { class: 'button', href: '#/meetings' }, '会議の一覧と出欠の回答'))),
    h('h2', {}, 'カレンダーの取得状況'),
    h('p', {}, 'つなぐは、この機関のカレンダーから「予定あり」の時間だけを読み取り、会議の日程調整に使います。'),
    (doc.feeds || []).length ? feedTable(doc.feeds, false, `${doc.name} のカレンダー`) : h('p', {}, 'カレンダーが登録されていません。事務局に連絡してください。'));
  const week = busyWeek(doc, todayOf(ctx));
  const sub = subscription(id);
  add(main, week, sub);
  await Promise.all([week.ready, sub.ready]);
}
