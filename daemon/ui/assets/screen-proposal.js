// SPDX-License-Identifier: MIT
// screen-proposal.js - 提案と承認 for one case: the newest decision's
// proposed lead and supports, the Japanese explanation in a block sized to
// be read aloud (one sentence per line, 印刷 gives the print view), the
// candidates with their points, eligibility and the deciding tie-break,
// approve / override with a required reason (secretariat and admin only:
// the buttons are not drawn for others, and the API refuses them anyway),
// and the decision history with who, when, the rule hash and 再計算
// (GET /v1/decisions/{id}?recompute=1: is the decision reproducible?).

import { get, post, enc } from './api.js';
import { h, add, clear, field, select, notice, pageHeading, setTitle, fmtDateTime, statusBadge,
         checkedForm, actorLabel } from './ui.js';
import { vocabulary, agencyLabel } from './vocab.js';
import { proposalError } from './screen-case.js';

const STEP = {
  total: '合計点の差で決まりました (同点の決め方は使っていません)',
  'lead-cases': '同点のため、主担当の件数が少ない機関を選びました',
  'free-minutes': '同点のため、空き時間が多い機関を選びました',
  id: '同点のため、機関IDの順で選びました',
  only: '候補が1つだけでした',
  forced: 'ルールで主担当が決まっています',
};

function sentences(text) {
  return (text || '').split(/(?<=。)/).map((s) => s.trim()).filter(Boolean);
}

function contributions(c) {
  return h('ul', {}, (c.contributions || []).map((x) => h('li', {},
    x.rule ? `ルール「${x.rule}」 ${x.field} +${x.points}点` : `${x.reason || x.bonus} +${x.points}点`)));
}

function candidatesTable(res) {
  const cands = res.candidates || [];
  if (!cands.length) return h('p', {}, '候補の機関はありません。');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, '候補の機関と点数'),
    h('thead', {}, h('tr', {}, ['機関', '合計', '内訳', '主担当になれるか', '主担当の件数'].map((t, i) =>
      h('th', { scope: 'col', class: i === 1 || i === 4 ? 'num' : null }, t)))),
    h('tbody', {}, cands.map((c) => h('tr', { class: c.agency === res.lead ? 'chosen' : null },
      h('th', { scope: 'row' }, c.name, c.agency === res.lead ? h('span', { class: 'visually-hidden' }, ' (提案)') : null),
      h('td', { class: 'num' }, `${c.total}点`),
      h('td', {}, contributions(c)),
      h('td', {}, c.eligible_lead ? 'なれる' : `なれない: ${(c.failures || []).join('、')}`),
      h('td', { class: 'num' }, `${c.lead_cases} / ${c.max_lead_cases}`))))));
}

function tieBreak(res, v) {
  const t = res.explanation && res.explanation.tie_break;
  if (!t) return null;
  return h('p', {}, h('strong', {}, '決め手: '), STEP[t.step] || t.step,
    t.runner_up ? ` (提案: ${agencyLabel(v, t.winner)}、次点: ${agencyLabel(v, t.runner_up)})` : '');
}

function reviewForm(d, v, ctx, res) {
  const approve = h('button', { type: 'button', id: 'approve' }, 'この提案を承認する');
  const eligible = (res.candidates || []).filter((c) => c.eligible_lead && c.agency !== res.lead);
  const others = v.agencies.filter((a) => a.id !== res.lead && !eligible.find((c) => c.agency === a.id));
  const lead = h('select', {}, h('option', { value: '' }, '選んでください'),
    eligible.length ? h('optgroup', { label: '主担当になれる候補' }, eligible.map((c) => h('option', { value: c.agency }, `${c.name} (${c.total}点)`))) : null,
    h('optgroup', { label: 'その他の機関' }, others.map((a) => h('option', { value: a.id }, a.name))));
  const reason = h('textarea', { rows: '4' });
  const status = h('div');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'override-heading' },
    h('h3', { id: 'override-heading' }, '別の機関を主担当にする'),
    field('override-lead', '主担当にする機関', lead, { required: true }),
    field('override-reason', '変更する理由', reason, { required: true, hint: '記録に残り、あとから読み返されます。具体的に書いてください。' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', id: 'override' }, '変更して承認する')));
  const done = () => ctx.navigate(location.hash);
  approve.addEventListener('click', async () => {
    approve.disabled = true;
    try { await post(`/v1/decisions/${d.id}/approve`); done(); } catch (e) {
      approve.disabled = false;
      if (e.status !== 401) clear(status).append(notice('error', h('p', {}, e.message)));
    }
  });
  checkedForm(form, () => {
    const errs = [];
    if (!lead.value) errs.push({ id: 'override-lead', message: '主担当にする機関を選んでください' });
    if (!reason.value.trim()) errs.push({ id: 'override-reason', message: '変更する理由を書いてください' });
    return errs;
  }, async () => {
    await post(`/v1/decisions/${d.id}/override`, { lead: lead.value, reason: reason.value });
    done();
  }, (e) => ({ id: e.code === 'reason-required' ? 'override-reason' : 'override-lead', message: e.message }));
  return h('section', { class: 'no-print', 'aria-labelledby': 'review-heading' },
    h('h2', { id: 'review-heading' }, '承認'), status,
    h('div', { class: 'actions' }, approve), form);
}

function historyTable(list, v) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, 'これまでの提案と承認'),
    h('thead', {}, h('tr', {}, ['番号', '提案', '提案した人', '提案された主担当', '状態', '承認', 'ルール', '再計算'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.slice().reverse().map((d) => {
      const out = h('span', { 'aria-live': 'polite' });
      const btn = h('button', { type: 'button', class: 'secondary', 'aria-label': `提案 ${d.id} を再計算する` }, '再計算');
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try {
          const r = await get(`/v1/decisions/${d.id}?recompute=1`);
          out.textContent = r.reproducible ? '再現できます' : `再現できません${r.recompute_error ? `: ${r.recompute_error}` : ''}`;
        } catch (e) { out.textContent = e.message; }
        btn.disabled = false;
      });
      const rv = d.review;
      return h('tr', {},
        h('th', { scope: 'row' }, `#${d.id}`), h('td', {}, fmtDateTime(d.created)), h('td', {}, actorLabel(d.actor)),
        h('td', {}, agencyLabel(v, d.proposed_lead)), h('td', {}, statusBadge(d.status)),
        h('td', {}, rv ? [`${actorLabel(rv.actor)} ${fmtDateTime(rv.at)}`, rv.action === 'override' ? h('div', {}, `主担当: ${agencyLabel(v, rv.lead)}。理由: ${rv.reason}`) : null] : '—'),
        h('td', {}, h('code', { title: d.rules_hash }, d.rules_hash.slice(0, 12)), h('div', {}, d.policy || '')),
        h('td', {}, btn, ' ', out));
    }))));
}

