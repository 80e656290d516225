// SPDX-License-Identifier: MIT
// 10-schedule.mjs - browser scenarios for 日程調整 beyond the core happy
// path in e2e.mjs (which books candidate 1 for Y-01).  Each step acts as
// the secretariat (suzuki, from e2e.mjs, logged in afresh) on the real daemon,
// and the admin token makes the world change under it:
//   - the daemon's clock (TSUNAGU_NOW, 2026-12-01) fills the window, not
//     the browser's; each row shows its agency's own hours; 年末年始 and
//     成人の日 are labelled in their columns; an admin's hold and the
//     booked meeting have their own shades;
//   - nothing fits (an admin hold over the lead's whole day): the
//     diagnostics' buttons widen the window and make the lead optional,
//     and each applies and searches again;
//   - 409 slot-taken (the secretariat's hold replaced by someone else's
//     between hold and booking): who is no longer free, and the fresh
//     suggestions as candidates in the same grid;
//   - 422 consent-excluded (ssw, excluded by 本人) shows the API's message;
//     leaving the screen releases the hold;
//   - 支援会議: the 守秘義務 notice on the form and at 確認, a non-member
//     (hellowork) named before and refused by the API with its message;
//   - a feed made to fail (kodomo's calendar re-imported as a missing
//     file) is marked on its row and no candidate is offered through it,
//     required or optional; the city is imported back afterwards;
//   - a stale feed (state ok, not fetched for hours) is marked on its row
//     as a failing one is; the clock is pinned here, so the API's mark is
//     put into the answers with page.route (itest_stale makes it for real);
//   - a mouse click on a candidate while the grid is scrolled so that it
//     sits where the names column is: focus and the click scroll it fully
//     into view first (the names are beside the scroll box, not a sticky
//     column over it), and it is chosen;
//   - the grid at 1366x768 at 125 % and at 390 px wide: the page itself
//     never scrolls sideways (the grid scrolls in its own box), a whole
//     day fits beside the names, and a long agency name wraps (two lines
//     at most) and is never cut off, level with its row.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export default function scenarios({ BASE, ROOT, state, assert, adminApi, person, screen, login }) {
  const cityDir = join(ROOT, 'tests/data/yamanami');
  const cityDoc = (mutate) => {
    const doc = JSON.parse(readFileSync(join(cityDir, 'agencies.json'), 'utf8'));
    for (const a of doc.agencies) for (const c of a.calendars || []) c.url = resolve(cityDir, c.url);
    if (mutate) mutate(doc);
    return doc;
  };
  async function feedState(agency) {
    const a = await adminApi('GET', `/v1/agencies/${agency}`);
    return a.feeds.map((f) => f.state);
  }
  async function waitFeeds(agency, want) {
    for (let i = 0; i < 100; i++) {
      if ((await feedState(agency)).every((s) => s === want)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${agency}: feeds never became ${want}: ${await feedState(agency)}`);
  }
  async function activeHolds() { return (await adminApi('GET', '/v1/holds')).holds; }
  async function dropHolds() { for (const hd of await activeHolds()) await adminApi('DELETE', `/v1/holds/${hd.id}`); }

  // the schedule screen for Y-01 with the given window, searched
  async function open(page, from, to, extra) {
    await page.goto(`${BASE}/#/cases/Y-01`);
    await page.getByRole('heading', { name: '事例 Y-01' }).waitFor();
    await page.waitForLoadState('networkidle');      // the case screen has drawn (the router does not cancel it)
    await page.goto(`${BASE}/#/cases/Y-01/schedule`);
    await page.getByRole('heading', { name: '日程調整: 事例 Y-01' }).waitFor();
    for (const name of extra || []) {
      await page.getByLabel('機関を追加').selectOption({ label: name });
      await page.getByRole('button', { name: '追加する' }).click();
    }
    if (from) await page.getByLabel('探す期間 (から)').fill(from);
    if (to) await page.getByLabel('探す期間 (まで)').fill(to);
    await page.getByRole('button', { name: '候補を探す' }).click();
    await page.getByRole('heading', { name: '予定と候補' }).waitFor();
  }
  // the secretariat, logged in afresh (sessions idle out after 8 s here)
  let current = null;
  async function secr(opts) {
    if (current) await current.context().close();
    const page = current = await person(opts);
    await login(page, 'suzuki', 'secr-kaede-2026');
    await page.getByRole('heading', { name: 'ホーム' }).waitFor();
    return page;
  }
  const rowOf = (page, name) => page.locator('.sched-who', { hasText: name });

  async function leadOf() {
    const c = await adminApi('GET', '/v1/cases/Y-01');
    const a = await adminApi('GET', `/v1/agencies/${c.lead}`);
    return { id: c.lead, name: a.name };
  }

  // choose candidate 1 from the text list, fill the place, go to 確認
  async function chooseAndConfirm(page, type) {
    await page.getByRole('list', { name: /候補 \d+件/ }).getByRole('button').first().click();
    await page.getByRole('heading', { name: /^予約: / }).waitFor();
    if (type) await page.getByLabel('会議の種類').selectOption(type);
    await page.getByLabel('場所').fill('市役所本庁舎 3階 301会議室');
  }

  async function consentRefused() {
    const page = await secr();
    await open(page, '2026-12-07', '2026-12-19', ['教育委員会 スクールソーシャルワーカー']);
    await chooseAndConfirm(page, '重層的支援会議');
    assert(await page.locator('.confidential').count() === 0, 'no 守秘義務 notice for a consent-based meeting');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    page.allowed4xx = 1;
    await page.getByRole('button', { name: 'この内容で予約する' }).click();
    await page.getByText('本人の同意により情報共有から除外された機関「教育委員会 スクールソーシャルワーカー」は重層的支援会議に招待できません').waitFor();
    await page.getByText('予約できませんでした').waitFor();
    await screen(page, 'schedule-422-consent');
    assert((await activeHolds()).length === 1, 'the hold is still there while the screen is open');
    await page.getByRole('link', { name: '事例 Y-01 の提案と承認に戻る' }).click();
    await page.getByRole('heading', { name: '提案と承認: 事例 Y-01' }).waitFor();
    for (let i = 0; i < 50 && (await activeHolds()).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert((await activeHolds()).length === 0, 'leaving the screen released the hold');
  }

  return [
    ['日程調整: the daemon\'s clock, each agency\'s hours, days off labelled, holds and meetings shaded', async () => {
      const page = await secr();
      const lead = await leadOf();
      const { meetings } = await adminApi('GET', '/v1/meetings?case=Y-01');
      const booked = meetings[0];
      const hold = await adminApi('POST', '/v1/holds', { agencies: [lead.id], start: '2026-12-22T13:00:00+09:00',
        end: '2026-12-22T14:30:00+09:00', expiry: 3600 });
      await page.goto(`${BASE}/#/cases/Y-01/schedule`);
      await page.getByRole('heading', { name: '日程調整: 事例 Y-01' }).waitFor();
      assert(await page.getByLabel('探す期間 (から)').inputValue() === '2026-12-01', 'the window starts on the daemon\'s today, not the browser\'s');
      assert(await page.getByLabel('探す期間 (まで)').inputValue() === '2026-12-22', 'and ends 3 weeks later');
      await open(page, booked.start.slice(0, 10), '2027-01-13', ['社会福祉協議会 CSW']);
      const heads = await page.locator('.sched-day--off').allInnerTexts();
      assert(heads.filter((t) => t.includes('年末年始')).length === 3, `12/29-12/31 labelled 年末年始: ${heads}`);
      assert(heads.some((t) => t.includes('元日')) && heads.some((t) => t.includes('成人の日')), `holidays by name: ${heads}`);
      assert(await page.locator('.sched-holiday', { hasText: '成人の日' }).count() >= 3, 'each row\'s cell is labelled');
      assert((await rowOf(page, '社会福祉協議会 CSW').innerText()).includes('勤務 9:00〜17:00'), 'CSW works 09:00-17:00');
      assert((await rowOf(page, '福祉政策課').innerText()).includes('勤務 8:30〜17:15'), 'the secretariat works 08:30-17:15');
      assert(await page.locator('.sched-held').count() === 1, 'the admin\'s hold has its own shade, on the lead\'s row only');
      assert(await page.locator('.sched-booked').count() >= 2, 'the booked meeting is shaded on every attendee\'s row');
      const colours = await page.evaluate(() => ['.sched-busy:not(.sched-held):not(.sched-booked)', '.sched-held', '.sched-booked']
        .map((q) => getComputedStyle(document.querySelector(q)).backgroundImage + getComputedStyle(document.querySelector(q)).backgroundColor));
      assert(new Set(colours).size === 3, `busy, held and booked look different: ${colours}`);
      assert(await page.locator('.sched-cand').count() > 0, 'candidates outside the days off');
      for (const b of await page.locator('.sched-cand').all()) {
        const l = await b.getAttribute('aria-label');
        assert(!/12月(29|30|31)日|1月(1|11)日/.test(l), `no candidate on a day off: ${l}`);
      }
      await screen(page, 'schedule-days-off-own-shades');
      await adminApi('DELETE', `/v1/holds/${hold.id}`);
    }],

    ['日程調整: nothing fits; the diagnostics\' "widen" and "make optional" buttons apply and search again', async () => {
      const page = await secr();
      const lead = await leadOf();
      const hold = await adminApi('POST', '/v1/holds', { agencies: [lead.id], start: '2026-12-02T00:00:00+09:00',
        end: '2026-12-03T00:00:00+09:00', expiry: 3600 });
      await open(page, '2026-12-02', '2026-12-03');
      await page.getByText('全員が出席できる枠が見つかりませんでした').waitFor();
      assert(await page.locator('.sched-cand').count() === 0, 'no candidate');
      assert(await rowOf(page, lead.name).count() === 1 && await page.locator('.sched-held').count() === 1, 'the hold is drawn on the lead\'s row');
      const fix = page.getByRole('button', { name: new RegExp(`^${lead.name} を任意にして探し直す`) });
      await fix.waitFor();
      await screen(page, 'schedule-diagnostics');
      // widening applies too: the window's end moves to the earliest slot's day
      await page.getByRole('button', { name: /^期間を .* まで広げて探し直す$/ }).click();
      await page.locator('.sched-cand').first().waitFor();
      const widened = await page.getByLabel('探す期間 (まで)').inputValue();
      assert(widened > '2026-12-03', `the window was widened: ${widened}`);
      await page.getByLabel('探す期間 (まで)').fill('2026-12-03');
      await page.getByRole('button', { name: '候補を探す' }).click();
      await fix.waitFor();
      await fix.click();
      await page.locator('.sched-cand').first().waitFor();
      assert(await page.getByLabel(`${lead.name} の出席`).inputValue() === 'o', 'the lead is now optional');
      assert(await page.getByText('全員が出席できる枠が見つかりませんでした').count() === 0, 'the diagnostics are gone');
      const list = await page.getByRole('list', { name: /候補 \d+件/ }).innerText();
      assert(list.includes('12月2日'), `candidates on 12/2: ${list}`);
      assert(!list.includes(`任意で出られる機関: ${lead.name}`), 'the held lead is never offered as able to attend');
      await screen(page, 'schedule-drop-one-applied');
      await adminApi('DELETE', `/v1/holds/${hold.id}`);
    }],

    ['日程調整: 409 slot-taken names who is no longer free and brings fresh suggestions into the grid', async () => {
      const page = await secr();
      const lead = await leadOf();
      await open(page, '2026-12-07', '2026-12-19');
      await chooseAndConfirm(page);
      const mine = await activeHolds();
      assert(mine.length === 1, `one hold after choosing: ${JSON.stringify(mine)}`);
      // someone else takes the slot for the lead between hold and booking
      await adminApi('DELETE', `/v1/holds/${mine[0].id}`);
      const theirs = await adminApi('POST', '/v1/holds', { agencies: [lead.id], start: mine[0].start, end: mine[0].end, expiry: 3600 });
      await page.getByRole('button', { name: '確認へ進む' }).click();
      await page.getByRole('heading', { name: '予約の内容を確認してください' }).waitFor();
      page.allowed4xx = 1;
      await page.getByRole('button', { name: 'この内容で予約する' }).click();
      await page.getByText(`出席できなくなった機関: ${lead.name}`).waitFor();
      await page.getByText('新しい候補を下に示します。').waitFor();
      const n = await page.locator('.sched-cand').count();
      assert(n > 0 && n === await page.getByRole('list', { name: /候補 \d+件/ }).locator('li').count(), 'the suggestions are the grid\'s candidates');
      for (const b of await page.locator('.sched-cand').all()) {
        assert(!(await b.getAttribute('aria-label')).includes(`${mine[0].start.slice(11, 16)}〜${mine[0].end.slice(11, 16)}`) ||
          !(await b.getAttribute('aria-label')).includes(`${+mine[0].start.slice(8, 10)}日`), 'the taken slot is not suggested again');
      }
      assert(await page.locator('.sched-held').count() === 1, 'the other hold is drawn on the lead\'s row');
      assert((await adminApi('GET', '/v1/meetings?case=Y-01')).meetings.length === 1, 'nothing was booked');
      await screen(page, 'schedule-409-suggestions');
      await adminApi('DELETE', `/v1/holds/${theirs.id}`);
    }],

    ['日程調整: 422 consent refusal shows the API\'s message; leaving the screen releases the hold', async () => {
      // 本人 excludes ssw for a while (the demo case's exclusion is the 子's, which binds no meeting)
      const orig = (await adminApi('GET', '/v1/cases/Y-01')).case;
      const excl = JSON.parse(JSON.stringify(orig));
      excl.members.find((m) => m.relation === '本人').consent_excludes = ['ssw'];
      await adminApi('PUT', '/v1/cases/Y-01', excl);
      try {
        await consentRefused();
      } finally {
        await adminApi('PUT', '/v1/cases/Y-01', orig);
      }
    }],

    ['日程調整: 支援会議 shows the 守秘義務 notice on the form and at 確認; a non-member is refused with the API\'s message', async () => {
      const page = await secr();
      await open(page, '2026-12-07', '2026-12-19', ['ハローワークやまなみ']);
      await chooseAndConfirm(page, '重層的支援会議');
      await page.getByLabel('会議の種類').selectOption('支援会議');
      await page.locator('.confidential').waitFor();
      assert((await page.locator('#book-type').locator('xpath=ancestor::form').innerText()).includes('構成員ではない機関: ハローワークやまなみ'),
        'the non-member is named before anything is sent');
      await screen(page, 'schedule-support-meeting-form');
      await page.getByRole('button', { name: '確認へ進む' }).click();
      await page.getByRole('heading', { name: '予約の内容を確認してください' }).waitFor();
      assert(await page.locator('.confidential').count() === 1, 'the notice at 確認');
      page.allowed4xx = 1;
      await page.getByRole('button', { name: 'この内容で予約する' }).click();
      await page.getByText('「ハローワークやまなみ」は支援会議の構成員ではないため招待できません').waitFor();
      await screen(page, 'schedule-support-meeting-refused');
      await page.goto(`${BASE}/#/cases/Y-01`);
      await page.getByRole('heading', { name: '事例 Y-01' }).waitFor();
      await dropHolds();
    }],

    ['日程調整: a feed made to fail is marked on its row and no candidate is offered through it', async () => {
      await adminApi('POST', '/v1/import', cityDoc((doc) => {
        for (const c of doc.agencies.find((a) => a.id === 'kodomo').calendars) c.url = join(cityDir, 'calendars/no-such-file.ics');
      }));
      await waitFeeds('kodomo', 'failing');
      try {
        const page = await secr();
        await open(page, '2026-12-07', '2026-12-19', ['こども家庭センター']);
        const row = rowOf(page, 'こども家庭センター');
        assert((await row.getAttribute('class')).includes('sched-who--warn'), 'the row is marked');
        assert((await row.innerText()).includes('取得に失敗 (未取得: 空きとは扱いません)'), `the row says why: ${await row.innerText()}`);
        assert(await page.locator('.sched-cell--warn').count() >= 10, 'its cells are hatched');
        await page.getByText('こども家庭センターの予定をまだ一度も取得できていないため、候補を出せません').waitFor();
        assert(await page.locator('.sched-cand').count() === 0, 'no candidate while it is required');
        await screen(page, 'schedule-failing-feed');
        await page.getByRole('button', { name: 'こども家庭センター を任意にして探し直す' }).click();
        await page.locator('.sched-cand').first().waitFor();
        const list = await page.getByRole('list', { name: /候補 \d+件/ }).innerText();
        assert(!list.includes('こども家庭センター'), `never offered as able to attend: ${list}`);
      } finally {
        await adminApi('POST', '/v1/import', cityDoc());
        await waitFeeds('kodomo', 'ok');
      }
    }],

    ['日程調整: a stale feed (ok, but not fetched for hours) is marked on its row as a failing one is', async () => {
      // The e2e daemon's clock is pinned (TSUNAGU_NOW), so its data is
      // never old here: the API's stale mark (tested for real, data made
      // old, in itest_stale) is put into the answers the page receives.
      const page = await secr();
      const mark = { stale: true, stale_calendars: ['kyodo'], stale_age_seconds: 7200, stale_last_success: '2026-12-01T07:00:00+09:00',
        stale_text: '予定が古い可能性があります（最終取得：12月1日(火) 07:00、2時間前）' };
      await page.route('**/v1/slots', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        Object.assign(body.diagnostics.attendees.find((a) => a.agency === 'kyodo'), mark);
        body.diagnostics.warnings.push(`kyodo: ${mark.stale_text}。その後の予定の変更は反映されていません (feed not fetched for 120 min: data may be stale)`);
        await route.fulfill({ response: res, json: body });
      });
      await page.route('**/v1/busy?*', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        Object.assign(body.agencies.find((a) => a.agency === 'kyodo'), mark);
        await route.fulfill({ response: res, json: body });
      });
      await open(page, '2026-12-07', '2026-12-19');
      const row = rowOf(page, '福祉政策課');
      assert((await row.getAttribute('class')).includes('sched-who--warn'), 'the row is marked');
      const text = await row.innerText();
      assert(text.includes('⚠ 予定が古い可能性') && text.includes('データ: 2時間前'), `the row says why and how old: ${text}`);
      assert(await page.locator('.sched-cell--warn').count() === 10, 'its ten days are hatched, and no other row\'s');
      await page.getByText('kyodo: 予定が古い可能性があります（最終取得：12月1日(火) 07:00、2時間前）', { exact: false }).waitFor();
      await screen(page, 'schedule-stale-feed');
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }],

    ['日程調整: a mouse click on a candidate scrolled sideways out of sight behind the names column', async () => {
      const page = await secr({ viewport: { width: 1093, height: 614 }, scale: 1.25 });
      await open(page, '2026-12-07', '2026-12-19');
      await page.locator('.sched-cand').first().waitFor();
      // a candidate that the box can scroll to 40 px past its left edge (not on the first or last days)
      const rank = await page.evaluate(() => {
        const s = document.querySelector('.sched-scroll'), g = s.firstChild.getBoundingClientRect();
        const max = s.scrollWidth - s.clientWidth;
        const c = [...document.querySelectorAll('.sched-cand')].find((b) => {
          const x = b.getBoundingClientRect().left - g.left;
          return x > 80 && x + 40 < max;
        });
        return c ? c.dataset.rank : null;
      });
      assert(rank, 'a candidate away from the ends of the window');
      const cand = page.locator(`.sched-cand[data-rank="${rank}"]`);
      // scroll so that it sits where the names column is on screen (40 px left of the days' box);
      // the page is first scrolled up or down only, so that the candidate's row is on screen
      const hidden = () => page.evaluate((n) => {
        const s = document.querySelector('.sched-scroll'), c = document.querySelector(`.sched-cand[data-rank="${n}"]`);
        window.scrollBy(0, c.getBoundingClientRect().top - 120);
        s.scrollLeft += c.getBoundingClientRect().left - s.getBoundingClientRect().left + 40;
        const r = c.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2, r.top + 20);
        return at && at.closest('.sched-who') ? true : JSON.stringify({ at: at && at.className, r, box: s.getBoundingClientRect(), sl: s.scrollLeft });
      }, rank);
      const clear = () => page.evaluate((n) => {
        const c = document.querySelector(`.sched-cand[data-rank="${n}"]`);
        window.scrollBy(0, c.getBoundingClientRect().top - 120);
        const r = c.getBoundingClientRect();
        return document.elementFromPoint(r.left + r.width / 2, r.top + 20) === c;
      }, rank);
      const h0 = await hidden();
      assert(h0 === true, `candidate ${rank} is out of sight behind the names column before the click: ${h0}`);
      await screen(page, 'schedule-candidate-behind-names');
      // focus (Tab, or a screen reader) scrolls it into view, clear of the names column
      await cand.focus();
      assert(await clear(), `focused, candidate ${rank} is scrolled clear of the names column`);
      assert(await hidden() === true, 'out of sight again');
      await cand.click({ timeout: 5000 });         // the mouse: scrolled into view, then clicked where it is
      await page.getByRole('heading', { name: /^予約: / }).waitFor();
      assert(await clear(), 'the clicked candidate is in view');
      assert(await page.getByText(`候補${rank} を30分間仮押さえしました。`).count() === 1, `candidate ${rank} was chosen`);
      await page.goto(`${BASE}/#/`);
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      for (let i = 0; i < 50 && (await activeHolds()).length; i++) await new Promise((r) => setTimeout(r, 100));
      await dropHolds();
    }],

    ['日程調整 at 1366x768 (125 %) and 390 px wide', async () => {
      for (const [name, opts] of [['1366x768-125', { viewport: { width: 1093, height: 614 }, scale: 1.25 }],
        ['390px', { viewport: { width: 390, height: 844 } }]]) {
        const page = await secr(opts);
        await open(page, '2026-12-07', '2026-12-19');
        await page.locator('.sched-cand').first().waitFor();
        const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert(over <= 0, `${name}: the page scrolls sideways by ${over} px`);
        const scroll = await page.evaluate(() => { const s = document.querySelector('.sched-scroll'); return s.scrollWidth > s.clientWidth; });
        assert(scroll, `${name}: the grid scrolls in its own box`);
        const small = await page.evaluate(() => [...document.querySelectorAll('main button, main select, main input')]
          .filter((e) => e.offsetParent && e.getBoundingClientRect().height < 44).map((e) => e.id || e.textContent).slice(0, 5));
        assert(!small.length, `${name}: targets under 44 px: ${small}`);
        // every name is read in full: nothing cut off at the bottom of its
        // row, the long one on at most two lines, a whole day beside the
        // names, and each name level with its row of the grid
        await page.waitForFunction(() => [...document.querySelectorAll('.sched-who')].every((w) => w.scrollHeight <= w.clientHeight));
        const names = await page.evaluate(() => {
          const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el); return new Set([...r.getClientRects()].map((q) => Math.round(q.top))).size; };
          const long = [...document.querySelectorAll('.sched-who strong')].find((s) => s.textContent === 'くらしサポートセンター（自立相談支援機関）');
          const cells = document.querySelectorAll('.sched-grid > .sched-cell'), days = document.querySelectorAll('.sched-grid > .sched-day').length;
          const level = [...document.querySelectorAll('.sched-who')].every((w, i) => Math.abs(w.getBoundingClientRect().top - cells[i * days].getBoundingClientRect().top) < 1);
          return { long: long ? lines(long) : 0, level, room: document.querySelector('.sched-scroll').clientWidth - document.querySelector('.sched-day').offsetWidth };
        });
        assert(names.long >= 1 && names.long <= 2, `${name}: the long agency name on ${names.long} lines`);
        assert(names.level, `${name}: the names are level with their rows`);
        assert(names.room >= 0, `${name}: a whole day beside the names (${names.room} px to spare)`);
        await screen(page, `schedule-grid-${name}`);
        await page.getByRole('list', { name: /候補 \d+件/ }).getByRole('button').first().click();
        await page.getByRole('heading', { name: /^予約: / }).waitFor();
        await screen(page, `schedule-booking-${name}`);
        await page.goto(`${BASE}/#/`);
        await page.getByRole('heading', { name: 'ホーム' }).waitFor();
        for (let i = 0; i < 50 && (await activeHolds()).length; i++) await new Promise((r) => setTimeout(r, 100));
      }
      assert((await activeHolds()).length === 0, 'no hold left behind');
    }],
  ];
}
