/* SPDX-License-Identifier: MIT */
/*
 * rules_eval.c - evaluate a rule set against a case and the agency
 * registry, producing a proposal (DESIGN "Default lead-agency policy").
 *
 * Order of work
 *   1. features of the household and of each member become bit sets over
 *      the rule set's interned features; every rule is tested (a rule
 *      fires when any of its `when` lines holds; a line holds when all of
 *      its atoms hold; a member atom holds when one member meets all of
 *      its filters) and its scores are added to the field totals;
 *   2. 重層的支援会議 without 本人's consent stops here (consent-required);
 *   3. every agency outside the excluded fields becomes a candidate_t with
 *      its best field score, bonuses and eligibility failures;
 *   4. the lead is picked (forced field first, else any positive score),
 *      then one supporter per positive field the lead does not cover.
 *
 * "Best" is a linear scan with a lexicographic comparison (total, then the
 * tie-break steps of the rule set).  The step that separated the winner
 * from the runner-up is recorded: it is exactly the step that decided the
 * outcome, because the comparison is lexicographic.  Free working minutes
 * (tie-break 2) are fetched lazily through the caller's callback, so the
 * calendars are only consulted when two agencies really tie.
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

const char *tb_step_name(tb_step_t s)
{
    switch (s) {
    case TB_ONLY:         return "only";
    case TB_TOTAL:        return "total";
    case TB_LEAD_CASES:   return "lead-cases";
    case TB_FREE_MINUTES: return "free-minutes";
    case TB_ID:           return "id";
    }
    return "?";
}

/* ---- condition matching ------------------------------------------------ */

typedef struct bits {
    uint64_t *hh;           /* household feature bits */
    uint64_t *mem;          /* nmembers * words */
    size_t    words;
} bits_t;

static bool bit(const uint64_t *b, int i)
{
    return (b[i >> 6] >> (i & 63)) & 1;
}

static void set_features(uint64_t *b, const strvec_t *feats, const symtab_t *t)
{
    for (size_t i = 0; i < feats->n; i++) {
        int k = symtab_find(t, feats->v[i]);
        if (k >= 0)
            b[k >> 6] |= (uint64_t)1 << (k & 63);
    }
}

static void bits_build(bits_t *b, const ruleset_t *rs, const case_t *c)
{
    b->words = (rs->features.names.n + 63) / 64 + 1;
    b->hh = xcalloc(b->words * (c->nmembers + 1), sizeof *b->hh);
    b->mem = b->hh + b->words;
    set_features(b->hh, &c->features, &rs->features);
    for (size_t m = 0; m < c->nmembers; m++)
        set_features(b->mem + m * b->words, &c->members[m].features, &rs->features);
}

static bool any_bit(const uint64_t *b, const idlist_t *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        if (bit(b, ids->v[i]))
            return true;
    return false;
}

static bool filter_holds(const mfilter_t *f, const case_member_t *m,
                         const uint64_t *mb)
{
    switch (f->kind) {
    case MF_AGE:      return m->has_age && m->age >= f->lo && m->age <= f->hi;
    case MF_RELATION: return strvec_contains(&f->words, m->relation);
    case MF_HAS:      return any_bit(mb, &f->ids);
    case MF_LACKS:    return !any_bit(mb, &f->ids);
    }
    return false;
}

static bool member_atom_holds(const atom_t *a, const case_t *c, const bits_t *b)
{
    for (size_t m = 0; m < c->nmembers; m++) {
        size_t i = 0;
        while (i < a->nf && filter_holds(&a->f[i], &c->members[m], b->mem + m * b->words))
            i++;
        if (i == a->nf)
            return true;
    }
    return false;
}

static bool atom_holds(const atom_t *a, const case_t *c, const bits_t *b)
{
    switch (a->kind) {
    case A_HOUSEHOLD_HAS:   return any_bit(b->hh, &a->ids);
    case A_HOUSEHOLD_LACKS: return !any_bit(b->hh, &a->ids);
    case A_MEMBER:          return member_atom_holds(a, c, b);
    case A_URGENT:          return c->urgent;
    case A_MEETING:         return strvec_contains(&a->words, c->meeting_type);
    case A_DISTRICT:        return strvec_contains(&a->words, c->district);
    }
    return false;
}

