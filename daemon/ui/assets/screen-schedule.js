// SPDX-License-Identifier: MIT
// screen-schedule.js - 日程調整 for one case with an approved lead: the
// attendees (lead, supports and the secretariat, all required at first;
// each can be made optional, removed, or added from the agency list), the
// search settings, then the grid: one row per attendee (required first),
// one column per weekday in the window spanning the attendees' working
// hours (from each agency's document), busy time shaded from GET
// /v1/agencies/{id}/busy (busy only, never titles), tsunagu's own holds and
// booked meetings in shades of their own (the same answer's held/booked),
// time outside the agency's hours greyed, days off (holidays, 年末年始,
// closed days: its days_off) greyed and labelled, and a failing,
// pending or stale feed (state ok but not fetched for over 3 poll
// intervals: the attendee's "stale") marked on its row with the API's
// warning (its time is drawn hatched, never as free).  Dates come from the daemon's clock
// (the session's now) and times are sent without an offset, so the
// daemon reads them in the city's zone.  The candidates from POST /v1/slots are
// outlined and numbered in rank order, with a text list beside the grid
// for screen readers; arrow keys move between candidates and Enter
// chooses one.  Choosing holds it (POST /v1/holds) and opens the booking
// form with a 確認 step; a 409 slot-taken brings the fresh suggestions
// back into the grid, a 422 consent refusal shows the API's message by
// the form; a 支援会議 shows the 守秘義務 notice on the form and at 確認.
// Nothing fits: the API's diagnostics in plain Japanese, each with a
// button that applies it (make that attendee optional, widen the window)
// and searches again.  Leaving the screen without booking releases the
// hold (DELETE /v1/holds/{id}).
// Reschedule mode (#/meetings/{id}/reschedule, ctx.mode): the meeting's
// attendees are filled in, its own time is not counted as busy
// (exclude_meeting), the form asks only for the place, and the 確認 step
// books through POST /v1/meetings/{id}/reschedule (a new SEQUENCE).
// A 要再調整 meeting's mailed suggestion can be picked on its page
// (preselect, kept in this module, never in the URL): the grid then
// searches that day and holds that slot, opening the form at its
// 確認 step's door; nothing is sent until 確認.  If the slot is no longer
// free, it says so and the grid offers the others.

import { get, post, del, enc } from './api.js';
import { h, add, clear, field, select, notice, pageHeading, setTitle, fmtDate, fmtDateTime, fmtRange,
         clearErrors, fieldError, errorSummary, announce, setFlash } from './ui.js';
import { vocabulary, agencyLabel } from './vocab.js';
import { partstatLabel } from './screen-meetings.js';

let DAY_START = 8 * 60;          // the hours the grid shows (minutes of the day):
let DAY_END = 18 * 60;            // set by drawGrid from the attendees' hours (gridHours)
const WD_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const STATUS = {                 // short, to fit the row; the API's own sentence is in 注意 above the grid
  failing: '取得に失敗中 (前回のデータで判断)',
  pending: '未取得 (空きとは扱いません)',
  'no-calendars': 'カレンダーが登録されていません',
  never: '取得に失敗 (未取得: 空きとは扱いません)',
  stale: '予定が古い可能性',             // the age is on the line above, the API's sentence in 注意
};

const pad = (n) => String(n).padStart(2, '0');
// The date and hours helpers below are also used by screen-agency.js (the
// week view of an agency's busy time).
export function isoDate(d) { return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`; }
export function addDays(ymd, n) {
  const [y, m, d] = ymd.split('-').map(Number);
  return isoDate(new Date(Date.UTC(y, m - 1, d + n)));
}
export function weekday(ymd) { const [y, m, d] = ymd.split('-').map(Number); return new Date(Date.UTC(y, m - 1, d)).getUTCDay(); }
// minutes of the city's wall-clock day, and the date, from an ISO time
export function wall(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})/.exec(iso || '');
  return m ? { day: m[1], min: +m[2] * 60 + +m[3] } : null;
}
// The agency's working hours on weekday wd from its document's "hours"
// ({"mon-fri": "08:30-17:15", "sat": "09:00-12:00"}): [from, to] minutes,
// or null on a day off.  No hours: the city's default, weekdays 08:30-17:15.
export function hoursOf(a, wd) {
  const hours = a && a.hours;
  if (!hours || !Object.keys(hours).length) return wd >= 1 && wd <= 5 ? [510, 1035] : null;
  for (const [k, v] of Object.entries(hours)) {
    for (const part of k.split(',')) {
      const [p, q] = part.trim().split('-').map((x) => WD_KEYS.indexOf(x));
      const inDay = q === undefined || q < 0 ? wd === p : p <= q ? wd >= p && wd <= q : wd >= p || wd <= q;
      const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(v || '');
      if (inDay && m) return [+m[1] * 60 + +m[2], +m[3] * 60 + +m[4]];
    }
  }
  return null;
}
function ageText(sec) {
  if (sec === null || sec === undefined) return '未取得';
  if (sec < 3600) return `${Math.floor(sec / 60)}分前`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}時間前`;
  return `${Math.floor(sec / 86400)}日前`;
}
// "08:30-17:15" from [510, 1035]
const hhmm = (m) => `${Math.floor(m / 60)}:${pad(m % 60)}`;
// The grid's span: the earliest opening to the latest closing of the
// attendees on the weekdays shown, in whole hours; 08-18 when none works.
function gridHours(rows, days) {
  let lo = 1440, hi = 0;
  for (const wd of new Set(days.map(weekday))) {
    for (const r of rows) {
      const hrs = hoursOf(r.hours, wd);
      if (hrs) { lo = Math.min(lo, hrs[0]); hi = Math.max(hi, hrs[1]); }
    }
  }
  return hi > lo ? [Math.floor(lo / 60) * 60, Math.ceil(hi / 60) * 60] : [8 * 60, 18 * 60];
}
const pct = (min) => `${(100 * (min - DAY_START)) / (DAY_END - DAY_START)}%`;
const clamp = (x) => Math.max(DAY_START, Math.min(DAY_END, x));

