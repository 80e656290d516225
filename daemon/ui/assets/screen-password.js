// SPDX-License-Identifier: MIT
// screen-password.js - パスワードの変更.  Required at the first login
// (and after a reset): until it is done the API refuses everything else.
// The API's field errors (current / new) are shown next to their field.

import { post } from './api.js';
import { h, add, field, checkedForm, notice, pageHeading, setTitle } from './ui.js';
import { passwordChanged } from './app.js';

export async function render(main, ctx) {
  setTitle('パスワードの変更');
  const first = ctx.session && ctx.session.must_change;
  const cur = h('input', { type: 'password', autocomplete: 'current-password' });
  const fresh = h('input', { type: 'password', autocomplete: 'new-password', minlength: '10' });
  const again = h('input', { type: 'password', autocomplete: 'new-password' });
  const form = h('form', { novalidate: true },
    field('pw-current', first ? '渡されたパスワード' : '現在のパスワード', cur, { required: true }),
    field('pw-new', '新しいパスワード', fresh, { required: true,
      hint: '10文字以上。アカウント名を含めないでください。長い文やことばの組み合わせが安全です。' }),
    field('pw-again', '新しいパスワード (確認のためもう一度)', again, { required: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'パスワードを変更する')));
  add(main, pageHeading('パスワードの変更'));
  if (first) add(main, notice('info', h('p', {}, '最初に、ご自分だけが知っているパスワードに変更してください。')));
  add(main, form);
  checkedForm(form, () => {
    const errors = [];
    if (!cur.value) errors.push({ id: 'pw-current', message: 'パスワードを入力してください' });
    if ([...fresh.value].length < 10) errors.push({ id: 'pw-new', message: '新しいパスワードは10文字以上にしてください' });
    else if (fresh.value !== again.value) errors.push({ id: 'pw-again', message: '確認のパスワードが一致しません' });
    return errors;
  }, async () => {
    await post('/v1/session/password', { current: cur.value, new: fresh.value });
    passwordChanged();
  }, (e) => ({ id: e.field === 'current' ? 'pw-current' : e.field === 'new' ? 'pw-new' : null, message: e.message }));
}
