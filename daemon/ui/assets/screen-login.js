// SPDX-License-Identifier: MIT
// screen-login.js - ログイン.  Name and password, POST /v1/session.  The
// API gives one answer for every failed attempt (never whether the
// account exists) and answers it slowly; the button is disabled while
// waiting so a second click does not count as another failure.

import { post, ApiError } from './api.js';
import { h, add, field, clearErrors, fieldError, errorSummary, notice, pageHeading, setTitle } from './ui.js';
import { loggedIn } from './app.js';

export async function render(main, ctx) {
  setTitle('ログイン');
  const name = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'ログイン');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'page-heading' },
    field('login-name', 'アカウント名', name, { required: true }),
    field('login-password', 'パスワード', pw, { required: true }),
    h('div', { class: 'actions' }, button));
  add(main, pageHeading('ログイン'));
  if (ctx.expired) {
    add(main, notice('warn', h('p', {}, '一定時間操作がなかったため、ログインが切れました。もう一度ログインしてください。'),
      h('p', {}, 'ログインすると、入力中だった画面に戻ります。')));
  } else if (ctx.loggedOut) {
    add(main, notice('ok', h('p', {}, 'ログアウトしました。')));
  }
  add(main, h('p', {}, '管理者から渡されたアカウント名とパスワードを入力してください。'), form);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const errors = [];
    if (!name.value.trim()) errors.push({ id: 'login-name', message: 'アカウント名を入力してください' });
    if (!pw.value) errors.push({ id: 'login-password', message: 'パスワードを入力してください' });
    if (errors.length) {
      errors.forEach((e) => fieldError(e.id, e.message));
      errorSummary(form, errors);
      return;
    }
    button.disabled = true;
    button.textContent = '確認しています…';
    try {
      const s = await post('/v1/session', { name: name.value.trim(), password: pw.value });
      pw.value = '';
      loggedIn(s);
    } catch (e) {
      button.disabled = false;
      button.textContent = 'ログイン';
      const msg = e instanceof ApiError && e.code === 'login-failed'
        ? 'アカウント名またはパスワードが違います。続けて間違えると、次に試せるまでの時間が長くなります。'
        : e.message;
      errorSummary(form, [{ id: 'login-password', message: msg }], 'ログインできませんでした');
      pw.value = '';
    }
  });
}
