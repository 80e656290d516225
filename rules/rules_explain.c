/* SPDX-License-Identifier: MIT */
/*
 * rules_explain.c - turn a proposal into the API result object and into
 * the Japanese paragraph a secretariat reads aloud at the meeting.
 *
 * The explanation must let an agency see why it was chosen (押し付け合い
 * 防止), so it names every fired rule with its points and reason, every
 * candidate's total with its contributions and eligibility failures, and
 * the tie-break step that decided each choice.  JSON and text are built
 * from the same proposal_t, so they cannot disagree.
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

static const char *cand_id(const proposal_t *p, int i)
{
    return i >= 0 ? p->cands[i].agency->id : NULL;
}

static const char *cand_name(const proposal_t *p, int i)
{
    const agency_t *a = p->cands[i].agency;
    return a->name && a->name[0] ? a->name : a->id;
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *failure_labels(const ruleset_t *rs, unsigned fail)
{
    json_t *a = json_array();
    for (int k = 0; k < ELIG_KINDS; k++)
        if (fail & (1u << k))
            json_array_append_new(a, json_string(rules_elig_label(rs, 1u << k)));
    return a;
}

static void failure_text(strbuf_t *b, const ruleset_t *rs, unsigned fail)
{
    int n = 0;
    for (int k = 0; k < ELIG_KINDS; k++)
        if (fail & (1u << k))
            strbuf_printf(b, "%s%s", n++ ? "・" : "", rules_elig_label(rs, 1u << k));
}

/* Candidates worth listing: a positive field score. Sorted by total, id. */
static const proposal_t *list_ctx;

static int cmp_listed(const void *x, const void *y)
{
    const candidate_t *a = &list_ctx->cands[*(const int *)x];
    const candidate_t *b = &list_ctx->cands[*(const int *)y];
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return strcmp(a->agency->id, b->agency->id);
}

static int *listed_candidates(const proposal_t *p, size_t *n)
{
    int *v = xmalloc((p->ncands + 1) * sizeof *v);
    *n = 0;
    for (size_t i = 0; i < p->ncands; i++)
        if (p->cands[i].field_score > 0)
            v[(*n)++] = (int)i;
    list_ctx = p;
    qsort(v, *n, sizeof *v, cmp_listed);
    list_ctx = NULL;
    return v;
}

static int step_number(const ruleset_t *rs, tb_step_t s)
{
    tb_kind_t k = s == TB_LEAD_CASES ? TBK_LEAD_CASES :
                  s == TB_FREE_MINUTES ? TBK_FREE_MINUTES : TBK_ID;
    for (size_t i = 0; i < rs->nsteps; i++)
        if (rs->steps[i] == k)
            return (int)i + 1;
    return (int)rs->nsteps + 1;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *contributions_json(const proposal_t *p, const candidate_t *cd)
{
    const ruleset_t *rs = p->rs;
    json_t *a = json_array();
    for (size_t i = 0; i < p->nfired && cd->best_field >= 0; i++) {
        const rule_t *r = &rs->rules[p->fired[i]];
        for (size_t s = 0; s < r->nscores; s++)
            if (r->scores[s].field == cd->best_field)
                json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "rule", r->id,
                    "field", rules_field_name(rs, cd->best_field), "points",
                    r->scores[s].points));   /* the reason is in explanation.fired */
    }
    if (cd->involved_bonus)
        json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "bonus", "involved",
                              "points", cd->involved_bonus, "reason", rs->bonus_involved_reason));
    if (cd->first_contact_bonus)
        json_array_append_new(a, json_pack("{s:s, s:i, s:s}", "bonus", "first-contact",
                              "points", cd->first_contact_bonus, "reason", rs->bonus_first_reason));
    return a;
}

