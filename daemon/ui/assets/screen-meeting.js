// SPDX-License-Identifier: MIT
// screen-meeting.js - one meeting (GET /v1/meetings/{id}): when, where,
// its status, and each attendee's answer (出席/欠席/仮承諾/未回答) with when
// it came.  Staff also see, from the same reply, the delivery of every
// mail of the meeting (queued, sent, failed and waiting to retry, dead
// letter, bounced, each with the reason in Japanese), the meeting's
// history (booked, answers, 要再調整, each new SEQUENCE, cancellation,
// with who), and for a 要再調整 meeting who declined and the suggestions
// mailed to the secretariat, each with a button that opens the 日程調整
// grid with it held (screen-schedule.js preselect; 確認 still follows).  Staff actions, each confirmed first:
// reschedule (to the 日程調整 grid in its reschedule mode) and cancel.
// An agency account answers for its own agency here (POST
// /v1/meetings/{id}/answer), also after a confirmation step.  A meeting
// the API does not show this account is "not found", whatever the reason.

import { get, post } from './api.js';
import { h, add, clear, notice, pageHeading, setTitle, fmtDateTime, fmtRange, setFlash, takeFlash,
         clearErrors, fieldError, errorSummary, actorLabel } from './ui.js';
import { isStaff } from './app.js';
import { partstatLabel, partstatBadge, meetingBadge } from './screen-meetings.js';
import { preselect } from './screen-schedule.js';

const row = (k, val) => [h('dt', {}, k), h('dd', {}, val === null || val === undefined || val === '' ? '—' : val)];

function table(caption, heads, rows, id) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

// A confirmation step in place: the question, a primary button that does
// it, and one that goes back.  Focus moves to the question.
function confirmBox(box, title, text, okLabel, onOk, danger) {
  const ok = h('button', { type: 'button', class: danger ? 'danger' : null, id: 'confirm-ok' }, okLabel);
  const back = h('button', { type: 'button', class: 'secondary', id: 'confirm-back' }, 'やめる');
  const status = h('div');
  clear(box).append(h('section', { class: 'notice notice--warn confirm', 'aria-labelledby': 'confirm-title' },
    h('h2', { id: 'confirm-title', tabindex: '-1' }, title), h('p', {}, text), status,
    h('div', { class: 'actions' }, ok, back)));
  back.addEventListener('click', () => clear(box));
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    try {
      await onOk();
    } catch (e) {
      ok.disabled = false;
      if (e.status === 401) return;
      clear(status).append(h('div', { class: 'notice notice--error', role: 'alert', tabindex: '-1' }, h('p', {}, e.message)));
      status.firstChild.focus();
    }
  });
  box.querySelector('#confirm-title').focus();
}

function answerForm(m, mine, box, ctx) {
  const choices = [['ACCEPTED', '出席する'], ['DECLINED', '欠席する'], ['TENTATIVE', '仮承諾 (まだ確定できない)']];
  const confirm = h('div');
  const fs = h('fieldset', { id: 'answer-choice' }, h('legend', {}, `${mine.name || mine.agency} としての回答`),
    h('p', { class: 'hint', id: 'answer-hint' }, `いまの回答: ${partstatLabel(mine.partstat)}。回答は ${ctx.session.name} さんの名前で記録されます。`),
    choices.map(([v, t]) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'answer', value: v, checked: mine.partstat === v, 'aria-describedby': 'answer-hint' }), t)));
  const form = h('form', { novalidate: true, 'aria-labelledby': 'answer-heading' },
    h('h2', { id: 'answer-heading' }, '出欠の回答'), h('div', { class: 'field' }, fs),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'answer-next' }, '確認へ進む')), confirm);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    clear(confirm);
    const picked = form.querySelector('input[name=answer]:checked');
    if (!picked) {
      const message = '出席・欠席・仮承諾のどれかを選んでください';
      fieldError('answer-choice', message);
      errorSummary(form, [{ id: 'answer-choice', message }]);
      return;
    }
    const ps = picked.value;
    confirmBox(confirm, `「${partstatLabel(ps)}」と回答しますか`,
      ps === 'DECLINED' && mine.required
        ? 'この会議の必須の出席機関です。欠席と回答すると会議は「要再調整」になり、事務局が日程を調整し直します。'
        : `${fmtRange(m.start, m.end)} の会議に「${partstatLabel(ps)}」と回答します。`,
      'この内容で回答する', async () => {
        await post(`/v1/meetings/${m.id}/answer`, { partstat: ps });
        setFlash(notice('ok', h('p', {}, `「${partstatLabel(ps)}」と回答しました。`)));
        ctx.navigate(`#/meetings/${m.id}`);
      });
  });
  box.append(form);
}