// Split the API's [start, end] ISO pairs into per-day [from,to) minute spans.
export function spans(list) {
  const out = {};
  for (const b of list || []) {
    const s = wall(Array.isArray(b) ? b[0] : b.start), e = wall(Array.isArray(b) ? b[1] : b.end);   // [start, end] pairs
    if (!s || !e) continue;
    for (let d = s.day; d <= e.day; d = addDays(d, 1)) {
      const a = d === s.day ? s.min : 0, z = d === e.day ? e.min : 1440;
      if (z > a) (out[d] = out[d] || []).push([a, z]);
    }
  }
  return out;
}

function attendeeEditor(model, v, onChange) {
  const box = h('div');
  const draw = () => {
    clear(box);
    box.redraw = draw;               // a diagnostics fix changes an attendee
    const rows = model.attendees;
    box.append(h('div', { class: 'table-wrap' }, h('table', { class: 'attendees' },
      h('caption', {}, '出席する機関'),
      h('thead', {}, h('tr', {}, ['機関', '出席', '操作'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((a, i) => {
        const req = h('select', { 'aria-label': `${agencyLabel(v, a.agency)} の出席`, onchange: (ev) => { a.required = ev.target.value === 'r'; onChange(); } },
          h('option', { value: 'r', selected: a.required }, '必須'), h('option', { value: 'o', selected: !a.required }, '任意'));
        return h('tr', {},
          h('th', { scope: 'row' }, agencyLabel(v, a.agency), a.role ? h('span', { class: 'hint' }, ` (${a.role})`) : null),
          h('td', {}, req),
          h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `${agencyLabel(v, a.agency)} を外す`,
            onclick: () => { rows.splice(i, 1); draw(); onChange(); } }, '外す')));
      })))));
    const others = v.agencies.filter((x) => !rows.find((a) => a.agency === x.id));
    const pick = select([['', '選んでください'], ...others.map((x) => [x.id, x.name])], '');
    const addBtn = h('button', { type: 'button', class: 'secondary', id: 'attendee-add' }, '追加する');
    addBtn.addEventListener('click', () => {
      if (!pick.value) return;
      rows.push({ agency: pick.value, required: true });
      draw(); onChange();
      document.getElementById('attendee-add-agency').focus();
    });
    box.append(h('div', { class: 'inline-add' }, field('attendee-add-agency', '機関を追加', pick), addBtn));
  };
  draw();
  return box;
}

// h() with inline geometry set through the CSSOM (the page's CSP forbids
// style attributes): css is "prop:value;prop:value".
function hs(tag, attrs, ...kids) {
  const { css, ...rest } = attrs;
  const el = h(tag, rest, ...kids);
  for (const d of css.split(';')) {
    const i = d.indexOf(':');
    if (i > 0) el.style.setProperty(d.slice(0, i).trim(), d.slice(i + 1).trim());
  }
  return el;
}

