// SPDX-License-Identifier: MIT
// 20-meetings.mjs - the 会議 screens and issue 10's end-to-end story, run
// after the core scenarios (which book meeting 1 for Y-01 from 日程調整):
//   - the invitations reach the mail file (one iMIP REQUEST per attendee,
//     nothing of the household in any mail);
//   - an agency account for one required attendee logs in (390 px wide),
//     sees its meeting in 会議 and declines it through a confirmation step;
//     it cannot open another meeting, nor the staff screens;
//   - the coordinator sees 要再調整 with the decline and the suggestions
//     mailed (one click on one opens the grid of its day with it held, at
//     the form before 確認; nothing changes), reschedules from the grid (the meeting's own time is free),
//     and a REQUEST with SEQUENCE 1 goes out to every attendee;
//   - the secretariat prints the 会議次第 (household data only when asked)
//     and cancels a meeting after a confirmation, which mails a CANCEL;
//   - the list filters by status (the secretariat's screens at 1366x768,
//     125 %).
// The mail arrives in a maildir (the daemon's TSUNAGU_MAIL_PATH with
// MAIL_TRANSPORT=maildir, as a municipal mail server would deliver it),
// read after the outbox has nothing left to send.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export default function meetings({ BASE, dir, SHOTS, state, assert, adminApi, person, screen, login, firstLogin, pageFetch }) {
  const MAILDIR = join(dir, 'maildir');
  const m = {};          // what the scenarios share

  async function outboxIdle() {
    for (let i = 0; i < 100; i++) {
      const { counts } = await adminApi('GET', '/v1/outbox');
      if (!counts.pending && !counts.sending && !counts.handed) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the outbox did not empty');
  }

  // Every message delivered to the maildir (new/ and cur/), in name order:
  // its raw text plus its base64 parts decoded.
  function mails() {
    const files = [];
    for (const sub of ['new', 'cur']) {
      let names = [];
      try { names = readdirSync(join(MAILDIR, sub)); } catch (e) { continue; }
      for (const n of names.sort()) files.push(readFileSync(join(MAILDIR, sub, n), 'utf8').replace(/\r\n/g, '\n'));
    }
    return files.map((raw) => {
      let decoded = raw;
      for (const mt of raw.matchAll(/Content-Transfer-Encoding: base64\n(?:[^\n]+\n)*\n([A-Za-z0-9+/=\n]+)/g)) {
        decoded += `\n${Buffer.from(mt[1].replace(/\n/g, ''), 'base64').toString('utf8')}`;
      }
      const to = (/^To:(.*(?:\n[ \t].*)*)/mi.exec(raw) || [])[1] || '';
      return { raw, text: decoded.replace(/\r?\n[ \t]/g, ''), to };
    });
  }

  return [
    ['会議: the invitations of the booked meeting reach the mail file, one REQUEST per attendee, no household data', async () => {
      const { meetings } = await adminApi('GET', '/v1/meetings?case=Y-01');
      m.one = meetings[0];
      await outboxIdle();
      const all = mails();
      for (const a of m.one.attendees) {
        const got = all.filter((x) => x.to.includes(a.email) && x.text.includes('METHOD:REQUEST') && x.text.includes(m.one.uid));
        assert(got.length === 1, `one REQUEST to ${a.agency}, got ${got.length}`);
        assert(/SEQUENCE:0\b/.test(got[0].text), 'the first invitation has SEQUENCE 0');
      }
      for (const x of all) {
        for (const word of ['要介護', 'ひきこもりの子', '8050', '82歳', '53歳']) assert(!x.text.includes(word), `no household data in mail (${word})`);
      }
    }],

    ['会議: an agency account sees its own meeting and declines it, after a confirmation', async () => {
      const lead = m.one.attendees.find((a) => a.required && !/協働|事務局/.test(a.name)) || m.one.attendees[0];
      m.agency = lead;
      const u = await adminApi('POST', '/v1/users', { name: 'kikan1', role: `agency:${lead.agency}` });
      const page = await person({ viewport: { width: 390, height: 844 } });
      m.agencyPage = page;
      await firstLogin(page, 'kikan1', u.password, 'kikan-hinoki-2026');
      await page.getByRole('link', { name: '会議', exact: true }).click();
      await page.getByRole('heading', { name: '会議', exact: true }).waitFor();
      await page.getByRole('link', { name: `会議 ${m.one.id}` }).waitFor();
      assert(await page.getByLabel('出席機関').count() === 0, 'no agency filter for an agency account');
      await screen(page, 'agency-meetings-390px');
      await page.getByRole('link', { name: `会議 ${m.one.id}` }).click();
      await page.getByRole('heading', { name: '出欠の回答' }).waitFor();
      assert(await page.getByRole('heading', { name: 'メールの送信状況' }).count() === 0, 'no delivery details for an agency');
      await page.getByRole('button', { name: '確認へ進む' }).click();       // nothing chosen yet
      await page.locator('#answer-choice-error').waitFor();
      assert(await page.locator('.error-summary').count() === 1, 'an error summary too');
      await page.getByLabel('欠席する').check();
      await page.getByRole('button', { name: '確認へ進む' }).click();
      await page.getByRole('heading', { name: '「欠席」と回答しますか' }).waitFor();
      await screen(page, 'agency-answer-confirm-390px');
      await page.getByRole('button', { name: 'この内容で回答する' }).click();
      await page.getByText('「欠席」と回答しました。').waitFor();
      const row = page.locator('#attendees tr', { hasText: lead.name });
      assert((await row.innerText()).includes('欠席'), 'the answer is shown');
      await screen(page, 'agency-answered-390px');
    }],

    ['会議: an agency account cannot open another meeting, nor the staff screens', async () => {
      const others = m.one.attendees.filter((a) => a.agency !== m.agency.agency).map((a) => ({ agency: a.agency, required: a.required }));
      const body = { case: 'Y-01', type: m.one.type, start: '2026-12-21T10:00:00+09:00', end: '2026-12-21T11:00:00+09:00',
        attendees: others, location: '市役所本庁舎 2階 201会議室' };
      let two;
      try { two = await adminApi('POST', '/v1/meetings', body); } catch (e) {
        const { suggestions } = JSON.parse(e.message.replace(/^[^{]*/, ''));
        two = await adminApi('POST', '/v1/meetings', { ...body, start: suggestions[0].start, end: suggestions[0].end });
      }
      m.two = two;
      const page = m.agencyPage;
      await page.getByRole('link', { name: '会議', exact: true }).click();
      await page.getByRole('link', { name: `会議 ${m.one.id}` }).waitFor();
      assert(await page.getByRole('link', { name: `会議 ${two.id}` }).count() === 0, 'the other meeting is not listed');
      page.allowed4xx = 2;
      await page.goto(`${BASE}/#/meetings/${two.id}`);
      await page.getByText('この会議は見つからないか、閲覧できません。').waitFor();
      await screen(page, 'agency-meeting-refused');
      await page.goto(`${BASE}/#/meetings/${two.id}/print`);
      await page.getByText('この会議は見つからないか、閲覧できません。').waitFor();
      await page.goto(`${BASE}/#/meetings/${m.one.id}/reschedule`);
      await page.getByText('この画面を使う権限がありません。').waitFor();
      const r = await pageFetch(page, 'POST', `/v1/meetings/${two.id}/cancel`, true);
      assert(r.status === 403, 'the API refuses an agency a cancel');
      const a = await pageFetch(page, 'POST', `/v1/meetings/${two.id}/answer`, true);
      assert(a.status === 400 || a.status === 404, 'nor an answer for a meeting it is not invited to');
      page.problems = page.problems.filter((p) => !/status of 40[034]/.test(p));
    }],

    ['会議: 要再調整 shows the decline and the mailed suggestions; the coordinator reschedules from the grid; SEQUENCE 1 goes out', async () => {
      const page = await person();
      await login(page, 'tanaka', 'coord-sakura-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      await page.getByRole('link', { name: '会議', exact: true }).click();
      await page.getByRole('heading', { name: '会議', exact: true }).waitFor();
      await page.getByLabel('状態').selectOption('replan');
      await page.getByRole('link', { name: `会議 ${m.one.id}` }).waitFor();
      assert(await page.getByRole('link', { name: `会議 ${m.two.id}` }).count() === 0, 'the status filter');
      await screen(page, 'meetings-replan');
      await page.getByRole('link', { name: `会議 ${m.one.id}` }).click();
      const replan = page.locator('#replan');
      await replan.waitFor();
      assert((await replan.innerText()).includes(m.agency.name), 'who declined');
      const sugg = await replan.locator('li').count();
      assert(sugg >= 1, 'the suggestions mailed are shown');
      await page.locator('#delivery').waitFor();
      assert(await page.locator('#delivery').getByText('要再調整の通知（事務局宛）').count() === 1, 'the 要再調整 mail is in the delivery list');
      assert(await page.locator('#history').getByText(/欠席と回答したため、要再調整/).count() === 1, 'the history has the decline');
      const who = await page.locator('#history tbody').innerText() + await page.locator('#attendees tbody').innerText();
      assert(/\((事務局|コーディネーター|管理者|機関職員: [^)]+)\)/.test(who) && !/\((secretariat|coordinator|admin|agency:)/.test(who),
        `who did it, with the role in Japanese: ${who}`);
      await screen(page, 'meeting-replan');
      // one click on a mailed suggestion: the grid of that day with it
      // held, at the form before 確認; nothing sent, the meeting unchanged
      const first = (await replan.locator('li').first().innerText()).replace('この候補で日時を変更する', '').trim();
      const [, mo, d, hh, mm] = /(\d+)月(\d+)日\([^)]*\)\s*(\d+):(\d+)/.exec(first) || [];
      assert(mo, `a suggestion as mailed: ${first}`);
      const s0 = (await adminApi('GET', `/v1/meetings/${m.one.id}`)).replan.suggestions[0];
      assert(s0.text === first && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/.test(s0.start) && s0.start.slice(5, 16) === `${mo.padStart(2, '0')}-${d.padStart(2, '0')}T${hh}:${mm}`,
        `the API gives the suggestion's ISO times: ${JSON.stringify(s0)} (shown ${first})`);
      await replan.getByRole('button', { name: /^候補1 \(.*\): この候補で日時を変更する$/ }).click();
      await page.getByRole('heading', { name: `日時の変更: 会議 ${m.one.id} (事例 Y-01)` }).waitFor();
      const held = page.getByRole('heading', { name: /^変更: / });
      await held.waitFor();
      const heldText = await held.textContent();
      assert(heldText.includes(`${+mo}月${+d}日`) && heldText.includes(`${hh}:${mm}`), `the suggestion is held: ${heldText} (picked ${first})`);
      assert(await page.evaluate(() => document.activeElement && document.activeElement.id === 'book-heading'), 'focus on the held slot');
      assert(await page.getByRole('button', { name: '確認へ進む' }).count() === 1, 'the 確認 step still follows');
      assert(!(await page.locator('#picked-gone').count()), 'not said to be gone');
      await screen(page, 'meeting-reschedule-picked');
      const still = await adminApi('GET', `/v1/meetings/${m.one.id}`);
      assert(still.status === 'replan' && still.sequence === 0, 'nothing changed before 確認');
      await page.getByRole('link', { name: `会議 ${m.one.id} に戻る` }).click();      // leaving gives the hold back
      await replan.waitFor();
      await replan.getByRole('link', { name: '日程調整で日時を変更する' }).click();
      await page.getByRole('heading', { name: `日時の変更: 会議 ${m.one.id} (事例 Y-01)` }).waitFor();
      const attendeeRows = page.getByRole('table', { name: '出席する機関' }).locator('tbody tr');
      await attendeeRows.nth(m.one.attendees.length - 1).waitFor();      // the table fills in after the heading
      const rows = await attendeeRows.count();
      assert(rows === m.one.attendees.length, `the meeting attendees are filled in (${rows} rows, attendees ${m.one.attendees.map((a) => a.agency).join(',')})`);
      await page.getByRole('button', { name: '候補を探す' }).click();
      await page.locator('.sched-cand').first().waitFor();
      await screen(page, 'meeting-reschedule-grid');
      // by keyboard, as the core scenario does (a click can land on the
      // grid's sticky name column when the grid is scrolled sideways)
      await page.locator('.sched-cand[data-rank="1"]').focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: /^変更: / }).waitFor();
      assert(await page.getByLabel('場所').inputValue() === m.one.location, 'the place is kept');
      await page.getByRole('button', { name: '確認へ進む' }).click();
      await page.getByRole('heading', { name: '変更の内容を確認してください' }).waitFor();
      await page.getByRole('button', { name: 'この日時に変更する' }).click();
      await page.getByText(/新しい招待 \(SEQUENCE 1\)/).waitFor();
      await page.getByRole('heading', { name: `会議 ${m.one.id}` }).waitFor();
      await screen(page, 'meeting-rescheduled');
      const after = await adminApi('GET', `/v1/meetings/${m.one.id}`);
      assert(after.status === 'scheduled' && after.sequence === 1, 'scheduled again, SEQUENCE 1');
      assert(after.start !== m.one.start, 'not the time that was declined (it stays busy for the decliner)');
      assert(after.history.some((x) => x.action === 'meeting-rescheduled' && x.actor.includes('tanaka')), 'the history names the coordinator');
      await outboxIdle();
      const all = mails();
      for (const a of m.one.attendees) {
        const got = all.filter((x) => x.to.includes(a.email) && x.text.includes('METHOD:REQUEST') && x.text.includes(m.one.uid) &&
          /SEQUENCE:1\b/.test(x.text));
        assert(got.length === 1, `a SEQUENCE 1 REQUEST to ${a.agency}`);
      }
    }],

    ['会議: the 会議次第 for the secretariat, household data only when asked', async () => {
      const page = await person({ viewport: { width: 1093, height: 614 }, scale: 1.25 });   // 1366x768 at 125 %
      state.secrMeet = page;
      await login(page, 'suzuki', 'secr-kaede-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      await page.goto(`${BASE}/#/meetings/${m.one.id}/print`);
      await page.getByRole('heading', { name: `会議次第: 事例 Y-01 ${m.one.type}` }).waitFor();
      const text = await page.locator('main').innerText();
      assert(text.includes('Y-01') && text.includes(m.one.location), 'case id and place');
      assert(!text.includes('要介護') && !text.includes('82歳'), 'no household data by default');
      if (m.one.type === '支援会議') assert(await page.locator('#confidentiality').count() === 1, 'the 守秘義務 notice');
      else assert(await page.locator('#confidentiality').count() === 0, 'no 守秘義務 notice for a consent-based meeting');
      await screen(page, 'meeting-print-1366x768-125');
      await page.getByLabel('世帯の情報 (続柄・年齢・課題) も載せる').check();
      await page.getByRole('heading', { name: '世帯 (事務局資料)' }).waitFor();
      assert((await page.locator('#household').innerText()).includes('82歳'), 'household shown when asked');
      await page.emulateMedia({ media: 'print' });
      assert(!(await page.getByRole('button', { name: '印刷する' }).isVisible()), 'print view hides buttons');
      await page.screenshot({ path: join(SHOTS, 'print-meeting.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
    }],

    ['会議: cancel, confirmed first, mails a CANCEL; the list filters by status', async () => {
      const page = state.secrMeet;
      await page.goto(`${BASE}/#/meetings/${m.two.id}`);
      await page.getByRole('button', { name: 'この会議を中止する' }).click();
      await page.getByRole('heading', { name: `会議 ${m.two.id} を中止しますか` }).waitFor();
      await page.getByRole('button', { name: 'やめる' }).click();
      assert((await adminApi('GET', `/v1/meetings/${m.two.id}`)).status === 'scheduled', 'やめる changes nothing');
      await page.getByRole('button', { name: 'この会議を中止する' }).click();
      await screen(page, 'meeting-cancel-confirm-1366x768-125');
      await page.getByRole('button', { name: '中止する', exact: true }).click();
      await page.getByText(`会議 ${m.two.id} を中止しました。`).waitFor();
      assert(await page.getByRole('button', { name: 'この会議を中止する' }).count() === 0, 'no cancel button on a cancelled meeting');
      await screen(page, 'meeting-cancelled');
      // booked through the API with the daemon's ADMIN_TOKEN: the history
      // says so in words, not with the raw "(config)"
      const hist = await page.locator('#history tbody').innerText();
      assert(hist.includes('管理者（サーバー設定の管理用キー）') && !hist.includes('config'), `the config token in words: ${hist}`);
      await outboxIdle();
      const cancels = mails().filter((x) => x.text.includes('METHOD:CANCEL') && x.text.includes(m.two.uid));
      assert(cancels.length === m.two.attendees.length, 'a CANCEL to every attendee');
      await page.getByRole('link', { name: '会議', exact: true }).click();
      await page.getByLabel('状態').selectOption('cancelled');
      await page.getByRole('link', { name: `会議 ${m.two.id}` }).waitFor();
      assert(await page.getByRole('link', { name: `会議 ${m.one.id}` }).count() === 0, 'only the cancelled one');
      await page.getByLabel('出席機関').selectOption(m.agency.agency);
      await page.getByText('該当する会議はありません。').waitFor();
      await screen(page, 'meetings-filtered');
    }],
  ];
}