static json_t *candidate_json(const proposal_t *p, const candidate_t *cd)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:i, s:o, s:o, s:b, s:b}",
        "agency", cd->agency->id, "name", cd->agency->name ? cd->agency->name : cd->agency->id,
        "total", cd->total,
        "field", jstr_or_null(cd->best_field >= 0 ? rules_field_name(p->rs, cd->best_field) : NULL),
        "field_score", cd->field_score,
        "contributions", contributions_json(p, cd),
        "failures", failure_labels(p->rs, cd->fail_lead),
        "eligible_lead", cd->fail_lead == 0, "eligible_support", cd->fail == 0);
    json_object_set_new(o, "lead_cases", json_integer(cd->agency->lead_cases));
    json_object_set_new(o, "max_lead_cases", json_integer(cd->agency->max_lead_cases));
    if (cd->free_known)
        json_object_set_new(o, "free_minutes", json_integer(cd->free_minutes));
    return o;
}

static json_t *candidates_json(const proposal_t *p)
{
    size_t n;
    int *v = listed_candidates(p, &n);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, candidate_json(p, &p->cands[v[i]]));
    free(v);
    return a;
}

static json_t *fired_json(const proposal_t *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nfired; i++) {
        const rule_t *r = &p->rs->rules[p->fired[i]];
        json_t *scores = json_array();
        for (size_t s = 0; s < r->nscores; s++)
            json_array_append_new(scores, json_pack("{s:s, s:i}", "field",
                rules_field_name(p->rs, r->scores[s].field), "points", r->scores[s].points));
        json_t *o = json_pack("{s:s, s:s, s:o, s:i}", "rule", r->id, "reason", r->reason,
                              "scores", scores, "line", r->line);
        if (r->force_field >= 0)
            json_object_set_new(o, "force", json_pack("{s:s, s:i}", "field",
                rules_field_name(p->rs, r->force_field), "precedence", r->precedence));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *fields_json(const proposal_t *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nfield_order; i++)
        json_array_append_new(a, json_pack("{s:s, s:i}", "field",
            rules_field_name(p->rs, p->field_order[i]), "score",
            p->field_score[p->field_order[i]]));
    return a;
}

static json_t *tie_break_json(const proposal_t *p, const choice_t *c)
{
    json_t *order = json_array();
    for (size_t i = 0; i < p->rs->nsteps; i++)
        json_array_append_new(order, json_string(
            p->rs->steps[i] == TBK_LEAD_CASES ? "lead-cases" :
            p->rs->steps[i] == TBK_FREE_MINUTES ? "free-minutes" : "id"));
    json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "step", tb_step_name(c->decided_by),
        "order", order, "winner", jstr_or_null(cand_id(p, c->chosen)),
        "runner_up", jstr_or_null(cand_id(p, c->runner_up)));
    if (c->decided_by >= TB_LEAD_CASES)
        json_object_set_new(o, "step_number", json_integer(step_number(p->rs, c->decided_by)));
    if (c->decided_by == TB_FREE_MINUTES) {
        json_object_set_new(o, "free_days", json_integer(p->rs->free_days));
        json_object_set_new(o, "winner_free_minutes",
                            json_integer(p->cands[c->chosen].free_minutes));
        json_object_set_new(o, "runner_up_free_minutes",
                            json_integer(p->cands[c->runner_up].free_minutes));
    }
    return o;
}

