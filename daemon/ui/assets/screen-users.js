// SPDX-License-Identifier: MIT
// screen-users.js - アカウント (admin): the accounts, a form to add one,
// and per account 再発行 (a new initial password; sessions end) and
// 無効にする / 有効にする.  A new or reset password is shown once, here,
// to be handed to the person, who must change it at the first login.

import { get, post, enc } from './api.js';
import { h, add, clear, field, select, notice, pageHeading, roleLabel, setTitle, fmtDateTime,
         checkedForm } from './ui.js';
import { vocabulary } from './vocab.js';

function secretNotice(name, password, what) {
  return notice('ok', h('p', {}, `${name} の${what}。次の初期パスワードを本人に安全な方法で渡してください。この画面を離れると二度と表示されません。`),
    h('p', {}, '初期パスワード: ', h('span', { class: 'secret', id: 'initial-password' }, password)),
    h('p', {}, '最初のログインでパスワードの変更を求められます。'));
}

export async function render(main, ctx) {
  setTitle('アカウント');
  const [{ users }, v] = await Promise.all([get('/v1/users'), vocabulary()]);
  const status = h('div', { tabindex: '-1', id: 'users-status' });
  const redraw = async (msg) => { await render(clear(main), ctx); if (msg) { const s = main.querySelector('#users-status'); s.append(msg); s.focus(); } };
  add(main, pageHeading('アカウント'), status,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', {}, 'アカウントの一覧'),
      h('thead', {}, h('tr', {}, ['アカウント名', '役割', '状態', '最後のログイン', '操作'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, users.map((u) => {
        const reset = h('button', { type: 'button', class: 'secondary', 'aria-label': `${u.name} のパスワードを再発行` }, '再発行');
        reset.addEventListener('click', async () => {
          const r = await post(`/v1/users/${enc(u.name)}/reset`);
          redraw(secretNotice(u.name, r.password, 'パスワードを再発行しました'));
        });
        const toggle = h('button', { type: 'button', class: u.disabled ? 'secondary' : 'danger', 'aria-label': `${u.name} を${u.disabled ? '有効' : '無効'}にする` }, u.disabled ? '有効にする' : '無効にする');
        toggle.addEventListener('click', async () => {
          await post(`/v1/users/${enc(u.name)}/${u.disabled ? 'enable' : 'disable'}`);
          redraw(notice('ok', h('p', {}, `${u.name} を${u.disabled ? '有効' : '無効'}にしました。`)));
        });
        return h('tr', {}, h('th', { scope: 'row' }, u.name), h('td', {}, roleLabel(u.role)),
          h('td', {}, u.disabled ? '無効' : u.must_change ? '初回のパスワード変更待ち' : '有効'),
          h('td', {}, u.last_login ? fmtDateTime(u.last_login) : 'なし'),
          h('td', {}, h('div', { class: 'actions' }, reset, toggle)));
      })))));

  const name = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const role = select([['', '選んでください'], ['coordinator', 'コーディネーター'], ['secretariat', '事務局'],
    ['admin', '管理者'], ...v.agencies.map((a) => [`agency:${a.id}`, `機関職員: ${a.name}`])], '');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'add-heading' },
    h('h2', { id: 'add-heading' }, 'アカウントを追加する'),
    field('user-name', 'アカウント名', name, { required: true, hint: '半角英数字と . _ - で63文字まで (例: tanaka.h)。' }),
    field('user-role', '役割', role, { required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'add-user' }, '追加する')));
  add(main, form);
  checkedForm(form, () => {
    const errs = [];
    if (!name.value.trim()) errs.push({ id: 'user-name', message: 'アカウント名を入力してください' });
    if (!role.value) errs.push({ id: 'user-role', message: '役割を選んでください' });
    return errs;
  }, async () => {
    const r = await post('/v1/users', { name: name.value.trim(), role: role.value });
    redraw(secretNotice(r.name, r.password, 'アカウントを作成しました'));
  }, (e) => ({ id: e.field === 'role' ? 'user-role' : 'user-name', message: e.message }));
}
