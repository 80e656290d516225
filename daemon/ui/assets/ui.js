// SPDX-License-Identifier: MIT
// ui.js - small DOM helpers shared by the screens: an element builder that
// only ever sets text (never innerHTML, so nothing from the API is read as
// markup), Japanese date formats (12月8日(火) 12:30〜14:00), the error
// summary + per-field messages of DADS / GOV.UK, and the live region.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'required' || k === 'readOnly' || k === 'multiple') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Append children to el, skipping null/false and flattening arrays.
export function add(el, ...children) { append(el, children); return el; }

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

const WD = ['日', '月', '火', '水', '木', '金', '土'];
// Parts of an ISO-8601 time as the city's wall clock (the API gives the
// offset; the reading does not depend on the PC's own time zone).
function parts(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso || '');
  if (!m) return null;
  const wd = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
  return { y: +m[1], mo: +m[2], d: +m[3], hh: m[4], mm: m[5], wd: WD[wd] };
}
export function fmtDate(iso) {
  const p = parts(iso);
  return p ? `${p.mo}月${p.d}日(${p.wd})` : '';
}
export function fmtDateTime(iso) {
  const p = parts(iso);
  return p ? `${p.mo}月${p.d}日(${p.wd}) ${p.hh}:${p.mm}` : '';
}
export function fmtRange(start, end) {
  const a = parts(start), b = parts(end);
  if (!a) return '';
  const tail = b ? (a.y === b.y && a.mo === b.mo && a.d === b.d ? `${b.hh}:${b.mm}` : fmtDateTime(end)) : '';
  return `${fmtDateTime(start)}〜${tail}`;
}

export function announce(msg) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = msg; }, 50);
}

export function setTitle(t) { document.title = t ? `${t} | つなぐ` : 'つなぐ'; }

// A page heading that receives focus after navigation, so a screen reader
// announces the new screen.
export function pageHeading(text) {
  return h('h1', { tabindex: '-1', id: 'page-heading' }, text);
}

// ---- errors -------------------------------------------------------------

export function clearErrors(root) {
  root.querySelectorAll('.field-error').forEach((e) => e.remove());
  root.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const ids = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
    if (ids.length) e.setAttribute('aria-describedby', ids.join(' ')); else e.removeAttribute('aria-describedby');
  });
  root.querySelectorAll('.error-summary').forEach((e) => e.remove());
}

// Show message next to the field whose control has id; the control is
// marked invalid and described by the message.
export function fieldError(id, message) {
  const ctl = document.getElementById(id);
  if (!ctl) return false;
  const errId = `${id}-error`;
  const p = h('p', { class: 'field-error', id: errId }, message);
  const box = ctl.closest('.field') || ctl.parentElement;
  const label = box.querySelector(':scope > label, :scope > legend, :scope > .hint:last-of-type');
  if (label && label.nextSibling) box.insertBefore(p, label.nextSibling);
  else box.insertBefore(p, box.firstChild);
  const target = ctl.matches('input,select,textarea') ? ctl : ctl.querySelector('input,select,textarea');
  if (target) {
    target.setAttribute('aria-invalid', 'true');
    const ids = (target.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    target.setAttribute('aria-describedby', [...ids, errId].join(' '));
  }
  return true;
}

// The summary at the top: errors = [{id, message}]; links move focus to
// the field.  Focused so that it is read first.
export function errorSummary(container, errors, title) {
  const box = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, title || '入力内容を確認してください'),
    h('ul', {}, errors.map((e) => h('li', {}, e.id && document.getElementById(e.id)
      ? h('a', { href: `#${e.id}`, onclick: (ev) => { ev.preventDefault(); focusField(e.id); } }, e.message)
      : e.message))));
  container.prepend(box);
  box.focus();
  return box;
}

// A form that is checked, then sent.  On submit: check() returns the
// errors [{id, message}] found before sending; with none, send() runs;
// when it throws, apiError(e) turns the ApiError into one more {id,
// message} (a 401 shows nothing: the app is on its way to ログイン).
// Errors are shown beside their fields and in the summary.
export function checkedForm(form, check, send, apiError) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const errs = check();
    if (!errs.length) {
      try {
        await send();
        return;
      } catch (e) {
        if (e.status === 401) return;
        errs.push(apiError(e));
      }
    }
    errs.forEach((e) => e.id && fieldError(e.id, e.message));
    errorSummary(form, errs);
  });
}

export function focusField(id) {
  const el = document.getElementById(id);
  if (!el) return;
  const t = el.matches('input,select,textarea,button') ? el : el.querySelector('input,select,textarea,button') || el;
  t.focus();
  t.scrollIntoView({ block: 'center' });
}

// A notice block (role=status, or alert for errors).
export function notice(kind, ...content) {
  return h('div', { class: `notice notice--${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...content);
}

export function errorNotice(err) {
  return notice('error', h('p', {}, err.message || String(err)));
}

// ---- form bits ------------------------------------------------------------

// <div class=field><label for=id>label [必須]</label><p hint>…</p>control</div>
export function field(id, label, control, opts = {}) {
  const hintId = opts.hint ? `${id}-hint` : null;
  if (hintId) {
    const ids = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    control.setAttribute('aria-describedby', [hintId, ...ids].join(' '));
  }
  control.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label, opts.required ? h('span', { class: 'req' }, '必須') : null),
    opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null,
    control);
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
}

export const ROLE_LABEL = {
  admin: '管理者', coordinator: 'コーディネーター', secretariat: '事務局',
};
export function roleLabel(role) {
  if (!role) return '';
  if (role.startsWith('agency:')) return `機関職員 (${role.slice(7)})`;
  return ROLE_LABEL[role] || role;
}

// Who did something, as the API records it in the audit trail (api_actor:
// "suzuki (secretariat)", "kodomo1 (agency:kodomo)", a token's "admin
// (夜間連携)", or "admin (config)" for the ADMIN_TOKEN of the daemon's
// configuration), with the role in Japanese for the screen: "suzuki
// (事務局)", "kodomo1 (機関職員: kodomo)", "管理者 (夜間連携)" and
// 「管理者（サーバー設定の管理用キー）」.  The record itself keeps the
// role ids.
const ROLE_ID = '(?:admin|coordinator|secretariat|agency:[^\\s()]+)';
const CONFIG_ADMIN = '管理者（サーバー設定の管理用キー）';
export function actorLabel(actor) {
  const s = String(actor || '');
  if (s === 'admin (config)') return CONFIG_ADMIN;
  const ja = (r) => (r.startsWith('agency:') ? `機関職員: ${r.slice(7)}` : ROLE_LABEL[r]);
  let m = new RegExp(`^(.+) \\((${ROLE_ID})\\)$`).exec(s);
  if (m) return `${m[1]} (${ja(m[2])})`;
  m = new RegExp(`^(${ROLE_ID})( \\(.*\\))?$`).exec(s);
  return m ? `${ja(m[1])}${m[2] || ''}` : s;
}

export const STATUS_LABEL = { pending: '承認待ち', approved: '承認済み', overridden: '変更して承認' };
export function statusBadge(status) {
  const cls = status === 'pending' ? 'pending' : status === 'approved' ? 'ok' : 'override';
  return h('span', { class: `badge badge--${cls}` }, STATUS_LABEL[status] || status);
}

// ---- a message for the next screen (e.g. "登録しました") -------------------
let flash = null;
export function setFlash(node) { flash = node; }
export function takeFlash() { const f = flash; flash = null; return f; }