static json_t *supports_detail_json(const proposal_t *p)
{
    static const char *const status[] = { "added", "already-chosen", "no-eligible-agency" };
    json_t *a = json_array();
    for (size_t i = 0; i < p->nsupports; i++) {
        const choice_t *c = &p->supports[i];
        json_t *o = json_pack("{s:s, s:i, s:o, s:s}", "field", rules_field_name(p->rs, c->field),
            "score", p->field_score[c->field], "agency", jstr_or_null(cand_id(p, c->chosen)),
            "status", status[c->reason]);
        if (c->chosen >= 0)
            json_object_set_new(o, "tie_break", tie_break_json(p, c));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *explanation_json(const proposal_t *p)
{
    json_t *e = json_pack("{s:s, s:s, s:o, s:o}", "policy", p->rs->policy,
                          "rules_hash", p->rs->hash, "fired", fired_json(p),
                          "fields", fields_json(p));
    if (p->forced_rule >= 0) {
        const rule_t *r = &p->rs->rules[p->forced_rule];
        json_object_set_new(e, "forced", json_pack("{s:s, s:s, s:i, s:b}", "rule", r->id,
            "field", rules_field_name(p->rs, r->force_field), "precedence", r->precedence,
            "fallback", p->forced_fallback));
    } else {
        json_object_set_new(e, "forced", json_null());
    }
    if (p->status == PROPOSAL_OK) {
        json_object_set_new(e, "tie_break", tie_break_json(p, &p->lead));
        json_object_set_new(e, "supports", supports_detail_json(p));
    } else {
        json_object_set_new(e, "tie_break", json_null());
    }
    return e;
}

static json_t *supports_ids_json(const proposal_t *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nsupports; i++)
        if (p->supports[i].reason == 0)
            json_array_append_new(a, json_string(cand_id(p, p->supports[i].chosen)));
    return a;
}

static json_t *rule_ids_json(const proposal_t *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nfired; i++)
        json_array_append_new(a, json_string(p->rs->rules[p->fired[i]].id));
    return a;
}

json_t *rules_explain_json(const proposal_t *p)
{
    json_t *o = json_object();
    if (p->status == PROPOSAL_OK) {
        json_object_set_new(o, "lead", json_string(cand_id(p, p->lead.chosen)));
        json_object_set_new(o, "forced", json_boolean(p->forced));
        json_object_set_new(o, "supports", supports_ids_json(p));
    } else {
        char *msg = proposal_error_message(p);
        json_object_set_new(o, "error", json_string(proposal_error_code(p)));
        json_object_set_new(o, "message", json_string(msg));
        free(msg);
    }
    json_object_set_new(o, "rules", rule_ids_json(p));
    json_object_set_new(o, "candidates", candidates_json(p));
    json_object_set_new(o, "explanation", explanation_json(p));
    json_object_set_new(o, "rules_hash", json_string(p->rs->hash));
    char *text = rules_explain_text(p);
    json_object_set_new(o, "text", json_string(text));
    free(text);
    return o;
}

/* ---- Japanese text ----------------------------------------------------- */

static void text_fired(strbuf_t *b, const proposal_t *p)
{
    if (!p->nfired) {
        strbuf_puts(b, "当てはまったルールはありません。");
        return;
    }
    strbuf_printf(b, "当てはまったルールは%zu件です。", p->nfired);
    for (size_t i = 0; i < p->nfired; i++) {
        const rule_t *r = &p->rs->rules[p->fired[i]];
        strbuf_printf(b, "ルール「%s」(", r->id);
        for (size_t s = 0; s < r->nscores; s++)
            strbuf_printf(b, "%s%s %+d点", s ? "、" : "",
                          rules_field_name(p->rs, r->scores[s].field), r->scores[s].points);
        if (r->force_field >= 0)
            strbuf_printf(b, "%s%s分野を主担当に固定・優先順位%d", r->nscores ? "、" : "",
                          rules_field_name(p->rs, r->force_field), r->precedence);
        strbuf_printf(b, "): %s。", r->reason);
    }
}

static void text_fields(strbuf_t *b, const proposal_t *p)
{
    if (!p->nfield_order)
        return;
    strbuf_puts(b, "分野ごとの点数は、");
    for (size_t i = 0; i < p->nfield_order; i++)
        strbuf_printf(b, "%s%s %d点", i ? "、" : "", rules_field_name(p->rs, p->field_order[i]),
                      p->field_score[p->field_order[i]]);
    strbuf_puts(b, "です。");
}

static void text_candidate(strbuf_t *b, const proposal_t *p, const candidate_t *cd)
{
    strbuf_printf(b, "%s %d点(%s %d点", cd->agency->name ? cd->agency->name : cd->agency->id,
                  cd->total, rules_field_name(p->rs, cd->best_field), cd->field_score);
    if (cd->involved_bonus)
        strbuf_printf(b, "、関与機関 %+d点", cd->involved_bonus);
    if (cd->first_contact_bonus)
        strbuf_printf(b, "、端緒機関 %+d点", cd->first_contact_bonus);
    if (cd->fail_lead) {
        strbuf_puts(b, "、主担当になれない理由: ");
        failure_text(b, p->rs, cd->fail_lead);
    }
    strbuf_puts(b, ")");
}

