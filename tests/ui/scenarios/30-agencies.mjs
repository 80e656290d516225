// SPDX-License-Identifier: MIT
// 30-agencies.mjs - browser tests of 機関 (staff) and 自分の機関 (an agency
// account's ホーム), issue 10.
//
// A small HTTP server on loopback stands in for one agency's calendar
// (kodomo): the city is imported again with kodomo's calendar pointing at
// it.  It first answers 401, so the feed fails and 機関 shows the daemon's
// advice (認証に失敗しました…); then it serves an HTML page and 更新
// shows, without a page reload, that the URL is not iCalendar; later,
// when it serves the calendar again, 更新 brings the agency's count (失敗
// 1件 -> すべて正常) and the city's totals along, also without a reload.  The staff
// agency page shows its busy week (前の週 / 次の週), with the days off
// named (年末年始, 元日) there and on 自分の機関, also at 390 px, and a stale
// calendar marked (the API's mark put into the answers: the clock is
// pinned here; itest_stale makes it for real).  A screen
// still loading (its answer delayed with page.route) when the person
// navigates elsewhere does not draw over the new one.  The kodomo account's
// ホーム shows its own feed with the same advice (its own 更新 waits out
// the failing feed's backoff: the API's 429 sentence), its busy week, the link
// to 会議, and issues a meetings.ics subscription address that works
// without a login (and copy instructions for Outlook and Google).  The
// account cannot open 機関, another agency's page, or staff screens, and
// the API refuses it (403).  At the end the fixture calendar is restored
// so that later scenarios see every feed healthy.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export default function ({ BASE, ROOT, assert, adminApi, person, screen, login }) {
  let server = null, calUrl = null, mode = '401';
  let staff = null;
  const KODOMO_PW = 'kodomo-tsubaki-2026';          // set by e2e.mjs's agency scenario

  function cityDoc(kodomoUrl) {
    const cityDir = join(ROOT, 'tests/data/yamanami');
    const doc = JSON.parse(readFileSync(join(cityDir, 'agencies.json'), 'utf8'));
    for (const a of doc.agencies) {
      for (const c of a.calendars || []) {
        c.url = resolve(cityDir, c.url);
        if (c.id === 'kodomo' && kodomoUrl) c.url = kodomoUrl;
      }
    }
    return doc;
  }

  async function feedState(id, want, timeoutMs = 10000) {
    for (let waited = 0; ; waited += 100) {
      const f = await adminApi('GET', `/v1/feeds/${id}`);
      if (f.state === want) return f;
      if (waited > timeoutMs) throw new Error(`feed ${id} never became ${want}: ${JSON.stringify(f)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // fetch() from inside the page, as a script on it could; the refusals
  // show up as console 4xx lines, which the caller allows for.
  function inPage(page, method, path) {
    return page.evaluate(async ({ method, path }) => {
      const s = await (await fetch('/v1/session')).json();
      const r = await fetch(path, { method, headers: method === 'GET' ? {} : { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' },
        body: method === 'GET' ? undefined : '{}' });
      return { status: r.status, body: await r.json().catch(() => null) };
    }, { method, path });
  }

  return [
    ['機関: a failing calendar is explained in plain Japanese, and 更新 shows the result in place', async () => {
      server = createServer((req, res) => {
        if (mode === 'ics') {
          res.writeHead(200, { 'Content-Type': 'text/calendar; charset=utf-8' });
          res.end(readFileSync(join(ROOT, 'tests/data/yamanami/calendars/kodomo.ics')));
        } else if (mode === '401') {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cal"', 'Content-Type': 'text/plain' });
          res.end('unauthorized');
        } else {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><html><body><p>ログインしてください</p></body></html>');
        }
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      calUrl = `http://127.0.0.1:${server.address().port}/kodomo.ics`;
      await adminApi('POST', '/v1/import', cityDoc(calUrl));
      await adminApi('POST', '/v1/feeds/kodomo/refresh?force=1');
      await feedState('kodomo', 'failing');

      staff = await person();
      await login(staff, 'tanaka', 'coord-sakura-2026');
      await staff.getByRole('heading', { name: 'ホーム' }).waitFor();
      await staff.getByRole('link', { name: '機関', exact: true }).click();
      await staff.getByRole('heading', { name: '機関', exact: true }).waitFor();
      const row = staff.locator('tr[data-feed="kodomo"]');
      await row.getByText('認証に失敗しました。カレンダーのユーザー名とパスワードを確認してください').waitFor();
      assert(await row.getByText('失敗', { exact: true }).count() === 1, 'the row says 失敗');
      assert(await staff.getByLabel('表示する機関').inputValue() === 'trouble', 'only agencies with trouble are shown first');
      await screen(staff, 'agencies-failing');

      // 更新: the page is not reloaded, the row changes
      await staff.evaluate(() => { window.__notReloaded = true; });
      mode = 'html';
      await row.getByRole('button', { name: 'カレンダー kodomo を更新' }).click();
      await row.getByText('このURLはiCalendarではありません', { exact: false }).first().waitFor();
      await row.locator('.refresh-result').getByText('取得に失敗しました', { exact: false }).waitFor();
      assert(await staff.evaluate(() => window.__notReloaded === true), 'no page reload');
      await row.getByText('技術的な内容').click();
      await row.getByText('not an iCalendar document', { exact: false }).waitFor();
      await screen(staff, 'agencies-refreshed');
      await staff.getByLabel('表示する機関').selectOption('');
      assert(await staff.locator('tr[data-feed]').count() > 10, 'every agency with its feeds');
      assert(await staff.locator('tr[data-feed="kodomo"]').getByText('このURLはiCalendarではありません', { exact: false }).count() === 1,
        'the list, drawn again, keeps the refreshed state');
      await screen(staff, 'agencies-all');
      const zoomed = await person({ viewport: { width: 1093, height: 614 }, scale: 1.25 });   // 1366x768 at 125 %
      await login(zoomed, 'tanaka', 'coord-sakura-2026');
      await zoomed.getByRole('heading', { name: 'ホーム' }).waitFor();
      await zoomed.goto(`${BASE}/#/agencies`);
      await zoomed.locator('tr[data-feed="kodomo"]').waitFor();
      assert(await zoomed.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling at 125 %');
      await screen(zoomed, 'agencies-1366x768-125');
    }],

    ['機関: an agency page with a week of busy time (busy only, hours greyed, text alternative)', async () => {
      const page = await person();                      // a fresh session (SESSION_IDLE is short here)
      await login(page, 'tanaka', 'coord-sakura-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      await page.goto(`${BASE}/#/agencies/houkatsu-hokubu`);
      await page.getByRole('heading', { name: '北部地域包括支援センター' }).waitFor();
      await page.locator('.week-busy').first().waitFor();
      const first = await page.locator('#week-heading').textContent();
      assert(/予定あり時間: \d+月\d+日\(月\)〜\d+月\d+日\(日\)/.test(first), `week heading ${first}`);
      assert(await page.locator('.week-list li').count() === 7, 'seven days in the text list');
      assert(await page.locator('.week-list').getByText('予定あり', { exact: false }).count() > 0, 'busy time in words');
      assert(await page.locator('.week-grid[aria-hidden="true"]').count() === 1, 'the drawing is hidden from screen readers');
      assert(await page.locator('.week-off--day').count() >= 2, 'the weekend is greyed');
      await screen(page, 'agency-week');
      await page.getByRole('button', { name: '次の週' }).click();
      await page.waitForFunction((t) => document.querySelector('#week-heading').textContent !== t, first);
      await page.getByRole('button', { name: '前の週' }).click();
      await page.waitForFunction((t) => document.querySelector('#week-heading').textContent === t, first);
      // keyboard: the buttons are reachable and the heading takes focus
      await page.getByRole('button', { name: '次の週' }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'week-heading');
    }],

    ['機関 and 自分の機関: the week view names the days off (年末年始, 元日), as the 日程調整 grid does', async () => {
      for (const [name, opts] of [['', {}], ['-390px', { viewport: { width: 390, height: 844 } }]]) {
        const page = await person(opts);
        await login(page, 'tanaka', 'coord-sakura-2026');
        await page.getByRole('heading', { name: 'ホーム' }).waitFor();
        await page.goto(`${BASE}/#/agencies/houkatsu-hokubu`);
        await page.locator('.week-list li').first().waitFor();
        for (let i = 0; i < 4; i++) {                       // 12/1 -> the week of 12/28
          const t = await page.locator('#week-heading').textContent();
          await page.getByRole('button', { name: '次の週' }).click();
          await page.waitForFunction((x) => document.querySelector('#week-heading').textContent !== x, t);
        }
        // the drawn week must be the one the heading names, even when the
        // four answers come back out of order (older ones are dropped)
        await page.waitForFunction(() => document.querySelectorAll('.week-list li').length === 7 && document.querySelector('#week-heading').textContent.includes('12月28日')
          && [...document.querySelectorAll('.week-day .week-head')].some((x) => x.textContent.includes('12月28日')));
        const heads = await page.locator('.week-head').allInnerTexts();
        assert(heads.filter((x) => x.includes('年末年始')).length >= 3, `12/29-12/31 labelled 年末年始: ${heads}`);
        assert(heads.some((x) => x.includes('1月1日') && x.includes('元日')), `1/1 labelled 元日: ${heads}`);
        assert(!heads.some((x) => x.includes('12月28日') && x.includes('年末年始')), `12/28 is a working day: ${heads}`);
        const list = await page.locator('.week-list').innerText();
        assert(list.includes('休み: 元日') && list.includes('休み: 年末年始'), `the text list names them too: ${list}`);
        assert(await page.locator('.week-holiday', { hasText: '元日' }).count() === 1, 'the day column is greyed and labelled');
        await screen(page, `agency-week-holidays${name}`);
        await page.context().close();
      }
      const own = await person();                       // 自分の機関: the same week view
      await login(own, 'kodomo1', KODOMO_PW);
      await own.locator('.week-list li').first().waitFor();
      for (let i = 0; i < 4; i++) {
        const t = await own.locator('#week-heading').textContent();
        await own.getByRole('button', { name: '次の週' }).click();
        await own.waitForFunction((x) => document.querySelector('#week-heading').textContent !== x, t);
      }
      await own.waitForFunction(() => document.querySelector('#week-heading').textContent.includes('12月28日'));
      await own.locator('.week-head', { hasText: '元日' }).waitFor();
      await screen(own, 'own-agency-week-holidays');
      await own.context().close();
    }],

    ['機関: a stale calendar (ok, but not fetched for hours) is marked in the table and above the week', async () => {
      // the e2e daemon's clock is pinned, so the API's stale mark (made for
      // real in itest_stale) is put into the answers the page receives
      const page = await person();
      await login(page, 'tanaka', 'coord-sakura-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      const text = '予定が古い可能性があります（最終取得：12月1日(火) 07:00、2時間前）';
      await page.route('**/v1/agencies/houkatsu-hokubu', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        Object.assign(body.feeds[0], { stale: true, stale_age_seconds: 7200, stale_text: text, last_success: '2026-12-01T07:00:00+09:00' });
        await route.fulfill({ response: res, json: body });
      });
      await page.route('**/v1/agencies/houkatsu-hokubu/busy?*', async (route) => {
        const res = await route.fetch();
        const body = await res.json();
        Object.assign(body, { stale: true, stale_calendars: ['houkatsu-hokubu'], stale_age_seconds: 7200, stale_text: text });
        await route.fulfill({ response: res, json: body });
      });
      await page.goto(`${BASE}/#/agencies/houkatsu-hokubu`);
      await page.locator('.week-list li').first().waitFor();
      const row = page.locator('tr[data-feed="houkatsu-hokubu"]');
      assert((await row.getAttribute('class')) === 'feed--stale', 'the row is marked');
      assert(await row.getByText('古い可能性', { exact: true }).count() === 1, 'a badge beside 正常');
      await row.getByText(`${text}。しばらく取得できていません`, { exact: false }).waitFor();
      await page.locator('.week').getByText('しばらく取得できていないカレンダーがあります (houkatsu-hokubu)', { exact: false }).waitFor();
      await screen(page, 'agency-stale-feed');
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      await page.context().close();
    }],

    ['a screen still loading when the person navigates away does not draw over the new screen', async () => {
      const page = await person();
      await login(page, 'tanaka', 'coord-sakura-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      let delayed = 0;
      await page.route('**/v1/agencies/houkatsu-hokubu', async (route) => {
        delayed++;
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue().catch(() => {});       // the page may have given up on it
      });
      await page.goto(`${BASE}/#/agencies/houkatsu-hokubu`);
      await page.waitForFunction(() => true);
      for (let i = 0; i < 50 && !delayed; i++) await new Promise((r) => setTimeout(r, 20));
      assert(delayed === 1, 'the agency page is waiting for its data');
      await page.getByRole('link', { name: '会議', exact: true }).click();
      await page.getByRole('heading', { name: '会議', exact: true }).waitFor();
      await new Promise((r) => setTimeout(r, 2500));      // the slow answer would have come by now
      assert(await page.getByRole('heading', { name: '北部地域包括支援センター' }).count() === 0, 'the agency page did not draw');
      assert(await page.getByText('カレンダーの取得状況').count() === 0, 'nothing of it below the new screen');
      assert(await page.getByRole('heading', { level: 1 }).count() === 1, 'one screen');
      assert(/^会議/.test(await page.title()), `the title is the new screen's: ${await page.title()}`);
      await screen(page, 'navigate-away-while-loading');
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      await page.context().close();
    }],

    ['自分の機関: the agency account sees its own calendars, week and subscription address', async () => {
      const page = await person();
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      await login(page, 'kodomo1', KODOMO_PW);
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      await page.getByRole('heading', { name: 'カレンダーの取得状況' }).waitFor();
      await page.locator('tr[data-feed="kodomo"]').getByText('このURLはiCalendarではありません', { exact: false }).first().waitFor();
      assert(await page.locator('tr[data-feed]').count() === 1, 'its own calendar only');
      // an agency waits out the failing feed's backoff: the API's sentence, in place
      page.allowed4xx = 1;
      await page.getByRole('button', { name: 'カレンダー kodomo を更新' }).click();
      await page.locator('tr[data-feed="kodomo"] .refresh-result').getByText('秒後に再度お試しください', { exact: false }).waitFor();
      page.allowed4xx = 0;
      assert(await page.getByRole('link', { name: '会議の一覧と出欠の回答' }).getAttribute('href') === '#/meetings', 'links to 会議');
      await page.locator('.week-list li').first().waitFor();
      for (const t of ['予定表の追加', 'インターネットから', '他のカレンダー', 'URLで追加', 'インターネットから購読'])
        assert(await page.getByText(t, { exact: false }).count() > 0, `instructions mention ${t}`);
      await page.getByText('購読用アドレスはまだ発行されていません。').waitFor();
      await page.getByRole('button', { name: '購読用アドレスを発行する' }).click();
      const url = await page.getByLabel('購読用アドレス').inputValue();
      assert(/^http:\/\/127\.0\.0\.1:\d+\/v1\/ics\/ics_[0-9a-f]{64}\/meetings\.ics$/.test(url), `subscription url ${url}`);
      await page.getByRole('button', { name: 'アドレスをコピー' }).click();
      await page.getByText('コピーしました', { exact: false }).waitFor();
      assert(await page.evaluate(() => navigator.clipboard.readText()) === url, 'the address is on the clipboard');
      const ics = await fetch(url);                     // a calendar app: no login, no token
      assert(ics.status === 200 && (await ics.text()).startsWith('BEGIN:VCALENDAR'), 'the address serves meetings.ics');
      await screen(page, 'own-agency');
      // re-issue stops the old address
      await page.getByRole('button', { name: '再発行する' }).click();
      await page.waitForFunction((u) => document.querySelector('#sub-url') && document.querySelector('#sub-url').value !== u, url);
      assert((await fetch(url)).status === 404, 'the old address stops working');
      const wide = await person({ viewport: { width: 390, height: 844 } });
      await login(wide, 'kodomo1', KODOMO_PW);
      await wide.getByRole('heading', { name: '予定表の購読 (meetings.ics)' }).waitFor();
      await wide.locator('.week-list li').first().waitFor();
      await wide.getByText('に発行済みです', { exact: false }).waitFor();
      await screen(wide, 'own-agency-390px');
    }],

    ['自分の機関: nothing about other agencies, in the browser and from the API', async () => {
      const page = await person();                      // a fresh session (SESSION_IDLE is short here)
      await login(page, 'kodomo1', KODOMO_PW);
      await page.getByRole('heading', { name: 'カレンダーの取得状況' }).waitFor();
      assert(await page.getByRole('link', { name: '機関', exact: true }).count() === 0, 'no 機関 menu for an agency');
      await page.goto(`${BASE}/#/agencies`);
      await page.getByText('この画面を使う権限がありません。').waitFor();
      await screen(page, 'agency-agencies-refused');
      await page.goto(`${BASE}/#/agencies/houkatsu-hokubu`);
      await page.getByText('この画面を使う権限がありません。').waitFor();
      assert(await page.getByText('北部地域包括支援センター').count() === 0, 'nothing of the other agency is shown');
      await page.goto(`${BASE}/#/users`);
      await page.getByText('この画面を使う権限がありません。').waitFor();
      const refused = [['GET', '/v1/agencies/houkatsu-hokubu'], ['GET', '/v1/agencies/houkatsu-hokubu/busy'],
        ['GET', '/v1/feeds/houkatsu-hokubu'], ['POST', '/v1/feeds/houkatsu-hokubu/refresh'],
        ['GET', '/v1/agencies/houkatsu-hokubu/ics-key'], ['POST', '/v1/agencies/houkatsu-hokubu/ics-key'],
        ['GET', '/v1/overview/home'], ['GET', '/v1/overview/vocabulary']];
      page.allowed4xx = refused.length;
      for (const [m, p] of refused) {
        const r = await inPage(page, m, p);
        assert(r.status === 403, `${m} ${p}: ${r.status}`);
      }
      const list = await inPage(page, 'GET', '/v1/agencies');
      assert(list.status === 200 && list.body.agencies.length === 1 && list.body.agencies[0].id === 'kodomo', 'the list holds its own agency only');
      page.allowed4xx = 0;
    }],

    ['機関: after 更新 mends a failing calendar, its agency\'s count and the totals change without a reload', async () => {
      const page = await person();
      await login(page, 'tanaka', 'coord-sakura-2026');
      await page.getByRole('heading', { name: 'ホーム' }).waitFor();
      await page.goto(`${BASE}/#/agencies`);
      const row = page.locator('tr[data-feed="kodomo"]');
      await row.waitFor();
      const section = page.locator('section.agency', { has: row });
      const count = section.locator('h2 .count');
      const totals = page.locator('#agency-totals');
      const failed = (t) => Number((/失敗 (\d+)件/.exec(t) || [])[1]);
      const before = failed(await totals.textContent());
      assert(before >= 1, `the totals count kodomo's failure: ${await totals.textContent()}`);
      assert(await count.textContent() === '失敗 1件', `kodomo's count: ${await count.textContent()}`);
      assert(/agency--failing/.test(await section.getAttribute('class')), 'the agency is marked failing');
      await page.evaluate(() => { window.__notReloaded = true; });
      mode = 'ics';                                     // the calendar answers properly again
      await row.getByRole('button', { name: 'カレンダー kodomo を更新' }).click();
      await row.locator('.refresh-result').getByText('を取得しました (正常)', { exact: false }).waitFor();
      assert(await count.textContent() === 'すべて正常', `kodomo's count after 更新: ${await count.textContent()}`);
      assert(!/agency--failing/.test(await section.getAttribute('class')), 'the failing mark is gone');
      assert(failed(await totals.textContent()) === before - 1, `the totals after 更新: ${await totals.textContent()}`);
      assert(await page.evaluate(() => window.__notReloaded === true), 'no page reload');
      await screen(page, 'agencies-count-updated');
      await page.context().close();
    }],

    ['機関: the fixture calendar is restored for the scenarios after this file', async () => {
      await adminApi('POST', '/v1/import', cityDoc(null));
      await adminApi('POST', '/v1/feeds/kodomo/refresh?force=1');
      await feedState('kodomo', 'ok');
      await adminApi('DELETE', '/v1/agencies/kodomo/ics-key');
      await new Promise((r) => server.close(r));
    }],
  ];
}