static bool rule_fires(const rule_t *r, const case_t *c, const bits_t *b)
{
    for (size_t w = 0; w < r->nwhen; w++) {
        size_t i = 0;
        while (i < r->when[w].n && atom_holds(&r->when[w].atoms[i], c, b))
            i++;
        if (i == r->when[w].n)
            return true;
    }
    return false;
}

static void fire_rules(proposal_t *p)
{
    const ruleset_t *rs = p->rs;
    bits_t b;
    bits_build(&b, rs, p->kase);
    p->fired = xmalloc((rs->nrules + 1) * sizeof *p->fired);
    for (size_t i = 0; i < rs->nrules; i++) {
        const rule_t *r = &rs->rules[i];
        if (!rule_fires(r, p->kase, &b))
            continue;
        p->fired[p->nfired++] = (int)i;
        for (size_t s = 0; s < r->nscores; s++)
            p->field_score[r->scores[s].field] += r->scores[s].points;
        if (r->force_field >= 0 &&
            (p->forced_rule < 0 || r->precedence < rs->rules[p->forced_rule].precedence)) {
            p->forced_rule = (int)i;
            p->forced_field = r->force_field;
        }
    }
    free(b.hh);
}

static const proposal_t *sort_ctx;

static int cmp_field_order(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    int d = sort_ctx->field_score[b] - sort_ctx->field_score[a];
    return d ? d : a - b;
}

static void order_fields(proposal_t *p)
{
    size_t n = p->rs->fields.names.n;
    p->field_order = xmalloc((n + 1) * sizeof *p->field_order);
    for (size_t f = 0; f < n; f++)
        if (p->field_score[f] > 0 && !p->rs->field_excluded[f])
            p->field_order[p->nfield_order++] = (int)f;
    sort_ctx = p;
    qsort(p->field_order, p->nfield_order, sizeof *p->field_order, cmp_field_order);
    sort_ctx = NULL;
}

/* ---- candidates -------------------------------------------------------- */

static unsigned eligibility(const ruleset_t *rs, const case_t *c,
                            const case_member_t *self, const agency_t *a)
{
    unsigned fail = 0, on = rs->elig_enabled;
    if ((on & ELIG_DISTRICT) && a->areas.n && !strvec_contains(&a->areas, c->district))
        fail |= ELIG_DISTRICT;
    if ((on & ELIG_CONSENT) && !strcmp(c->meeting_type, CASE_MEETING_JUUSOU) && self &&
        strvec_contains(&self->consent_excludes, a->id))
        fail |= ELIG_CONSENT;
    if ((on & ELIG_MEETING) && !strcmp(c->meeting_type, CASE_MEETING_SUPPORT) &&
        !a->support_meeting_member)
        fail |= ELIG_MEETING;
    return fail;
}

/* Field ids of an agency (unknown field names are skipped); false when
 * one of them is excluded (the secretariat is never a candidate). */
#define MAX_AGENCY_FIELDS 16
static bool agency_field_ids(const ruleset_t *rs, const agency_t *a, int *ids, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < a->fields.n; i++) {
        int f = symtab_find(&rs->fields, a->fields.v[i]);
        if (f < 0)
            continue;
        if (rs->field_excluded[f])
            return false;
        if (*n < MAX_AGENCY_FIELDS)
            ids[(*n)++] = f;
    }
    return true;
}

static void fill_candidate(const proposal_t *p, const agency_t *a, const int *ids, size_t nids,
                           const case_member_t *self, candidate_t *cd)
{
    const ruleset_t *rs = p->rs;
    const case_t *c = p->kase;
    memset(cd, 0, sizeof *cd);
    cd->agency = a;
    cd->best_field = -1;
    for (size_t i = 0; i < nids; i++)
        if (cd->best_field < 0 || p->field_score[ids[i]] > cd->field_score) {
            cd->best_field = ids[i];
            cd->field_score = p->field_score[ids[i]];
        }
    if (c->involved.n && strvec_contains(&c->involved, a->id))
        cd->involved_bonus = rs->bonus_involved;
    if (c->first_contact && !strcmp(c->first_contact, a->id))
        cd->first_contact_bonus = rs->bonus_first;
    cd->total = cd->field_score + cd->involved_bonus + cd->first_contact_bonus;
    cd->fail = eligibility(rs, c, self, a);
    cd->fail_lead = cd->fail;
    if ((rs->elig_enabled & ELIG_CAPACITY) && a->lead_cases >= a->max_lead_cases)
        cd->fail_lead |= ELIG_CAPACITY;
}