static void text_candidates(strbuf_t *b, const proposal_t *p)
{
    size_t n, shown = 0, outside = 0;
    int *v = listed_candidates(p, &n);
    /* agencies whose only failure is the district are grouped at the end,
     * so the paragraph stays short enough to read aloud */
    for (size_t i = 0; i < n; i++) {
        const candidate_t *cd = &p->cands[v[i]];
        if (cd->fail_lead == ELIG_DISTRICT) {
            outside++;
            continue;
        }
        strbuf_puts(b, shown++ ? "、" : "候補機関の合計点は、");
        text_candidate(b, p, cd);
    }
    if (shown)
        strbuf_puts(b, "です。");
    for (size_t i = 0, k = 0; outside && i < n; i++) {
        const candidate_t *cd = &p->cands[v[i]];
        if (cd->fail_lead != ELIG_DISTRICT)
            continue;
        strbuf_printf(b, "%s%s(%d点)", k++ ? "、" : "", cd->agency->name ? cd->agency->name
                      : cd->agency->id, cd->total);
        if (k == outside)
            strbuf_printf(b, "は%sのため対象外です。", rules_elig_label(p->rs, ELIG_DISTRICT));
    }
    free(v);
}

static void text_tie(strbuf_t *b, const proposal_t *p, const choice_t *c)
{
    const candidate_t *w = &p->cands[c->chosen];
    if (c->decided_by == TB_ONLY) {
        strbuf_puts(b, "条件を満たす機関はこの1機関だけでした。");
        return;
    }
    const candidate_t *r = &p->cands[c->runner_up];
    const char *rn = cand_name(p, c->runner_up);
    int k = step_number(p->rs, c->decided_by);
    switch (c->decided_by) {
    case TB_TOTAL:
        strbuf_printf(b, "次点の%s(%d点)より合計点が高いため、同点の決め方は使っていません。",
                      rn, r->total);
        break;
    case TB_LEAD_CASES:
        strbuf_printf(b, "%sと同点(%d点)でしたが、主担当件数が少ない(%d件 対 %d件)ため、こちらに決まりました(同点の決め方%d: 主担当件数)。",
                      rn, w->total, w->agency->lead_cases, r->agency->lead_cases, k);
        break;
    case TB_FREE_MINUTES:
        strbuf_printf(b, "%sと同点(%d点)で主担当件数も同じ(%d件)でしたが、今後%d営業日の空き時間が多い(%lld分 対 %lld分)ため、こちらに決まりました(同点の決め方%d: 空き時間)。",
                      rn, w->total, w->agency->lead_cases, p->rs->free_days,
                      (long long)w->free_minutes, (long long)r->free_minutes, k);
        break;
    case TB_ID:
        strbuf_printf(b, "%sと点数・主担当件数・空き時間がすべて同じだったため、機関IDの順(%s が先)で決めました(同点の決め方%d: 機関ID)。",
                      rn, w->agency->id, k);
        break;
    default:
        break;
    }
}

static void text_lead(strbuf_t *b, const proposal_t *p)
{
    const char *name = cand_name(p, p->lead.chosen);
    if (p->forced_rule >= 0) {
        const rule_t *r = &p->rs->rules[p->forced_rule];
        const char *f = rules_field_name(p->rs, r->force_field);
        if (p->forced)
            strbuf_printf(b, "ルール「%s」により%s分野の機関が主担当となる決まり(優先順位%d)のため、%s分野で最も適した%s(%d点)を主担当として提案します。",
                          r->id, f, r->precedence, f, name, p->cands[p->lead.chosen].total);
        else
            strbuf_printf(b, "ルール「%s」により%s分野の機関が主担当となる決まりですが、主担当になれる%s分野の機関がないため、合計点で選び、%s(%d点)を主担当として提案します。",
                          r->id, f, f, name, p->cands[p->lead.chosen].total);
    } else {
        strbuf_printf(b, "主担当には、主担当になれる機関のうち合計点が最も高い%s(%d点)を提案します。",
                      name, p->cands[p->lead.chosen].total);
    }
    text_tie(b, p, &p->lead);
}

