// SPDX-License-Identifier: MIT
// screen-case.js - one case: its household, status, lead and supports,
// with the ways on: edit, ask for a lead proposal, 提案と承認.  An agency
// account sees a case only when the API lets it (lead or support, with
// 本人's consent); otherwise the API's refusal is shown as it is.

import { get, post, enc } from './api.js';
import { h, add, clear, notice, pageHeading, setTitle, takeFlash, fmtDateTime } from './ui.js';
import { isStaff } from './app.js';
import { vocabulary, agencyLabel } from './vocab.js';

export async function render(main, ctx) {
  const id = ctx.params[0];
  setTitle(`事例 ${id}`);
  const staff = isStaff(ctx.session);
  const flash = takeFlash();
  add(main, pageHeading(`事例 ${id}`));
  if (flash) add(main, flash);
  let c;
  try {
    c = await get(`/v1/cases/${enc(id)}`);
  } catch (e) {
    if (e.status === 401) return;
    add(main, notice('error', h('p', {}, e.message)), h('p', {}, h('a', { href: staff ? '#/cases' : '#/' }, '戻る')));
    return;
  }
  const v = staff ? await vocabulary() : null;
  const name = (a) => (v ? agencyLabel(v, a) : a);
  const doc = c.case;
  const status = h('div');
  const row = (k, val) => [h('dt', {}, k), h('dd', {}, val === null || val === undefined || val === '' ? '—' : val)];
  add(main, 
    h('dl', { class: 'summary' },
      row('状態', c.status === 'open' ? '支援中' : `終結 (${fmtDateTime(c.closed_at)})`),
      row('件名', doc.title), row('地区', doc.district), row('会議の種類', doc.meeting_type),
      row('主担当', c.lead ? name(c.lead) : '未決定'),
      row('支援機関', (c.supports || []).map(name).join('、') || 'なし'),
      row('最初の相談窓口', doc.first_contact ? name(doc.first_contact) : 'なし'),
      row('関わっている機関', (doc.involved || []).map(name).join('、') || 'なし'),
      row('緊急', doc.urgent ? 'はい' : 'いいえ'),
      row('世帯の課題', (doc.features || []).join('、') || 'なし'),
      row('更新', fmtDateTime(c.updated))),
    h('h2', {}, '世帯員'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, '世帯員'),
      h('thead', {}, h('tr', {}, ['続柄', '年齢', '課題', '同意', '情報を共有しない機関'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, doc.members.map((m) => h('tr', {},
        h('th', { scope: 'row' }, m.relation), h('td', {}, m.age === null ? '不明' : `${m.age}歳`),
        h('td', {}, (m.features || []).join('、') || 'なし'), h('td', {}, m.consent ? '同意している' : '同意していない'),
        h('td', {}, (m.consent_excludes || []).map(name).join('、') || 'なし')))))),
    status);
  if (!staff) return;
  const actions = h('div', { class: 'actions' });
  if (c.status === 'open') {
    const propose = h('button', { type: 'button', id: 'propose' }, '主担当の提案を作る');
    propose.addEventListener('click', async () => {
      propose.disabled = true;
      try {
        await post(`/v1/cases/${enc(id)}/proposals`);
        ctx.navigate(`#/cases/${enc(id)}/proposal`);
      } catch (e) {
        propose.disabled = false;
        if (e.status === 401) return;
        clear(status).append(proposalError(e));
        status.querySelector('[role=alert]').focus();
      }
    });
    actions.append(h('a', { class: 'button button--secondary', href: `#/cases/${enc(id)}/edit` }, '編集する'), propose);
  }
  actions.append(h('a', { class: 'button button--secondary', href: `#/cases/${enc(id)}/proposal` }, '提案と承認を見る'));
  if (c.lead && c.status === 'open') actions.append(h('a', { class: 'button button--secondary', href: `#/cases/${enc(id)}/schedule` }, '日程調整'));
  add(main, actions);
}

// A refused proposal (422 consent-required, no-candidate, …): the API's
// own words, which already name the next step, plus its explanation.
export function proposalError(e) {
  const text = e.body && e.body.text;
  return h('div', { class: 'notice notice--error', role: 'alert', tabindex: '-1' },
    h('h2', {}, '主担当を提案できませんでした'),
    h('p', {}, e.message),
    e.code ? h('p', {}, `(理由の種類: ${e.code})`) : null,
    text && text !== e.message ? h('details', {}, h('summary', {}, '検討の経過を読む'), h('p', {}, text)) : null);
}