// The grid.  rows: [{agency, name, required, need, travel, busy (day->spans),
// hours (agency doc), diag}], days: ['YYYY-MM-DD'], cands: [{start,end,optional}]
function drawGrid(rows, days, cands, onChoose) {
  [DAY_START, DAY_END] = gridHours(rows, days);
  const mid = Math.round((DAY_START + DAY_END) / 120) * 60;
  const grid = hs('div', { class: 'sched-grid', role: 'group', 'aria-label': '出席機関の予定と候補 (矢印キーで候補を移動、Enterで選択)',
    css: `--days:${days.length}` });
  const names = h('div', { class: 'sched-names' }, h('div', { class: 'sched-corner', 'aria-hidden': 'true' }, '機関 / 日付'));
  for (const d of days) {
    const off = rows.length && rows.every((r) => r.off[d]) ? rows[0].off[d] : null;    // everyone's day off
    grid.append(h('div', { class: `sched-day${off ? ' sched-day--off' : ''}`, 'aria-hidden': 'true' }, fmtDate(d),
      off ? h('span', { class: 'sched-dayoff-label' }, ` ${off}`) : null,
      h('span', { class: 'sched-ticks' }, String(DAY_START / 60), h('span', {}, String(mid / 60)), String(DAY_END / 60))));
  }
  const byDay = {};
  cands.forEach((c, i) => { const s = wall(c.start), e = wall(c.end); if (s && e) (byDay[s.day] = byDay[s.day] || []).push([i, s.min, e.min]); });
  rows.forEach((r, ri) => {
    const st = r.diag && (r.diag.status === 'ok' && r.diag.stale ? 'stale' : r.diag.status);   // ok but not fetched for long
    const warn = st && st !== 'ok';
    names.append(h('div', { class: `sched-who${warn ? ' sched-who--warn' : ''}` },
      h('strong', {}, r.name), ' ', h('span', { class: `badge ${r.required ? 'badge--ok' : 'badge--pending'}` }, r.required ? '必須' : '任意'),
      h('div', { class: 'sched-meta' },
        r.need > 1 ? `${r.ncal}人中${r.need}人 ` : null,
        r.travel ? `移動${r.travel}分 ` : null,
        r.open ? `勤務 ${hhmm(r.open[0])}〜${hhmm(r.open[1])} ` : null,
        `データ: ${ageText(r.diag ? (st === 'stale' ? r.diag.stale_age_seconds : r.diag.data_age_seconds) : null)}`),
      warn ? h('div', { class: 'sched-warn' }, `⚠ ${st === 'failing' && r.diag.data_age_seconds == null ? STATUS.never : STATUS[st] || st}`) : null));
    for (const d of days) {
      const cell = h('div', { class: `sched-cell${warn ? ' sched-cell--warn' : ''}`, 'aria-hidden': 'true' });
      const hrs = r.off[d] ? null : hoursOf(r.hours, weekday(d));
      if (r.off[d]) cell.append(hs('div', { class: 'sched-off sched-holiday', css: 'left:0;width:100%' }, r.off[d]));
      else if (!hrs) cell.append(hs('div', { class: 'sched-off', css: 'left:0;width:100%' }));
      else {
        if (hrs[0] > DAY_START) cell.append(hs('div', { class: 'sched-off', css: `left:0;width:${pct(clamp(hrs[0]))}` }));
        if (hrs[1] < DAY_END) cell.append(hs('div', { class: 'sched-off', css: `left:${pct(clamp(hrs[1]))};right:0` }));
      }
      for (const [a, z] of r.busy[d] || []) {
        const x = clamp(a), y = clamp(z);
        if (y > x) cell.append(hs('div', { class: 'sched-busy', css: `left:${pct(x)};width:calc(${pct(y)} - ${pct(x)})` }));
      }
      for (const [kind, list] of [['held', r.held], ['booked', r.booked]]) {        // tsunagu's own, on top
        for (const [a, z] of list[d] || []) {
          const x = clamp(a), y = clamp(z);
          if (y > x) cell.append(hs('div', { class: `sched-busy sched-${kind}`, css: `left:${pct(x)};width:calc(${pct(y)} - ${pct(x)})` }));
        }
      }
      if (ri === 0) {
        for (const [i, a, z] of byDay[d] || []) {
          const c = cands[i];
          const b = hs('button', { type: 'button', class: 'sched-cand', tabindex: i === 0 ? '0' : '-1', 'data-rank': String(i + 1),
            'aria-hidden': 'false', 'aria-label': `候補${i + 1}: ${fmtRange(c.start, c.end)}`,
            css: `left:${pct(clamp(a))};width:calc(${pct(clamp(z))} - ${pct(clamp(a))});height:calc(${rows.length} * var(--row-h) - 4px)` },
          String(i + 1));
          b.addEventListener('click', () => onChoose(i));
          cell.append(b);
          cell.removeAttribute('aria-hidden');
          cell.classList.add('sched-cell--cands');      // above the rows below, which the outline spans
        }
      }
      grid.append(cell);
    }
  });
  grid.addEventListener('keydown', (ev) => {
    const btns = [...grid.querySelectorAll('.sched-cand')].sort((p, q) => p.dataset.rank - q.dataset.rank);
    const at = btns.indexOf(document.activeElement);
    if (at < 0) return;
    let to = null;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') to = Math.min(btns.length - 1, at + 1);
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') to = Math.max(0, at - 1);
    else if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = btns.length - 1;
    if (to === null) return;
    ev.preventDefault();
    btns[at].tabIndex = -1;
    btns[to].tabIndex = 0;
    btns[to].focus();
    btns[to].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
  return [names, grid];
}

// The names column beside the box that scrolls the days sideways.  The
// names are not a sticky column over the days: nothing can sit under
// them, so a candidate scrolled out of sight is outside the scroll box,
// and focus, scrollIntoView or a mouse tool's click bring it fully into
// view (with a sticky column it stayed "in view" underneath, and a click
// landed on the name).  Both parts have the same row heights.
function gridFrame([names, grid]) {
  const frame = h('div', { class: 'sched-frame' }, names,
    h('div', { class: 'sched-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'grid-heading' }, grid));   // scrolls by keyboard too
  fitRows(frame, names);
  return frame;
}

// Every row as tall as the tallest name needs, so a long agency name
// (くらしサポートセンター（自立相談支援機関）at 390 px wide) wraps and is read
// in full, never cut off: --row-h becomes max(--row-min, that height), and
// both parts, and a candidate's outline (rows x --row-h), follow it.
// Measured again when the names column changes width (zoom, a window
// resized); the height it sets does not change that width, so it settles.
function fitRows(frame, names) {
  let width = -1;
  new ResizeObserver(() => {
    if (names.clientWidth === width || !names.clientWidth) return;
    width = names.clientWidth;
    requestAnimationFrame(() => {
      let need = 0;
      for (const who of names.querySelectorAll('.sched-who')) {
        const text = document.createRange();
        text.selectNodeContents(who);
        const cs = getComputedStyle(who);
        need = Math.max(need, text.getBoundingClientRect().bottom - who.getBoundingClientRect().top +
          parseFloat(cs.paddingBottom) + parseFloat(cs.borderBottomWidth));
      }
      frame.style.setProperty('--row-h', `max(var(--row-min), ${Math.ceil(need)}px)`);
    });
  }).observe(names);
}

// The fields are those of slot_result_to_json (calendars/slots_json.c):
// message (the API's own sentence), blocking [{agency, name,
// blocked_candidates, candidates}], drop_one [{agency, name, earliest}],
// next_available ({start, end} or null).
function diagnosticsText(dg, v) {
  const out = [];
  if (!dg) return out;
  if (dg.message) out.push(dg.message);
  out.push(`検討した開始時刻 ${dg.candidates ?? 0} 件のうち、全員が出席できるものは ${dg.feasible_candidates ?? 0} 件でした。`);
  for (const b of (dg.blocking || []).slice(0, 3)) {
    out.push(`${b.name || agencyLabel(v, b.agency)}: 候補 ${b.candidates} 件中 ${b.blocked_candidates} 件に出席できません。`);
  }
  for (const x of (dg.drop_one || []).slice(0, 3)) {
    out.push(`${x.name || agencyLabel(v, x.agency)} を任意にすると、${fmtDateTime(x.earliest)} から候補があります。`);
  }
  const n = dg.next_available;           // the message already says when; add the slot
  if (n && n.start) out.push(`期間を広げたときの最も早い候補: ${fmtRange(n.start, n.end)}`);
  return out;
}

// One-click fixes for an empty result: [{label, optional?, to?}], from the
// same diagnostics: make the attendee that blocks optional (and widen the
// window when its earliest slot lies past the end), widen the window to
// the earliest slot found, or drop an attendee with no data at all.
function diagnosticsFixes(dg, v, toDay) {
  const out = [];
  if (!dg) return out;
  const name = (x) => x.name || agencyLabel(v, x.agency);
  const past = (iso) => iso && iso.slice(0, 10) >= toDay ? addDays(iso.slice(0, 10), 1) : null;
  if (dg.reason === 'no-data' && dg.window_cut && dg.window_cut.agency) {
    out.push({ label: `${agencyLabel(v, dg.window_cut.agency)} を任意にして探し直す`, optional: dg.window_cut.agency });
  }
  for (const x of (dg.drop_one || []).slice(0, 3)) {
    out.push({ label: `${name(x)} を任意にして探し直す (${fmtDateTime(x.earliest)} から候補)`, optional: x.agency, to: past(x.earliest) });
  }
  const n = dg.next_available;
  if (n && n.start) out.push({ label: `期間を ${fmtDate(n.start)} まで広げて探し直す`, to: addDays(n.start.slice(0, 10), 1) });
  return out;
}

// A suggestion picked on a 要再調整 meeting's page ({start, end, text} with
// the ISO times mailed, or only its text "12月10日(木) 08:30〜09:30" for a
// decline recorded before the API kept them), for the reschedule grid to
// hold; taken once.
let picked = null;
export function preselect(meetingId, s) {
  picked = typeof s === 'string' ? { meetingId: String(meetingId), text: s }
    : { meetingId: String(meetingId), text: s.text, start: s.start, end: s.end };
}

// The picked slot as { day: '2026-12-10', start: '08:30', end: '09:30' } in the
// city's time: from its ISO times (local date and time as the API gives
// them), else parsed from the text.
function pickedSlot(p, today) {
  const iso = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/;
  const s = iso.exec(p.start || ''), e = iso.exec(p.end || '');
  if (s && e && s[1] === e[1]) return { day: s[1], start: s[2], end: e[2] };
  return parseSuggestion(p.text, today);
}

// "12月10日(木) 08:30〜09:30" -> { day: '2026-12-10', start: '08:30', end: '09:30' },
// in the year that puts it nearest after today (ymd).
function parseSuggestion(text, today) {
  const m = /(\d{1,2})月(\d{1,2})日[^0-9]*(\d{1,2}):(\d{2})〜(\d{1,2}):(\d{2})/.exec(text || '');
  if (!m) return null;
  let y = +today.slice(0, 4);
  if (+m[1] < +today.slice(5, 7) - 1) y++;        // December's suggestions for January
  return { day: `${y}-${pad(+m[1])}-${pad(+m[2])}`, start: `${pad(+m[3])}:${m[4]}`, end: `${pad(+m[5])}:${m[6]}` };
}

const SUPPORT_MEETING = '支援会議';
function confidentialityNotice() {
  return notice('warn', h('p', { class: 'confidential' }, h('strong', {}, '【守秘義務】'),
    '支援会議 (社会福祉法第106条の6) です。会議で知り得た情報には守秘義務が課され、正当な理由なく漏らしてはなりません (違反には罰則があります)。',
    '招待できるのは支援会議の構成員の機関だけです。'));
}

export async function render(main, ctx) {
  const meeting = ctx.mode === 'reschedule' ? await get(`/v1/meetings/${ctx.params[0]}`) : null;
  const id = meeting ? meeting.case : ctx.params[0];
  setTitle(meeting ? `日時の変更 (会議 ${meeting.id})` : `日程調整 (事例 ${id})`);
  add(main, pageHeading(meeting ? `日時の変更: 会議 ${meeting.id} (事例 ${id})` : `日程調整: 事例 ${id}`),
    h('p', {}, meeting ? h('a', { href: `#/meetings/${meeting.id}` }, `会議 ${meeting.id} に戻る`)
      : h('a', { href: `#/cases/${enc(id)}/proposal` }, `事例 ${id} の提案と承認に戻る`)),
    meeting ? notice('info', h('p', {}, `いまの日時 ${fmtRange(meeting.start, meeting.end)} は空きとして扱います。出席機関は会議のとおりです。`)) : null);
  const [v, c, ag] = await Promise.all([vocabulary(), get(`/v1/cases/${enc(id)}`), get('/v1/agencies')]);
  if (!c.lead && !meeting) {
    add(main, notice('warn', h('p', {}, '主担当が承認されていないため、日程調整はできません。先に提案を承認してください。')));
    return;
  }
  const secr = ag.agencies.find((a) => (a.fields || []).includes('協働'));
  const model = { attendees: [], hold: null, slot: null };
  const push = (agency, role) => { if (agency && !model.attendees.find((a) => a.agency === agency)) model.attendees.push({ agency, required: true, role }); };
  push(c.lead, '主担当');
  (c.supports || []).forEach((s) => push(s, '支援'));
  if (secr) push(secr.id, '事務局');
  if (meeting) model.attendees = meeting.attendees.map((a) => ({ agency: a.agency, required: a.required }));

  const today = (ctx.session.now || new Date().toISOString()).slice(0, 10);
  const duration = select([['30', '30分'], ['60', '1時間'], ['90', '1時間30分'], ['120', '2時間']],
    meeting ? String(Math.round((Date.parse(meeting.end) - Date.parse(meeting.start)) / 60000)) : '60');
  const from = h('input', { type: 'date', value: today });
  const to = h('input', { type: 'date', value: addDays(today, 21) });
  const gran = select([['15', '15分'], ['30', '30分'], ['60', '1時間']], '30');
  const noticeDays = h('input', { type: 'number', min: '0', max: '365', value: '0', inputmode: 'numeric' });
  const editor = attendeeEditor(model, v, () => {});
  const form = h('form', { novalidate: true, class: 'sched-form', 'aria-labelledby': 'sched-settings' },
    h('h2', { id: 'sched-settings' }, '出席者と条件'),
    editor,
    h('div', { class: 'field-row' },
      field('sched-duration', '会議の長さ', duration),
      field('sched-from', '探す期間 (から)', from),
      field('sched-to', '探す期間 (まで)', to, { hint: '既定は今日から3週間です' }),
      field('sched-granularity', '開始時刻の刻み', gran),
      field('sched-notice', '予告日数', noticeDays, { hint: '今日から何日後以降に開くか' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'sched-search' }, '候補を探す')));
  const out = h('div', { 'aria-live': 'polite' });
  const booking = h('div');
  add(main, form, out, booking);

  let last = null;                      // the last search, for redrawing with fresh suggestions
  async function search(slotsOverride, why) {
    clearErrors(form);
    clear(out); clear(booking);
    const errs = [];
    const req = model.attendees.filter((a) => a.required);
    if (!req.length) errs.push({ id: 'attendee-add-agency', message: '必須の出席機関を1つ以上選んでください' });
    if (!from.value) errs.push({ id: 'sched-from', message: '期間の始まりを入れてください' });
    if (!to.value || to.value <= from.value) errs.push({ id: 'sched-to', message: '期間の終わりは始まりより後にしてください' });
    if (errs.length) { errs.forEach((e) => fieldError(e.id, e.message)); errorSummary(form, errs); return; }
    const q = {
      id: `case-${id}`, required: req.map((a) => a.agency), optional: model.attendees.filter((a) => !a.required).map((a) => a.agency),
      duration_minutes: +duration.value, from: `${from.value}T00:00:00`, to: `${to.value}T00:00:00`,   // the city's zone
      granularity_minutes: +gran.value, notice_days: +noticeDays.value || 0, limit: 10,
    };
    if (meeting) q.exclude_meeting = meeting.id;
    const t0 = performance.now();
    out.append(h('p', {}, '探しています…'));
    const ordered = [...model.attendees.filter((a) => a.required), ...model.attendees.filter((a) => !a.required)];
    // each attendee's busy time, asked for alongside the slots (the
    // agency list already carries hours, travel and membership)
    const busyOf = get(`/v1/busy?agencies=${ordered.map((a) => enc(a.agency)).join(',')}&from=${enc(q.from)}&to=${enc(q.to)}`)
      .then((b) => b.agencies, () => []);                 // one request for every row
    let res;
    try {
      [res] = await Promise.all([slotsOverride ? Promise.resolve(slotsOverride) : post('/v1/slots', q), busyOf]);
    } catch (e) {
      if (e.status === 401) return;
      clear(out).append(notice('error', h('p', {}, e.message)));
      if (e.field) fieldError(`sched-${e.field === 'duration_minutes' ? 'duration' : e.field}`, e.message);
      return;
    }
    const busyList = await busyOf;
    const docOf = Object.fromEntries(ag.agencies.map((x) => [x.id, x]));
    const diagOf = Object.fromEntries(((res.diagnostics && res.diagnostics.attendees) || []).map((x) => [x.agency, x]));
    const rows = ordered.map((a, i) => {
      const busy = busyList[i], doc = docOf[a.agency];
      const d = diagOf[a.agency] || (busy && busy.failing && busy.failing.length ? { status: 'failing' } : busy && busy.pending && busy.pending.length ? { status: 'pending' }
        : busy && busy.stale ? { status: 'ok', stale: true, stale_age_seconds: busy.stale_age_seconds } : null);
      const firstOpen = [1, 2, 3, 4, 5, 6, 0].map((wd) => hoursOf(doc, wd)).find((x) => x);
      return { agency: a.agency, name: agencyLabel(v, a.agency), required: a.required, need: busy ? busy.need : 1, ncal: busy ? busy.calendars : 0,
        travel: doc && doc.travel_minutes, hours: doc, open: firstOpen, member: doc ? doc.support_meeting_member !== false : true, diag: d,
        busy: spans(busy ? busy.busy : []), held: spans(busy ? busy.held : []), booked: spans(busy ? busy.booked : []),
        off: Object.fromEntries(((busy && busy.days_off) || []).map((x) => [x.date, x.label])) };
    });
    const days = [];
    for (let d = from.value; d < to.value; d = addDays(d, 1)) {
      const wd = weekday(d);
      if (wd !== 0 && wd !== 6) days.push(d);
    }
    const cands = res.slots || [];
    last = { q, res, rows, days };
    clear(out);
    if (why) out.append(why);
    const warnings = (res.diagnostics && res.diagnostics.warnings) || [];
    if (warnings.length) out.append(notice('warn', h('h2', {}, '注意'), h('ul', {}, warnings.map((w) => h('li', {}, w)))));
    const choose = (i) => hold(cands[i], i);
    out.append(h('h2', { id: 'grid-heading' }, '予定と候補'),
      h('p', { class: 'legend', 'aria-hidden': 'true' },
        h('span', { class: 'key key--busy' }), '予定あり ', h('span', { class: 'key key--held' }), '仮押さえ ',
        h('span', { class: 'key key--booked' }), '予約済みの会議 ', h('span', { class: 'key key--off' }), '勤務時間外・休み ',
        h('span', { class: 'key key--warn' }), '取得できていない・古い (空きとは扱いません) ', h('span', { class: 'key key--cand' }), '候補'),
      gridFrame(drawGrid(rows, days, cands, choose)));
    if (cands.length) {
      out.append(h('h3', { id: 'cand-heading' }, `候補 ${cands.length}件 (よい順)`),
        h('ol', { class: 'cand-list', 'aria-labelledby': 'cand-heading' }, cands.map((s, i) => h('li', {},
          h('button', { type: 'button', class: 'secondary', onclick: () => choose(i) }, `候補${i + 1}: ${fmtRange(s.start, s.end)}`),
          (s.optional || []).length ? h('span', { class: 'hint' }, ` 任意で出られる機関: ${s.optional.map((x) => agencyLabel(v, x)).join('、')}`) : null))));
    } else {
      out.append(notice('warn', h('h3', {}, '全員が出席できる枠が見つかりませんでした'),
        h('ul', {}, diagnosticsText(res.diagnostics, v).map((t) => h('li', {}, t))),
        h('p', {}, '期間を広げるか、任意にできる機関を「任意」に切り替えて、もう一度探してください。'),
        h('div', { class: 'actions diag-fixes' }, diagnosticsFixes(res.diagnostics, v, to.value).map((f) =>
          h('button', { type: 'button', class: 'secondary', onclick: () => applyFix(f) }, f.label)))));
    }
    out.dataset.ms = String(Math.round(performance.now() - t0));
    announce(cands.length ? `候補が${cands.length}件あります` : '候補は見つかりませんでした');
  }

  // A diagnostics fix: change the settings as it says, then search again.
  function applyFix(f) {
    const a = f.optional && model.attendees.find((x) => x.agency === f.optional);
    if (a) { a.required = false; editor.redraw(); }
    if (f.to && f.to > to.value) to.value = f.to;
    search();
  }

  // Leaving the screen (another route) without booking gives the slot back.
  const here = location.hash;
  const release = () => {
    if (model.hold) del(`/v1/holds/${model.hold}`).catch(() => {});
    model.hold = null;
  };
  const onLeave = () => {
    if (location.hash === here) return;
    window.removeEventListener('hashchange', onLeave);
    window.removeEventListener('pagehide', release);
    release();
  };
  window.addEventListener('hashchange', onLeave);
  window.addEventListener('pagehide', release);      // best effort; the hold expires in 30 minutes anyway

  async function hold(slot, i) {
    clear(booking);
    const agencies = model.attendees.map((a) => a.agency);
    if (model.hold) { await del(`/v1/holds/${model.hold}`).catch(() => {}); model.hold = null; }
    try {
      const hd = await post('/v1/holds', { agencies, start: slot.start, end: slot.end, expiry: 1800 });
      model.hold = hd.id;
    } catch (e) {
      if (e.status === 401) return;
      booking.append(notice('error', h('p', {}, e.message)));
      return;
    }
    model.slot = slot;
    bookingForm(slot, i);
  }

  function bookingForm(slot, i, keep) {
    clear(booking);
    const k = keep || (meeting ? { type: meeting.type, location: meeting.location || '', online_url: meeting.online_url || '' } : {});
    const type = select(v.meeting_types.map((t) => [t, t]), k.type || v.meeting_types[0]);
    const place = h('input', { type: 'text', value: k.location || '', autocomplete: 'off' });
    const url = h('input', { type: 'url', value: k.online_url || '', autocomplete: 'off' });
    const note = h('textarea', { rows: '3', value: k.note || '' });
    const mon = h('input', { type: 'date', value: k.monitoring_date || '' });
    const status = h('div');
    const secret = h('div', { 'aria-live': 'polite' });
    const showSecret = () => {
      clear(secret);
      if (type.value !== SUPPORT_MEETING) return;
      const out = (last ? last.rows : []).filter((r) => !r.member).map((r) => r.name);
      secret.append(confidentialityNotice());
      if (out.length) secret.firstChild.append(h('p', {}, `構成員ではない機関: ${out.join('、')} (このままでは予約できません)`));
    };
    type.addEventListener('change', showSecret);
    showSecret();
    const f = h('form', { novalidate: true, 'aria-labelledby': 'book-heading' },
      h('h2', { id: 'book-heading', tabindex: '-1' }, `${meeting ? '変更' : '予約'}: ${fmtRange(slot.start, slot.end)}`),
      h('p', {}, `${i >= 0 ? `候補${i + 1}` : '選んだ候補'} を30分間仮押さえしました。`), status,
      meeting ? null : field('book-type', '会議の種類', type, { required: true }), secret,
      field('book-location', '場所', place, { hint: '場所かオンラインのURLのどちらかを入れてください' }),
      field('book-url', 'オンラインのURL', url),
      meeting ? null : field('book-note', '事務局のメモ', note, { hint: 'メールには載りません' }),
      meeting ? null : field('book-monitoring', 'モニタリング日', mon),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'book-next' }, '確認へ進む')));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearErrors(f);
      const errs = [];
      if (!place.value.trim() && !url.value.trim()) errs.push({ id: 'book-location', message: '場所かオンラインのURLを入れてください' });
      if (url.value.trim() && !/^https?:\/\//.test(url.value.trim())) errs.push({ id: 'book-url', message: 'URLは http:// か https:// で始めてください' });
      if (errs.length) { errs.forEach((e) => fieldError(e.id, e.message)); errorSummary(f, errs); return; }
      confirmStep(slot, i, { type: type.value, location: place.value.trim(), online_url: url.value.trim(), note: note.value, monitoring_date: mon.value });
    });
    booking.append(f);
    f.querySelector('h2').focus();
  }

  function confirmStep(slot, i, data) {
    clear(booking);
    const row = (k, val) => [h('dt', {}, k), h('dd', {}, val || '—')];
    const status = h('div');
    const ok = h('button', { type: 'button', id: 'book-confirm' }, meeting ? 'この日時に変更する' : 'この内容で予約する');
    const back = h('button', { type: 'button', class: 'secondary' }, '戻って直す');
    back.addEventListener('click', () => bookingForm(slot, i, data));
    ok.addEventListener('click', async () => {
      ok.disabled = true;
      const body = { case: id, type: data.type, start: slot.start, end: slot.end,
        attendees: model.attendees.map((a) => ({ agency: a.agency, required: a.required })), hold: model.hold };
      if (data.location) body.location = data.location;
      if (data.online_url) body.online_url = data.online_url;
      if (data.note) body.note = data.note;
      if (data.monitoring_date) body.monitoring_date = data.monitoring_date;
      try {
        if (meeting) {
          const m = await post(`/v1/meetings/${meeting.id}/reschedule`, { start: slot.start, end: slot.end, hold: model.hold,
            location: data.location || undefined, online_url: data.online_url || undefined });
          model.hold = null;
          setFlash(notice('ok', h('p', {}, `日時を ${fmtRange(m.start, m.end)} に変更しました。新しい招待 (SEQUENCE ${m.sequence}) を出席機関に送ります。`)));
          ctx.navigate(`#/meetings/${m.id}`);
          return;
        }
        const m = await post('/v1/meetings', body);
        model.hold = null;
        booked(m);
      } catch (e) {
        ok.disabled = false;
        if (e.status === 401) return;
        if (e.status === 409 && e.code === 'slot-taken') {
          model.hold = null;
          const who = (e.body.busy || []).map((x) => agencyLabel(v, x.agency || x)).join('、');
          const why = notice('error', h('h3', {}, 'この日時は予約できなくなりました'),
            h('p', {}, who ? `出席できなくなった機関: ${who}` : e.message),
            h('p', {}, '新しい候補を下に示します。'));
          await search({ slots: e.body.suggestions || [], diagnostics: last && last.res.diagnostics }, why);
          return;
        }
        clear(status).append(h('div', { class: 'notice notice--error', role: 'alert', tabindex: '-1' },
          h('h3', {}, '予約できませんでした'), h('p', {}, e.message), e.code ? h('p', {}, `(理由の種類: ${e.code})`) : null));
        status.firstChild.focus();
      }
    });
    booking.append(h('section', { 'aria-labelledby': 'confirm-heading' },
      h('h2', { id: 'confirm-heading', tabindex: '-1' }, meeting ? '変更の内容を確認してください' : '予約の内容を確認してください'),
      data.type === SUPPORT_MEETING ? confidentialityNotice() : null,
      h('dl', { class: 'summary' },
        row('日時', fmtRange(slot.start, slot.end)), row('会議の種類', data.type),
        row('出席', model.attendees.map((a) => `${agencyLabel(v, a.agency)} (${a.required ? '必須' : '任意'})`).join('、')),
        row('場所', data.location), row('オンラインのURL', data.online_url), row('事務局のメモ', data.note),
        row('モニタリング日', data.monitoring_date ? fmtDate(data.monitoring_date) : '')),
      status, h('div', { class: 'actions' }, ok, back)));
    booking.querySelector('#confirm-heading').focus();
  }

  function booked(m) {
    clear(out);
    clear(booking);
    add(booking, h('div', { class: 'notice notice--ok', role: 'status', tabindex: '-1', id: 'booked' },
      h('h2', {}, `会議 ${m.id} を予約しました`),
      h('p', {}, `${m.type} ${fmtRange(m.start, m.end)} ${m.location || m.online_url || ''}`),
      h('p', {}, '招待のメールを出席機関に送ります。')),
      h('div', { class: 'table-wrap' }, h('table', {}, h('caption', {}, '出席機関と回答'),
        h('thead', {}, h('tr', {}, ['機関', '出席', '回答'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (m.attendees || []).map((a) => h('tr', {},
          h('th', { scope: 'row' }, agencyLabel(v, a.agency)), h('td', {}, a.required ? '必須' : '任意'),
          h('td', {}, partstatLabel(a.partstat))))))),
      (m.warnings || []).length ? notice('warn', h('ul', {}, m.warnings.map((w) => h('li', {}, w)))) : null,
      h('p', {}, h('a', { href: `#/cases/${enc(id)}` }, `事例 ${id} に戻る`)));
    booking.querySelector('#booked').focus();
  }

  form.addEventListener('submit', (ev) => { ev.preventDefault(); search(); });

  // a suggestion picked on the meeting's page: search from its day, hold it
  const pick = meeting && picked && picked.meetingId === String(meeting.id) ? picked : null;
  picked = null;
  const want = pick && pickedSlot(pick, today);
  if (want) {
    from.value = want.day;                         // that day only: its candidates, all of them
    to.value = addDays(want.day, 1);
    await search();
    const cands = (last && last.res.slots) || [];
    const i = cands.findIndex((x) => x.start.startsWith(`${want.day}T${want.start}`) && x.end.startsWith(`${want.day}T${want.end}`));
    const zone = (/([+-]\d{2}:\d{2}|Z)$/.exec(meeting.start) || ['+09:00'])[0];
    if (i >= 0) await hold(cands[i], i);
    else if (cands.length >= last.q.limit)          // a longer list than shown: 確認 checks it again
      await hold(pick.start && pick.end ? { start: pick.start, end: pick.end }
        : { start: `${want.day}T${want.start}:00${zone}`, end: `${want.day}T${want.end}:00${zone}` }, -1);
    else {
      booking.append(notice('warn', h('p', { id: 'picked-gone', tabindex: '-1' },
        `選んだ候補 ${pick.text} は、もう全員が出席できる枠ではありません。上の候補から選んでください。`)));
      booking.querySelector('#picked-gone').focus();
    }
  }
}
