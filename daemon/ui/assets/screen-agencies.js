// SPDX-License-Identifier: MIT
// screen-agencies.js - 機関 (staff): every agency with its calendars.
// GET /v1/agencies gives the agencies and their feed counts; the feeds
// themselves come from GET /v1/feeds, page by page (5,000 a page), and
// are grouped here by agency.  A city with more than ALL_FEEDS_MAX
// calendars gets only the failing and pending ones here (?state=), and
// each agency's page lists all of its own.  Each agency's feeds are shown with
// screen-agency.js's feedTable (state, last success, next poll, the
// daemon's plain-Japanese advice for a failure, and 更新; after 更新 the
// agency's count (失敗 n件 ...) and the city's totals above are updated in
// place, from the feed's state before and after).  A filter
// shows only the agencies with a failing or pending calendar; the text
// filter matches agency names and ids in the page, never in a URL.

import { get } from './api.js';
import { h, add, clear, field, select, pageHeading, setTitle } from './ui.js';
import { feedTable } from './screen-agency.js';

const ALL_FEEDS_MAX = 2000;

async function feedPages(state) {
  const out = [];
  for (let offset = 0; ;) {
    const page = await get(`/v1/feeds?limit=5000&offset=${offset}${state ? `&state=${state}` : ''}`);
    out.push(...page.feeds);
    if (page.next_offset === null || page.next_offset === undefined || page.next_offset <= offset) return out;
    offset = page.next_offset;
  }
}

export async function render(main) {
  setTitle('機関');
  const { agencies } = await get('/v1/agencies');
  const n = (k) => agencies.reduce((sum, a) => sum + ((a.feeds && a.feeds[k]) || 0), 0);
  const failing = n('failing'), pending = n('pending'), total = n('ok') + failing + pending;
  const all = total <= ALL_FEEDS_MAX;
  const totals = h('p', { id: 'agency-totals' });
  const drawTotals = () => {
    const f = n('failing'), p = n('pending'), t = n('ok') + f + p;
    totals.textContent = `${agencies.length}機関、カレンダー ${t}件 (正常 ${t - f - p}件、失敗 ${f}件、取得中 ${p}件)。`;
  };
  drawTotals();
  const countText = (c) => {
    const count = (c.ok || 0) + (c.failing || 0) + (c.pending || 0);
    return c.failing ? `失敗 ${c.failing}件` : c.pending ? `取得中 ${c.pending}件` : count ? 'すべて正常' : '';
  };
  const feeds = all ? await feedPages('') : (await Promise.all([feedPages('failing'), feedPages('pending')])).flat();
  const byAgency = {};
  for (const f of feeds) (byAgency[f.agency] = byAgency[f.agency] || []).push(f);
  const which = select([['', 'すべての機関'], ['trouble', '失敗・取得中のカレンダーがある機関']], failing + pending ? 'trouble' : '');
  const text = h('input', { type: 'search', autocomplete: 'off' });
  const count = h('p', { 'aria-live': 'polite', id: 'agency-count' });
  const list = h('div', { class: 'agency-list' });
  add(main, pageHeading('機関'),
    totals,
    all ? null : h('p', {}, 'カレンダーが多いため、ここには失敗・取得中のものだけを表示します。正常なものは各機関のページで見られます。'),
    h('form', { class: 'filters', role: 'search', 'aria-label': '機関の絞り込み', onsubmit: (e) => e.preventDefault() },
      field('f-which', '表示する機関', which), field('f-agency', '機関名で探す', text)),
    count, list);
  const show = () => {
    const q = text.value.trim().toLowerCase();
    const shown = agencies.filter((a) => {
      if (which.value === 'trouble' && !(a.feeds && (a.feeds.failing || a.feeds.pending))) return false;
      return !q || a.id.toLowerCase().includes(q) || (a.name || '').toLowerCase().includes(q);
    });
    clear(list).append(...shown.map((a) => {
      const fs = byAgency[a.id] || [];
      const c = a.feeds || {};
      const count = (c.ok || 0) + (c.failing || 0) + (c.pending || 0);
      const badge = h('span', { class: 'count' }, countText(c));
      const section = h('section', { class: `agency${c.failing ? ' agency--failing' : ''}`, 'aria-labelledby': `ag-${a.id}` },
        h('h2', { id: `ag-${a.id}` }, h('a', { href: `#/agencies/${encodeURIComponent(a.id)}` }, a.name || a.id),
          ' ', badge),
        fs.length ? feedTable(fs, true, `${a.name || a.id} のカレンダー`, (f, was) => {
          // one feed refreshed: move it between the counts, here and above
          if (!a.feeds || f.state === was) return;
          if (a.feeds[was]) a.feeds[was]--;
          a.feeds[f.state] = (a.feeds[f.state] || 0) + 1;
          badge.textContent = countText(a.feeds);
          section.classList.toggle('agency--failing', !!a.feeds.failing);
          drawTotals();
        })
          : h('p', { class: 'empty' }, count ? `カレンダー ${count}件、すべて取得できています。` : 'カレンダーが登録されていません。'));
      return section;
    }));
    count.textContent = `${shown.length}機関を表示しています (全${agencies.length}機関)`;
  };
  which.addEventListener('change', show);
  text.addEventListener('input', show);
  show();
}