/* Candidates plus the field -> candidates index (counting sort). */
static void build_candidates(proposal_t *p)
{
    size_t na = p->city->nagencies, nf = p->rs->fields.names.n;
    const case_member_t *self = case_self(p->kase);
    int *ids = xmalloc((na + 1) * MAX_AGENCY_FIELDS * sizeof *ids);
    size_t *nids = xcalloc(na + 1, sizeof *nids);
    p->cands = xcalloc(na + 1, sizeof *p->cands);
    p->field_start = xcalloc(nf + 2, sizeof *p->field_start);
    for (size_t i = 0; i < na; i++) {
        const agency_t *a = &p->city->agencies[i];
        int *my = ids + p->ncands * MAX_AGENCY_FIELDS;
        if (!agency_field_ids(p->rs, a, my, &nids[p->ncands]))
            continue;
        fill_candidate(p, a, my, nids[p->ncands], self, &p->cands[p->ncands]);
        for (size_t k = 0; k < nids[p->ncands]; k++)
            p->field_start[my[k] + 1]++;
        p->ncands++;
    }
    for (size_t f = 0; f < nf; f++)
        p->field_start[f + 1] += p->field_start[f];
    size_t *fill = xmalloc((nf + 1) * sizeof *fill);
    memcpy(fill, p->field_start, (nf + 1) * sizeof *fill);
    p->by_field = xmalloc((p->field_start[nf] + 1) * sizeof *p->by_field);
    for (size_t c = 0; c < p->ncands; c++)
        for (size_t k = 0; k < nids[c]; k++)
            p->by_field[fill[ids[c * MAX_AGENCY_FIELDS + k]]++] = (int)c;
    free(fill);
    free(ids);
    free(nids);
}

/* ---- choosing ---------------------------------------------------------- */

typedef struct chooser {
    proposal_t        *p;
    const rules_env_t *env;
    enum { PICK_LEAD_ANY, PICK_LEAD_FIELD, PICK_SUPPORT_FIELD } mode;
    int                field;
} chooser_t;

static int64_t free_minutes_of(chooser_t *ch, candidate_t *cd)
{
    if (!cd->free_known) {
        int64_t v = -1;
        if (ch->env && ch->env->free_minutes)
            v = ch->env->free_minutes(ch->env->free_ctx, cd->agency, ch->p->rs->free_days);
        cd->free_minutes = v < 0 ? 0 : v;
        cd->free_known = v >= 0;
    }
    return cd->free_minutes;
}

/* < 0 when a is better than b; *step = the step that separated them. */
static int compare(chooser_t *ch, int ia, int ib, tb_step_t *step)
{
    candidate_t *a = &ch->p->cands[ia], *b = &ch->p->cands[ib];
    *step = TB_TOTAL;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    for (size_t s = 0; s < ch->p->rs->nsteps; s++) {
        switch (ch->p->rs->steps[s]) {
        case TBK_LEAD_CASES:
            *step = TB_LEAD_CASES;
            if (a->agency->lead_cases != b->agency->lead_cases)
                return a->agency->lead_cases < b->agency->lead_cases ? -1 : 1;
            break;
        case TBK_FREE_MINUTES: {
            *step = TB_FREE_MINUTES;
            int64_t fa = free_minutes_of(ch, a), fb = free_minutes_of(ch, b);
            if (fa != fb)
                return fa > fb ? -1 : 1;
            break;
        }
        case TBK_ID:
            *step = TB_ID;
            return strcmp(a->agency->id, b->agency->id);
        }
    }
    *step = TB_ID;
    return strcmp(a->agency->id, b->agency->id);
}

static bool agency_covers(const proposal_t *p, const agency_t *a, int field)
{
    return strvec_contains(&a->fields, rules_field_name(p->rs, field));
}

static bool passes(chooser_t *ch, const candidate_t *cd)
{
    switch (ch->mode) {
    case PICK_LEAD_ANY:      return cd->fail_lead == 0 && cd->field_score > 0;
    case PICK_LEAD_FIELD:    return cd->fail_lead == 0;
    case PICK_SUPPORT_FIELD: return cd->fail == 0;
    }
    return false;
}

/* Best passing candidate other than skip; field modes scan only the
 * candidates that cover the field. */
