// SPDX-License-Identifier: MIT
// screen-cases.js - 事例一覧: every case with its district, current lead,
// next meeting and pending proposal (GET /v1/overview/cases).  Filtering
// by status, district and text happens here in the page, so the words
// searched for never travel in a URL or reach the server's log.

import { get } from './api.js';
import { h, add, clear, field, select, fmtRange, pageHeading, setTitle } from './ui.js';
import { vocabulary, agencyLabel } from './vocab.js';

export async function render(main) {
  setTitle('事例一覧');
  const [{ cases }, v] = await Promise.all([get('/v1/overview/cases'), vocabulary()]);
  const status = select([['open', '支援中'], ['closed', '終結'], ['', 'すべて']], 'open');
  const district = select([['', 'すべての地区'], ...v.districts.map((d) => [d, d])], '');
  const text = h('input', { type: 'search', autocomplete: 'off' });
  const count = h('p', { 'aria-live': 'polite', id: 'case-count' });
  const body = h('tbody');
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': '事例の絞り込み', onsubmit: (e) => e.preventDefault() },
    field('f-status', '状態', status), field('f-district', '地区', district),
    field('f-text', '事例ID・件名で探す', text));
  add(main, pageHeading('事例一覧'),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/cases/new' }, '事例を登録する')),
    filters, count,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, '事例の一覧'),
      h('thead', {}, h('tr', {}, ['事例ID', '件名', '地区', '状態', '主担当', '次の会議', '提案'].map((t) => h('th', { scope: 'col' }, t)))),
      body)));

  const show = () => {
    const q = text.value.trim().toLowerCase();
    const rows = cases.filter((c) => (!status.value || c.status === status.value) &&
      (!district.value || c.district === district.value) &&
      (!q || c.id.toLowerCase().includes(q) || (c.title || '').toLowerCase().includes(q)));
    clear(body).append(...rows.map((c) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id)),
      h('td', {}, c.title || '—'), h('td', {}, c.district || '—'),
      h('td', {}, h('span', { class: `badge ${c.status === 'open' ? 'badge--ok' : 'badge--closed'}` }, c.status === 'open' ? '支援中' : '終結')),
      h('td', {}, c.lead ? agencyLabel(v, c.lead) : '未決定'),
      h('td', {}, c.next_meeting ? fmtRange(c.next_meeting.start, c.next_meeting.end) : 'なし'),
      h('td', {}, c.pending_decision ? h('a', { href: `#/cases/${encodeURIComponent(c.id)}/proposal` }, '承認待ち') : '—'))));
    count.textContent = `${rows.length}件の事例 (全${cases.length}件)`;
  };
  [status, district].forEach((el) => el.addEventListener('change', show));
  text.addEventListener('input', show);
  show();
}