export async function render(main, ctx) {
  const id = ctx.params[0];
  setTitle(`会議 ${id}`);
  const staff = isStaff(ctx.session);
  add(main, pageHeading(`会議 ${id}`));
  const flash = takeFlash();
  if (flash) add(main, flash);
  let m;
  try {
    m = await get(`/v1/meetings/${id}`);
  } catch (e) {
    if (e.status === 401) return;
    add(main, notice('error', h('p', {}, e.status === 404 ? 'この会議は見つからないか、閲覧できません。' : e.message)),
      h('p', {}, h('a', { href: '#/meetings' }, '会議の一覧へ戻る')));
    return;
  }
  const atts = m.attendees || [];
  add(main, h('dl', { class: 'summary' },
    row('状態', meetingBadge(m.status)),
    row('事例', staff ? h('a', { href: `#/cases/${encodeURIComponent(m.case)}` }, `事例 ${m.case}`) : `事例 ${m.case}`),
    row('会議の種類', m.type), row('日時', fmtRange(m.start, m.end)),
    row('場所', m.location), row('オンラインのURL', m.online_url),
    row('版 (SEQUENCE)', `${m.sequence} (日時を変えるたびに1つ増えます)`),
    staff ? row('事務局のメモ', m.note) : null));

  if (staff && m.status === 'replan' && m.replan) {
    const r = m.replan;
    add(main, h('section', { class: 'notice notice--warn', 'aria-labelledby': 'replan-heading', id: 'replan' },
      h('h2', { id: 'replan-heading' }, '要再調整: 日程を決め直してください'),
      (r.declined || []).length ? h('p', {}, `欠席と回答した機関: ${r.declined.map((d) => `${d.name}${d.required ? ' (必須)' : ''}`).join('、')}`) : null,
      r.message ? h('p', {}, r.message) : null,
      (r.suggestions || []).length ? [h('h3', {}, '事務局にメールした候補'),
        h('ol', { class: 'cand-list' }, r.suggestions.map((s, i) => {
          const text = typeof s === 'string' ? s : s.text;    // {start, end, text}; text only before the times were kept
          return h('li', {}, `${text} `,
            h('button', { type: 'button', class: 'secondary', 'aria-label': `候補${i + 1} (${text}): この候補で日時を変更する`,
              onclick: () => { preselect(id, s); location.hash = `#/meetings/${id}/reschedule`; } }, 'この候補で日時を変更する'));
        }))] : null,
      h('p', {}, h('a', { class: 'button', href: `#/meetings/${id}/reschedule` }, '日程調整で日時を変更する'))));
  }

  const mine = !staff && atts.find((a) => a.agency === (ctx.session.role || '').replace(/^agency:/, ''));
  if (mine && m.status !== 'cancelled') answerForm(m, mine, main, ctx);

  add(main, h('h2', {}, '出席機関と回答'), table('出席機関と回答', staff ? ['機関', '出席', '回答', '回答した日時', '回答者'] : ['機関', '出席', '回答', '回答した日時'],
    atts.map((a) => h('tr', {},
      h('th', { scope: 'row' }, a.name || a.agency), h('td', {}, a.required ? '必須' : '任意'),
      h('td', {}, partstatBadge(a.partstat)), h('td', {}, a.replied_at ? fmtDateTime(a.replied_at) : '—'),
      staff ? h('td', {}, a.replied_by ? actorLabel(a.replied_by) : (a.replied_at ? '出欠リンク' : '—')) : null)), 'attendees'));

  if (staff) {
    const dl = m.delivery || [];
    add(main, h('h2', {}, 'メールの送信状況'),
      dl.length ? table('メールの送信状況', ['宛先', '種類', '状態', '説明', '作成'],
        dl.map((d) => h('tr', { class: d.state === 'dead' || d.state === 'bounced' ? 'row-error' : null },
          h('th', { scope: 'row' }, d.name, h('br'), h('span', { class: 'hint' }, d.rcpt)),
          h('td', {}, d.kind_label),
          h('td', {}, h('span', { class: `badge ${d.state === 'sent' ? 'badge--ok' : d.state === 'dead' || d.state === 'bounced' ? 'badge--error' : 'badge--pending'}` }, d.state_label)),
          h('td', {}, d.reason, d.detail ? h('span', { class: 'hint' }, h('br'), `詳細: ${d.detail}`) : null),
          h('td', {}, fmtDateTime(d.created)))), 'delivery')
        : h('p', { class: 'empty' }, 'この会議のメールはまだありません。'),
      h('h2', {}, '変更の履歴'),
      (m.history || []).length ? table('変更の履歴', ['日時', '出来事', '操作した人'],
        m.history.map((x) => h('tr', {}, h('td', {}, fmtDateTime(x.at)),
          h('td', {}, String(x.detail || '').split('\n').map((line, i) => (i ? [h('br'), line] : line))),
          h('td', {}, actorLabel(x.actor)))), 'history')
        : h('p', { class: 'empty' }, '履歴はありません。'));
  }

  const actions = h('div', { class: 'actions' });
  const confirm = h('div');
  if (staff && m.status !== 'cancelled') {
    actions.append(h('a', { class: 'button button--secondary', href: `#/meetings/${id}/reschedule` }, '日時を変更する'));
    const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-meeting' }, 'この会議を中止する');
    cancel.addEventListener('click', () => confirmBox(confirm, `会議 ${id} を中止しますか`,
      `${fmtRange(m.start, m.end)} の${m.type}を中止し、出席機関に中止のお知らせ (iCalendar CANCEL) をメールで送ります。元に戻すことはできません。`,
      '中止する', async () => {
        await post(`/v1/meetings/${id}/cancel`);
        setFlash(notice('ok', h('p', {}, `会議 ${id} を中止しました。出席機関に通知します。`)));
        ctx.navigate(`#/meetings/${id}`);
      }, true));
    actions.append(cancel);
  }
  actions.append(h('a', { class: 'button button--secondary', href: `#/meetings/${id}/print` }, '会議次第を表示・印刷'));
  add(main, actions, confirm, h('p', {}, h('a', { href: '#/meetings' }, '会議の一覧へ戻る')));
}