static int scan_best(chooser_t *ch, int skip)
{
    int best = -1;
    tb_step_t st;
    const proposal_t *p = ch->p;
    bool by_field = ch->mode != PICK_LEAD_ANY;
    size_t from = by_field ? p->field_start[ch->field] : 0;
    size_t to = by_field ? p->field_start[ch->field + 1] : p->ncands;
    for (size_t k = from; k < to; k++) {
        int i = by_field ? p->by_field[k] : (int)k;
        if (i == skip || !passes(ch, &p->cands[i]))
            continue;
        if (best < 0 || compare(ch, i, best, &st) < 0)
            best = i;
    }
    return best;
}

static choice_t choose(chooser_t *ch)
{
    choice_t c = { .field = ch->field, .chosen = -1, .runner_up = -1,
                   .decided_by = TB_ONLY };
    c.chosen = scan_best(ch, -1);
    if (c.chosen < 0)
        return c;
    c.runner_up = scan_best(ch, c.chosen);
    if (c.runner_up >= 0)
        compare(ch, c.chosen, c.runner_up, &c.decided_by);
    return c;
}

static void choose_lead(proposal_t *p, const rules_env_t *env)
{
    chooser_t ch = { p, env, PICK_LEAD_FIELD, p->forced_field };
    if (p->forced_rule >= 0) {
        p->lead = choose(&ch);
        if (p->lead.chosen >= 0) {
            p->forced = true;
            return;
        }
        p->forced_fallback = true;
    }
    ch.mode = PICK_LEAD_ANY;
    ch.field = -1;
    p->lead = choose(&ch);
    if (p->lead.chosen < 0)
        p->status = PROPOSAL_NO_ELIGIBLE_LEAD;
}

static bool already_chosen(const proposal_t *p, int cand)
{
    if (cand == p->lead.chosen)
        return true;
    for (size_t i = 0; i < p->nsupports; i++)
        if (p->supports[i].reason == 0 && p->supports[i].chosen == cand)
            return true;
    return false;
}

static void choose_supports(proposal_t *p, const rules_env_t *env)
{
    const agency_t *lead = p->cands[p->lead.chosen].agency;
    p->supports = xcalloc(p->nfield_order + 1, sizeof *p->supports);
    for (size_t i = 0; i < p->nfield_order; i++) {
        int f = p->field_order[i];
        if (agency_covers(p, lead, f))
            continue;
        chooser_t ch = { p, env, PICK_SUPPORT_FIELD, f };
        choice_t c = choose(&ch);
        c.reason = c.chosen < 0 ? 2 : already_chosen(p, c.chosen) ? 1 : 0;
        p->supports[p->nsupports++] = c;
    }
}

static bool any_candidate(const proposal_t *p)
{
    for (size_t i = 0; i < p->ncands; i++)
        if (p->cands[i].field_score > 0)
            return true;
    return false;
}

void rules_propose(const ruleset_t *rs, const city_t *city, const case_t *kase,
                   const rules_env_t *env, proposal_t *out)
{
    memset(out, 0, sizeof *out);
    out->rs = rs;
    out->city = city;
    out->kase = kase;
    out->forced_rule = out->forced_field = -1;
    out->lead = (choice_t){ .field = -1, .chosen = -1, .runner_up = -1 };
    out->field_score = xcalloc(rs->fields.names.n + 1, sizeof *out->field_score);
    fire_rules(out);
    order_fields(out);
    const case_member_t *self = case_self(kase);
    if (!strcmp(kase->meeting_type, CASE_MEETING_JUUSOU) && (!self || !self->consent)) {
        out->status = PROPOSAL_CONSENT_REQUIRED;
        return;
    }
    build_candidates(out);
    if (out->nfired == 0 || !any_candidate(out)) {
        out->status = PROPOSAL_NO_CANDIDATE;
        return;
    }
    choose_lead(out, env);
    if (out->status == PROPOSAL_OK)
        choose_supports(out, env);
}

void proposal_free(proposal_t *p)
{
    if (!p)
        return;
    free(p->fired);
    free(p->field_score);
    free(p->field_order);
    free(p->cands);
    free(p->supports);
    free(p->by_field);
    free(p->field_start);
    memset(p, 0, sizeof *p);
}

const char *proposal_error_code(const proposal_t *p)
{
    switch (p->status) {
    case PROPOSAL_OK:               return NULL;
    case PROPOSAL_CONSENT_REQUIRED: return "consent-required";
    case PROPOSAL_NO_CANDIDATE:     return "no-candidate";
    case PROPOSAL_NO_ELIGIBLE_LEAD: return "no-eligible-lead";
    }
    return "internal";
}
