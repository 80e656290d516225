// SPDX-License-Identifier: MIT
// screen-case-edit.js - 事例の登録と編集, in two steps: the form, then a
// 「確認」 page that shows everything before it is saved (GOV.UK's "check
// your answers").  Saving is one POST /v1/cases (new) or PUT (edit): the
// API validates the whole case, so nothing is half-saved.  Its field
// errors ("members[1].relation: …") are mapped back to the field's id
// (f-members-1-relation) and shown there and in the summary at the top.
// Features come from the vocabulary the loaded rules know; another word is
// allowed and marked with the same warning the API gives.  If the session
// expires, keepDraft hands the form's content to the app, which restores
// it after the next login.

import { get, post, put, enc } from './api.js';
import { h, add, clear, field, select, clearErrors, fieldError, errorSummary, notice, pageHeading,
         setTitle, setFlash, focusField } from './ui.js';
import { vocabulary, agencyLabel } from './vocab.js';

const LABEL = { id: '事例ID', title: '件名', district: '地区', meeting_type: '会議の種類',
  first_contact: '最初の相談窓口', involved: '関わっている機関', urgent: '緊急', features: '世帯の課題',
  relation: '続柄', age: '年齢', consent: '同意', consent_excludes: '情報を共有しない機関' };

const EMPTY_MEMBER = () => ({ relation: '', age: null, features: [], consent: false, consent_excludes: [] });
const EMPTY_CASE = () => ({ id: '', title: '', district: '', meeting_type: '重層的支援会議', first_contact: null,
  involved: [], urgent: false, features: [], members: [{ ...EMPTY_MEMBER(), relation: '本人' }] });

// "members[1].features[0]" -> {id: "f-members-1-features", label: "世帯員2の課題"}
export function errorTarget(path) {
  const id = 'f-' + path.replace(/\[(\d+)\]/g, '-$1').replace(/\./g, '-');
  const m = /^members\[(\d+)\]\.(\w+)/.exec(path);
  const label = m ? `世帯員${+m[1] + 1}の${LABEL[m[2]] || m[2]}` : LABEL[path.replace(/\[.*$/, '')] || path;
  const ids = [id, id.replace(/-\d+$/, '')];
  return { ids, label };
}

function chipInput(id, values, known, label, hint) {
  const list = h('ul', { class: 'chips', 'aria-label': `${label}の一覧` });
  const warn = h('div', { 'aria-live': 'polite' });
  const input = h('input', { type: 'text', list: 'feature-words', autocomplete: 'off' });
  const items = [...values];
  const draw = () => {
    clear(list).append(...items.map((w, i) => h('li', { class: known.includes(w) ? '' : 'unknown' }, w,
      h('button', { type: 'button', 'aria-label': `${w} を外す`, onclick: () => { items.splice(i, 1); draw(); input.focus(); } }, '×'))));
    clear(warn).append(...items.filter((w) => !known.includes(w)).map((w) =>
      h('p', { class: 'field-warning' }, `「${w}」はルールが知らない課題です。誤字でなければ、このまま登録できます。`)));
  };
  const add = () => {
    const w = input.value.trim();
    if (w && !items.includes(w)) items.push(w);
    input.value = '';
    draw();
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } });
  input.id = id;
  if (hint) input.setAttribute('aria-describedby', `${id}-hint`);
  const box = h('div', { class: 'field' }, h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('div', { class: 'chip-add' }, input,
      h('button', { type: 'button', class: 'secondary', onclick: add, 'aria-label': `${label}に追加` }, '追加')),
    list, warn);
  draw();
  return { el: box, values: () => { if (input.value.trim()) add(); return [...items]; } };
}

function agencyChecks(id, legend, selected, agencies, hint) {
  const boxes = agencies.map((a) => h('input', { type: 'checkbox', value: a.id, checked: selected.includes(a.id) }));
  const fs = h('fieldset', { id, class: 'field' }, h('legend', {}, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('div', { class: 'grid-checks' }, agencies.map((a, i) => h('label', { class: 'check' }, boxes[i], a.name))));
  return { el: fs, values: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

function memberBlock(i, m, v, onRemove) {
  const p = `f-members-${i}`;
  const rel = select([['', '選んでください'], ...v.relations.map((r) => [r, r])], m.relation || '');
  const age = h('input', { type: 'number', min: '0', max: '130', inputmode: 'numeric', value: m.age === null || m.age === undefined ? '' : String(m.age) });
  const feats = chipInput(`${p}-features`, m.features || [], v.features, '課題', '候補から選ぶか入力して「追加」を押してください。');
  const consent = h('input', { type: 'checkbox', id: `${p}-consent`, checked: !!m.consent });
  const excl = agencyChecks(`${p}-consent_excludes`, '情報を共有しない機関', m.consent_excludes || [], v.agencies,
    'この人が情報の共有を断っている機関を選びます。');
  const details = h('details', { open: (m.consent_excludes || []).length > 0 }, h('summary', {}, `情報を共有しない機関 (${(m.consent_excludes || []).length}件)`), excl.el);
  const fs = h('fieldset', { class: 'member', id: `${p}` },
    h('legend', {}, `世帯員 ${i + 1}`),
    field(`${p}-relation`, '続柄 (本人から見て)', rel, { required: true }),
    field(`${p}-age`, '年齢', age, { hint: 'わからなければ空欄にします。' }),
    feats.el,
    h('div', { class: 'field' }, h('label', { class: 'check' }, consent, '情報共有に同意している')),
    details,
    onRemove ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: onRemove }, `世帯員 ${i + 1} を削除`)) : null);
  return {
    el: fs,
    read: () => ({ relation: rel.value, age: age.value === '' ? null : Number(age.value), features: feats.values(),
      consent: consent.checked, consent_excludes: excl.values() }),
  };
}

