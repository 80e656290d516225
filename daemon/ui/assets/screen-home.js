// SPDX-License-Identifier: MIT
// screen-home.js - ホーム: what needs doing now, by role, each item linking
// to where it is done (GET /v1/overview/home picks the lists by role).
//   secretariat: pending decisions, meetings in 要再調整, undeliverable mail
//                (given up, or bounced with the server's reason), and mail
//                held by an SMTP configuration error
//   coordinator: open cases without a meeting, this week's meetings,
//                overdue monitoring
//   admin:       failing calendars and accounts, and all of the above
// Agency staff get 自分の機関: their own feeds, busy week and meetings.ics
// subscription (renderOwnAgency in screen-agency.js).

import { get } from './api.js';
import { h, add, fmtDate, fmtDateTime, fmtRange, pageHeading, roleLabel, setTitle } from './ui.js';
import { isStaff } from './app.js';
import { vocabulary, agencyLabel } from './vocab.js';
import { renderOwnAgency } from './screen-agency.js';

const KIND = { request: '招待', cancel: '中止の連絡', reminder: 'リマインダー', replan: '再調整の連絡' };

export async function render(main, ctx) {
  setTitle('ホーム');
  const s = ctx.session;
  add(main, pageHeading('ホーム'));
  if (!isStaff(s)) {                  // 自分の機関 (screen-agency.js)
    await renderOwnAgency(main, ctx);
    return;
  }
  const [o, v] = await Promise.all([get('/v1/overview/home'), vocabulary()]);
  add(main, h('p', {}, '今、対応が必要なことです。'));
  const cards = h('div', { class: 'cards' });
  const card = (key, title, items, empty) => {
    if (!(key in o)) return;
    const list = o[key];
    cards.append(h('section', { class: 'card', 'aria-labelledby': `card-${key}` },
      h('h2', { id: `card-${key}` }, title, ' ', h('span', { class: 'count' }, `${list.length}件`)),
      list.length ? h('ul', {}, list.map(items)) : h('p', { class: 'empty' }, empty)));
  };
  const caseLink = (id, suffix, text) => h('a', { href: `#/cases/${encodeURIComponent(id)}${suffix || ''}` }, text);
  card('pending_decisions', '承認待ちの提案', (d) => h('li', {},
    caseLink(d.case_id, '/proposal', `事例 ${d.case_id}: ${agencyLabel(v, d.proposed_lead)} を主担当に提案`),
    ` (${fmtDateTime(d.created)})`), '承認待ちの提案はありません。');
  const meetingLink = (m, text) => h('a', { href: `#/meetings/${m.id}` }, text);
  card('replan_meetings', '要再調整の会議', (m) => h('li', {},
    meetingLink(m, `事例 ${m.case_id}: ${m.type} ${fmtRange(m.start, m.end)}`)), '要再調整の会議はありません。');
  card('dead_mail', '届かなかったメール', (m) => h('li', {},
    `${KIND[m.kind] || m.kind} → ${m.rcpt}: ${m.state === 'bounced' ? '相手のサーバーから不達の通知' : '送信をあきらめました'}`,
    m.last_error ? ` (${m.last_error})` : ''), '届かなかったメールはありません。');
  card('mail_config_errors', 'メール送信の設定エラー', (m) => h('li', {},
    `${KIND[m.kind] || m.kind} → ${m.rcpt}: 送信サーバーの設定を確認してください。直るまで再送を続けます`,
    m.last_error ? ` (${m.last_error})` : ''), '設定エラーで止まっているメールはありません。');
  card('cases_without_meeting', '会議が決まっていない事例', (c) => h('li', {},
    caseLink(c.id, '', `事例 ${c.id}${c.title ? `: ${c.title}` : ''}`), c.district ? ` (${c.district})` : ''),
    '会議が決まっていない事例はありません。');
  card('week_meetings', '今週の会議', (m) => h('li', {},
    meetingLink(m, `${fmtRange(m.start, m.end)} 事例 ${m.case_id} ${m.type}`)), '今週の会議はありません。');
  card('overdue_monitoring', 'モニタリングの期日を過ぎた事例', (m) => h('li', {},
    caseLink(m.case_id, '', `事例 ${m.case_id}: 期日 ${fmtDate(m.monitoring_date)}`)), '期日を過ぎた事例はありません。');
  card('failing_feeds', '取得に失敗しているカレンダー', (f) => h('li', {},
    h('a', { href: `#/agencies/${encodeURIComponent(f.agency)}` }, `${agencyLabel(v, f.agency)} (${f.id})`),
    f.advice ? `: ${f.advice.text}` : f.last_error ? `: ${f.last_error}` : ''), 'すべてのカレンダーを取得できています。');
  card('accounts', '対応が必要なアカウント', (u) => h('li', {},
    h('a', { href: '#/users' }, u.name), ` (${roleLabel(u.role)}): ${u.disabled ? '無効' : '初回のパスワード変更待ち'}`),
    '対応が必要なアカウントはありません。');
  add(main, cards);
  if (s.role !== 'secretariat') {
    add(main, h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/cases/new' }, '事例を登録する')));
  }
}
