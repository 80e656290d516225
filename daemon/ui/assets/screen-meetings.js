// SPDX-License-Identifier: MIT
// screen-meetings.js - 会議一覧: the meetings GET /v1/meetings returns to
// this account (staff: all of them; an agency account: only its own, and
// only those 本人's consent shares with it - the API decides, this page
// shows what it is given), soonest first, with status, case, type, time
// and how many attendees answered.  Filtering by status (予定, 要再調整,
// 中止), case and agency happens here in the page, so nothing chosen
// travels in a URL.  Also exports the words the other 会議 screens share.

import { get } from './api.js';
import { h, add, clear, field, select, fmtRange, pageHeading, setTitle } from './ui.js';
import { isStaff } from './app.js';

export const PARTSTAT_LABEL = { ACCEPTED: '出席', DECLINED: '欠席', TENTATIVE: '仮承諾', 'NEEDS-ACTION': '未回答', DELEGATED: '代理' };
export const STATUS_LABEL = { scheduled: '予定', replan: '要再調整', cancelled: '中止' };

export function partstatLabel(ps) { return PARTSTAT_LABEL[ps] || '未回答'; }

export function meetingBadge(status) {
  const cls = status === 'scheduled' ? 'ok' : status === 'replan' ? 'pending' : 'closed';
  return h('span', { class: `badge badge--${cls}` }, STATUS_LABEL[status] || status);
}

export function partstatBadge(ps) {
  const cls = ps === 'ACCEPTED' ? 'ok' : ps === 'DECLINED' ? 'error' : ps === 'TENTATIVE' ? 'pending' : 'closed';
  return h('span', { class: `badge badge--${cls}` }, partstatLabel(ps));
}

export async function render(main, ctx) {
  setTitle('会議');
  const staff = isStaff(ctx.session);
  const { meetings } = await get('/v1/meetings');
  const cases = [...new Set(meetings.map((m) => m.case))].sort();
  const agencies = new Map();
  meetings.forEach((m) => (m.attendees || []).forEach((a) => agencies.set(a.agency, a.name || a.agency)));
  const status = select([['', 'すべて'], ['scheduled', '予定'], ['replan', '要再調整'], ['cancelled', '中止']], '');
  const kase = select([['', 'すべての事例'], ...cases.map((c) => [c, `事例 ${c}`])], '');
  const agency = select([['', 'すべての機関'], ...[...agencies].sort((a, b) => a[1].localeCompare(b[1], 'ja'))], '');
  const count = h('p', { 'aria-live': 'polite', id: 'meeting-count' });
  const body = h('tbody');
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': '会議の絞り込み', onsubmit: (e) => e.preventDefault() },
    field('m-status', '状態', status), field('m-case', '事例', kase),
    staff ? field('m-agency', '出席機関', agency) : null);
  add(main, pageHeading('会議'),
    staff ? null : h('p', {}, `${ctx.session.name} さんの機関が出席する会議です。出欠は会議を開いて回答できます。`),
    filters, count,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, '会議の一覧'),
      h('thead', {}, h('tr', {}, ['会議', '日時', '状態', '事例', '種類', '回答'].map((t) => h('th', { scope: 'col' }, t)))),
      body)));

  const show = () => {
    const rows = meetings.filter((m) => (!status.value || m.status === status.value) &&
      (!kase.value || m.case === kase.value) &&
      (!agency.value || (m.attendees || []).some((a) => a.agency === agency.value)));
    clear(body).append(...rows.map((m) => {
      const atts = m.attendees || [];
      const answered = atts.filter((a) => a.partstat && a.partstat !== 'NEEDS-ACTION').length;
      const declined = atts.filter((a) => a.partstat === 'DECLINED').length;
      return h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#/meetings/${m.id}` }, `会議 ${m.id}`)),
        h('td', {}, fmtRange(m.start, m.end)),
        h('td', {}, meetingBadge(m.status)),
        h('td', {}, staff ? h('a', { href: `#/cases/${encodeURIComponent(m.case)}` }, m.case) : m.case),
        h('td', {}, m.type),
        h('td', {}, `${atts.length}機関中${answered}機関が回答`, declined ? `（欠席${declined}）` : ''));
    }));
    if (!rows.length) body.append(h('tr', {}, h('td', { colspan: '6', class: 'empty' }, '該当する会議はありません。')));
    count.textContent = `${rows.length}件の会議 (全${meetings.length}件)`;
  };
  [status, kase, agency].forEach((el) => el.addEventListener('change', show));
  show();
}