export async function render(main, ctx) {
  const id = ctx.params[0];
  setTitle(`提案と承認 (事例 ${id})`);
  const v = await vocabulary();
  const canReview = ['admin', 'secretariat'].includes(ctx.session.role);
  add(main, pageHeading(`提案と承認: 事例 ${id}`),
    h('p', { class: 'no-print' }, h('a', { href: `#/cases/${enc(id)}` }, `事例 ${id} に戻る`)));
  const { decisions } = await get(`/v1/decisions?case=${enc(id)}`);
  const status = h('div');
  add(main, status);
  const propose = h('button', { type: 'button', class: 'secondary', id: 'propose' }, decisions.length ? 'もう一度提案を作る' : '主担当の提案を作る');
  propose.addEventListener('click', async () => {
    propose.disabled = true;
    try { await post(`/v1/cases/${enc(id)}/proposals`); ctx.navigate(location.hash); } catch (e) {
      propose.disabled = false;
      if (e.status === 401) return;
      clear(status).append(proposalError(e));
      status.querySelector('[role=alert]').focus();
    }
  });
  if (!decisions.length) {
    add(main, h('p', {}, 'まだ提案がありません。'), h('div', { class: 'actions' }, propose));
    return;
  }
  const newest = decisions[decisions.length - 1];
  const d = await get(`/v1/decisions/${newest.id}`);
  const res = d.result;
  const rv = d.review;
  add(main, 
    h('p', {}, `提案 #${d.id} `, statusBadge(d.status), ` ${fmtDateTime(d.created)} ${actorLabel(d.actor)}`),
    h('div', { class: 'lead-box' },
      h('div', {}, h('h2', {}, '提案された主担当'), h('p', { class: 'big' }, agencyLabel(v, res.lead)),
        res.forced ? h('p', {}, 'ルールで決まった主担当です。') : null),
      h('div', {}, h('h2', {}, '支援機関'), (res.supports || []).length
        ? h('ul', {}, res.supports.map((s) => h('li', {}, agencyLabel(v, s)))) : h('p', {}, 'なし'))),
    rv ? notice(rv.action === 'override' ? 'warn' : 'ok',
      h('p', {}, rv.action === 'override'
        ? `${actorLabel(rv.actor)} が主担当を ${agencyLabel(v, rv.lead)} に変更して承認しました (${fmtDateTime(rv.at)})。`
        : `${actorLabel(rv.actor)} が承認しました (${fmtDateTime(rv.at)})。`),
      rv.reason ? h('p', {}, `理由: ${rv.reason}`) : null) : null,
    h('section', { 'aria-labelledby': 'explanation-heading' },
      h('h2', { id: 'explanation-heading' }, '提案の理由'),
      h('div', { class: 'explanation', id: 'explanation' }, sentences(res.text).map((s) => h('p', {}, s))),
      h('div', { class: 'actions no-print' }, h('button', { type: 'button', class: 'secondary', id: 'print', onclick: () => window.print() }, '印刷する'))),
    h('h2', {}, '候補の機関'),
    tieBreak(res, v),
    candidatesTable(res));
  if (d.status !== 'pending') {
    add(main, h('div', { class: 'actions no-print' },
      h('a', { class: 'button', id: 'schedule', href: `#/cases/${enc(id)}/schedule` }, '日程調整へ進む')));
  }
  if (d.status === 'pending' && canReview) add(main, reviewForm(d, v, ctx, res));
  else if (d.status === 'pending') add(main, notice('info', h('p', {}, '承認は事務局が行います。')));
  add(main, h('h2', {}, '履歴'), historyTable(decisions, v), h('div', { class: 'actions no-print' }, propose));
}