static void text_supports(strbuf_t *b, const proposal_t *p)
{
    size_t added = 0;
    for (size_t i = 0; i < p->nsupports; i++) {
        const choice_t *c = &p->supports[i];
        const char *f = rules_field_name(p->rs, c->field);
        if (c->reason == 0) {
            strbuf_printf(b, "%s%s分野は%s", added++ ? "、" : "役割分担として、", f,
                          cand_name(p, c->chosen));
            if (c->decided_by >= TB_LEAD_CASES)
                strbuf_printf(b, "(%sと同点のため%s)", cand_name(p, c->runner_up),
                              c->decided_by == TB_LEAD_CASES ? "主担当件数の少ない方" :
                              c->decided_by == TB_FREE_MINUTES ? "空き時間の多い方" : "機関ID順");
        }
    }
    if (added)
        strbuf_puts(b, "に支援をお願いします。");
    else
        strbuf_puts(b, "主担当以外に支援をお願いする分野はありません。");
    for (size_t i = 0; i < p->nsupports; i++) {
        const choice_t *c = &p->supports[i];
        const char *f = rules_field_name(p->rs, c->field);
        if (c->reason == 1)
            strbuf_printf(b, "%s分野は、すでに選ばれた%sが担います。", f, cand_name(p, c->chosen));
        else if (c->reason == 2)
            strbuf_printf(b, "%s分野には、この会議で支援に入れる機関がありません(担当地区・同意・構成員の条件による)。", f);
    }
}

char *proposal_error_message(const proposal_t *p)
{
    switch (p->status) {
    case PROPOSAL_CONSENT_REQUIRED:
        return xstrdup("本人が同意していないため、重層的支援会議では主担当を提案できません。"
                       "本人の同意を得るか、同意がなくても開ける支援会議(社会福祉法第106条の6、"
                       "構成員に守秘義務あり)として開催してください。");
    case PROPOSAL_NO_CANDIDATE:
        return xstrdup("当てはまるルールがなく、主担当の候補となる機関がありません。"
                       "世帯員と世帯の課題(features)が登録されているか、誤字がないかを確認してください。"
                       "それでも該当しない場合は、事務局が主担当を指定してください。");
    case PROPOSAL_NO_ELIGIBLE_LEAD:
        return xstrdup("候補の機関はありますが、どの機関も主担当になれません(担当地区・主担当件数の上限・"
                       "本人の同意・支援会議の構成員の条件による)。会議の種類や地区を確認するか、"
                       "構成員の追加・主担当件数の見直しを検討し、事務局が主担当を指定してください。");
    case PROPOSAL_OK:
        break;
    }
    return xstrdup("");
}

char *rules_explain_text(const proposal_t *p)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_printf(&b, "ケース %s について、%s で主担当機関を検討しました。", p->kase->id,
                  p->rs->policy[0] ? p->rs->policy : "ルール");
    text_fired(&b, p);
    text_fields(&b, p);
    if (p->status == PROPOSAL_CONSENT_REQUIRED || p->status == PROPOSAL_NO_CANDIDATE) {
        char *m = proposal_error_message(p);
        strbuf_puts(&b, m);
        free(m);
        return strbuf_detach(&b);
    }
    text_candidates(&b, p);
    if (p->status == PROPOSAL_NO_ELIGIBLE_LEAD) {
        char *m = proposal_error_message(p);
        strbuf_puts(&b, m);
        free(m);
        return strbuf_detach(&b);
    }
    text_lead(&b, p);
    text_supports(&b, p);
    return strbuf_detach(&b);
}
