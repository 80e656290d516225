// SPDX-License-Identifier: MIT
// vocab.js - the words the case screens offer, loaded once per page load:
// districts, agencies (id -> name), relations and meeting types from
// /v1/overview/vocabulary, and the feature words the loaded rules know
// from /v1/rules (staff only).

import { get } from './api.js';

let cached = null;

export async function vocabulary() {
  if (cached) return cached;
  const [v, rules] = await Promise.all([get('/v1/overview/vocabulary'), get('/v1/rules').catch(() => ({ features: [] }))]);
  v.features = rules.features || [];
  v.agencyName = Object.fromEntries(v.agencies.map((a) => [a.id, a.name]));
  cached = v;
  return v;
}

export function agencyLabel(v, id) {
  if (!id) return 'なし';
  return v && v.agencyName[id] ? v.agencyName[id] : id;
}