export async function render(main, ctx) {
  const editing = ctx.params[0] || null;
  setTitle(editing ? `事例 ${editing} の編集` : '事例の登録');
  const v = await vocabulary();
  let model = ctx.draft;
  if (!model) model = editing ? (await get(`/v1/cases/${enc(editing)}`)).case : EMPTY_CASE();
  model = { ...EMPTY_CASE(), ...model };
  const heading = pageHeading(editing ? `事例 ${editing} の編集` : '事例の登録');
  const formArea = h('div');
  const checkArea = h('div', { hidden: true });
  add(main, heading, ...(ctx.draft ? [notice('ok', h('p', {}, 'ログインが切れる前に入力していた内容を戻しました。'))] : []),
    formArea, checkArea,
    h('datalist', { id: 'feature-words' }, v.features.map((f) => h('option', { value: f }))));
  let read = null;

  const drawForm = (m) => {
    const id = h('input', { type: 'text', value: m.id || '', readOnly: !!editing, autocomplete: 'off', spellcheck: 'false' });
    const title = h('input', { type: 'text', value: m.title || '', autocomplete: 'off' });
    const district = select([['', '選んでください'], ...v.districts.map((d) => [d, d])], m.district || '');
    const types = v.meeting_types.map((t) => h('input', { type: 'radio', name: 'meeting_type', value: t, checked: m.meeting_type === t }));
    const first = select([['', 'なし'], ...v.agencies.map((a) => [a.id, a.name])], m.first_contact || '');
    const urgent = h('input', { type: 'checkbox', id: 'f-urgent', checked: !!m.urgent });
    const involved = agencyChecks('f-involved', '関わっている機関', m.involved || [], v.agencies);
    const feats = chipInput('f-features', m.features || [], v.features, '世帯の課題', '世帯全体の課題です。人ごとの課題は世帯員の欄に入れます。');
    const members = [];
    const membersBox = h('div');
    const drawMembers = (list) => {
      clear(membersBox);
      members.length = 0;
      list.forEach((mm, i) => {
        const b = memberBlock(i, mm, v, list.length > 1 ? () => { const cur = members.map((x) => x.read()); cur.splice(i, 1); drawMembers(cur); focusField('f-members-add'); } : null);
        members.push(b);
        membersBox.append(b.el);
      });
    };
    drawMembers(m.members && m.members.length ? m.members : [EMPTY_MEMBER()]);
    read = () => ({
      id: id.value.trim(), title: title.value.trim() || null, district: district.value,
      meeting_type: (types.find((t) => t.checked) || {}).value || '', first_contact: first.value || null,
      involved: involved.values(), urgent: urgent.checked, features: feats.values(),
      members: members.map((b) => b.read()),
    });
    ctx.keepDraft = () => read();
    const form = h('form', { novalidate: true },
      field('f-id', '事例ID', id, { required: true, hint: editing ? '事例IDは変えられません。' : '番号で付けます (例: Y-15)。氏名など個人が分かる言葉は使わないでください。' }),
      field('f-title', '件名', title, { hint: '世帯の状況を短く。個人が特定できない書き方にしてください。' }),
      field('f-district', '地区', district, { required: true }),
      h('fieldset', { id: 'f-meeting_type', class: 'field' }, h('legend', {}, '会議の種類', h('span', { class: 'req' }, '必須')),
        h('p', { class: 'hint' }, '重層的支援会議は本人の同意が必要です。同意がない場合は支援会議 (守秘義務あり) で開きます。'),
        types.map((t) => h('label', { class: 'check' }, t, t.value))),
      field('f-first_contact', '最初の相談窓口', first),
      involved.el,
      h('div', { class: 'field' }, h('label', { class: 'check' }, urgent, '緊急の対応が必要')),
      feats.el,
      h('h2', {}, '世帯員'),
      h('p', {}, '本人を1人だけ含めてください。続柄は本人から見た関係です。'),
      membersBox,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', id: 'f-members-add',
        onclick: () => { const cur = members.map((x) => x.read()); cur.push(EMPTY_MEMBER()); drawMembers(cur); focusField(`f-members-${cur.length - 1}-relation`); } }, '世帯員を追加')),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, '確認へ進む'),
        h('a', { class: 'button button--secondary', href: editing ? `#/cases/${enc(editing)}` : '#/cases' }, 'やめる')));
    form.addEventListener('submit', (e) => { e.preventDefault(); toCheck(form); });
    clear(formArea).append(form);
    return form;
  };

  const localErrors = (m) => {
    const errs = [];
    if (!m.id) errs.push({ path: 'id', message: '事例IDを入力してください' });
    if (!m.district) errs.push({ path: 'district', message: '地区を選んでください' });
    m.members.forEach((mm, i) => { if (!mm.relation) errs.push({ path: `members[${i}].relation`, message: '続柄を選んでください' }); });
    if (m.members.filter((mm) => mm.relation === '本人').length !== 1) {
      errs.push({ path: 'members[0].relation', message: '世帯員のうち1人を「本人」にしてください' });
    }
    return errs;
  };

  const showErrors = (form, errs) => {
    clearErrors(form);
    const items = errs.map((e) => {
      const t = errorTarget(e.path);
      const id = t.ids.find((x) => document.getElementById(x)) || null;
      if (id) fieldError(id, e.message);
      return { id, message: `${t.label}: ${e.message}` };
    });
    errorSummary(form, items);
  };

  const toCheck = (form) => {
    const m = read();
    const errs = localErrors(m);
    if (errs.length) { showErrors(form, errs); return; }
    formArea.hidden = true;
    checkArea.hidden = false;
    drawCheck(m);
  };

  const row = (k, val) => [h('dt', {}, k), h('dd', {}, val === '' || val === null || val === undefined ? '—' : val)];
  const drawCheck = (m) => {
    setTitle(editing ? `事例 ${editing} の編集 (確認)` : '事例の登録 (確認)');
    const names = (ids) => (ids.length ? ids.map((a) => agencyLabel(v, a)).join('、') : 'なし');
    const save = h('button', { type: 'button', id: 'save-case' }, editing ? 'この内容で保存する' : 'この内容で登録する');
    const status = h('div');
    add(clear(checkArea),
      h('h2', { tabindex: '-1', id: 'check-heading' }, '入力内容の確認'),
      h('p', {}, 'まだ保存されていません。内容を確かめてから保存してください。'),
      status,
      h('dl', { class: 'summary' },
        row('事例ID', m.id), row('件名', m.title), row('地区', m.district), row('会議の種類', m.meeting_type),
        row('最初の相談窓口', agencyLabel(v, m.first_contact)), row('関わっている機関', names(m.involved)),
        row('緊急', m.urgent ? 'はい' : 'いいえ'), row('世帯の課題', m.features.join('、') || 'なし')),
      m.members.map((mm, i) => [h('h3', {}, `世帯員 ${i + 1}`), h('dl', { class: 'summary' },
        row('続柄', mm.relation), row('年齢', mm.age === null ? '不明' : `${mm.age}歳`),
        row('課題', mm.features.join('、') || 'なし'), row('同意', mm.consent ? '同意している' : '同意していない'),
        row('情報を共有しない機関', names(mm.consent_excludes)))]),
      h('div', { class: 'actions' }, save,
        h('button', { type: 'button', class: 'secondary', onclick: () => back(m, []) }, '入力に戻って修正する')));
    checkArea.querySelector('#check-heading').focus();
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        const res = editing ? await put(`/v1/cases/${enc(editing)}`, m) : await post('/v1/cases', m);
        const w = res.warnings || [];
        setFlash(notice(w.length ? 'warn' : 'ok', h('p', {}, editing ? '事例を保存しました。' : '事例を登録しました。'),
          w.length ? h('ul', {}, w.map((x) => h('li', {}, x))) : null));
        ctx.keepDraft = null;
        ctx.navigate(`#/cases/${enc(m.id)}`);
      } catch (e) {
        save.disabled = false;
        if (e.status === 401) return;
        const mm = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)?(?:\[\d+\])?):\s*(.*)$/s.exec(e.message || '');
        if (e.code === 'exists' || e.status === 409) back(m, [{ path: 'id', message: e.message }]);
        else if (mm) back(m, [{ path: mm[1], message: mm[2] }]);
        else clear(status).append(notice('error', h('p', {}, e.message)));
      }
    });
  };

  const back = (m, errs) => {
    checkArea.hidden = true;
    formArea.hidden = false;
    setTitle(editing ? `事例 ${editing} の編集` : '事例の登録');
    const form = drawForm(m);
    if (errs.length) showErrors(form, errs); else focusField('f-id');
  };

  drawForm(model);
}
