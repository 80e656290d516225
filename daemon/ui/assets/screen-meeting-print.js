// SPDX-License-Identifier: MIT
// screen-meeting-print.js - 会議次第, the secretariat's printable agenda
// of one meeting (#/meetings/{id}/print, printed with print.css): case
// id, meeting type, time, place, the attendees and their answers, a
// blank agenda to fill in by hand, and for a 支援会議 the 守秘義務 notice.
// It holds no household data unless the viewer is staff AND ticks the
// box, which then reads the case (GET /v1/cases/{id}: relation, age and
// issues only; the household has no names in tsunagu).  The box itself
// is not printed.

import { get } from './api.js';
import { h, add, clear, notice, pageHeading, setTitle, fmtRange } from './ui.js';
import { isStaff } from './app.js';
import { partstatLabel } from './screen-meetings.js';

const CONFIDENTIAL = '【守秘義務】本会議は社会福祉法第106条の6に基づく支援会議です。会議で知り得た情報には守秘義務が課され、' +
  '正当な理由なく漏らしてはなりません（違反には罰則があります）。この資料は会議の終了後に回収します。';

export async function render(main, ctx) {
  const id = ctx.params[0];
  setTitle(`会議次第 (会議 ${id})`);
  const staff = isStaff(ctx.session);
  let m;
  try {
    m = await get(`/v1/meetings/${id}`);
  } catch (e) {
    if (e.status === 401) return;
    add(main, pageHeading('会議次第'), notice('error', h('p', {}, e.status === 404 ? 'この会議は見つからないか、閲覧できません。' : e.message)));
    return;
  }
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v || '—')];
  const household = h('div', { id: 'household' });
  add(main, h('p', { class: 'no-print' }, h('a', { href: `#/meetings/${id}` }, `会議 ${id} に戻る`)),
    pageHeading(`会議次第: 事例 ${m.case} ${m.type}`),
    m.status === 'cancelled' ? notice('warn', h('p', {}, 'この会議は中止されました。')) : null,
    m.type === '支援会議' ? h('div', { class: 'notice notice--warn confidential', id: 'confidentiality' }, h('p', {}, CONFIDENTIAL)) : null,
    h('dl', { class: 'summary' },
      row('事例ID', m.case), row('会議の種類', m.type), row('日時', fmtRange(m.start, m.end)),
      row('場所', [m.location, m.online_url].filter(Boolean).join(' / '))),
    h('h2', {}, '出席機関'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, '出席機関と回答'),
      h('thead', {}, h('tr', {}, ['機関', '出席', '回答', '出席者 (当日記入)'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, (m.attendees || []).map((a) => h('tr', {},
        h('th', { scope: 'row' }, a.name || a.agency), h('td', {}, a.required ? '必須' : '任意'),
        h('td', {}, partstatLabel(a.partstat)), h('td', { class: 'write-in' }, '')))))),
    h('h2', {}, '次第'),
    h('ol', { class: 'agenda' }, ['開会・出席者の確認', '事例の概要と経過の報告', '支援の方針と役割分担の協議', '次回の日程 (モニタリング)', '閉会']
      .map((t) => h('li', {}, t))),
    household);
  if (staff) {
    const box = h('input', { type: 'checkbox', id: 'with-household' });
    const label = h('label', { class: 'check', for: 'with-household' }, box, '世帯の情報 (続柄・年齢・課題) も載せる');
    household.before(h('div', { class: 'no-print field' }, label,
      h('p', { class: 'hint' }, '事務局の手元資料にだけ使ってください。出席機関に配る次第には載せません。')));
    box.addEventListener('change', async () => {
      clear(household);
      if (!box.checked) return;
      try {
        const c = await get(`/v1/cases/${encodeURIComponent(m.case)}`);
        household.append(h('h2', {}, '世帯 (事務局資料)'), h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', { class: 'visually-hidden' }, '世帯員'),
          h('thead', {}, h('tr', {}, ['続柄', '年齢', '課題'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, c.case.members.map((x) => h('tr', {}, h('th', { scope: 'row' }, x.relation),
            h('td', {}, x.age === null || x.age === undefined ? '不明' : `${x.age}歳`), h('td', {}, (x.features || []).join('、') || 'なし')))))));
      } catch (e) {
        if (e.status !== 401) household.append(notice('error', h('p', {}, e.message)));
      }
    });
  }
  add(main, h('div', { class: 'actions no-print' },
    h('button', { type: 'button', id: 'print', onclick: () => window.print() }, '印刷する')));
}
