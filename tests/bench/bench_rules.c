/* SPDX-License-Identifier: MIT */
/*
 * bench_rules.c - lead-agency proposal speed (issue 4 "Benchmark").
 *
 * Setup (fixed seed): a rule file of 200 rules over the 14 base fields
 * plus 16 declared ones and a vocabulary of 120 features; every rule has
 * one or two `when` lines mixing household and member atoms (ages,
 * relations, has/lacks), one or two scores, and every 20th rule forces a
 * field.  200 agencies with one or two fields, area-bound or city-wide,
 * varied lead loads.  400 cases with 1-5 members and 0-4 features each.
 *
 * Measured: rules_propose() per case (fire rules, candidates, eligibility,
 * lead, supports) without the calendar tie-break, and separately the
 * proposal plus the explanation (JSON object + Japanese text).  Times are
 * this thread's CPU time so that other processes on the shared machine do
 * not show up as latency.  Target: proposal p50 <= 100 us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case.h"
#include "city.h"
#include "rules.h"

#define NRULES    200
#define NAGENCIES 200
#define NCASES    400
#define NFEAT     120
#define NEXTRA_FIELDS 16
#define REPEAT    5

static const char *const base_fields[] = {
    "高齢", "障害", "子ども", "困窮", "精神保健", "保護", "教育", "ひきこもり",
    "DV", "権利擁護", "地域", "就労", "住まい"
};
#define NBASE (sizeof base_fields / sizeof *base_fields)
static const char *const districts[] = { "北部", "中央", "南部", "東部", "西部" };
static const char *const rels[] = { "本人", "父", "母", "子", "祖母", "祖父", "孫", "妻", "夫", "兄" };

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void field_name(int i, char *out, size_t n)
{
    if ((size_t)i < NBASE)
        snprintf(out, n, "%s", base_fields[i]);
    else
        snprintf(out, n, "分野%02d", i - (int)NBASE);
}
#define NFIELDS ((int)NBASE + NEXTRA_FIELDS)

static void feat_list(strbuf_t *b, int n)
{
    for (int k = 0; k < n; k++)
        strbuf_printf(b, "%s課題%03u", k ? ", " : "", rnd(NFEAT));
}

static void gen_atom(strbuf_t *b)
{
    switch (rnd(4)) {
    case 0:
        strbuf_puts(b, "household has ");
        feat_list(b, 1 + (int)rnd(3));
        break;
    case 1:
        strbuf_puts(b, "member has ");
        feat_list(b, 1 + (int)rnd(3));
        break;
    case 2: {
        int lo = (int)rnd(70);
        strbuf_printf(b, "member age %d-%d has ", lo, lo + 10 + (int)rnd(30));
        feat_list(b, 1 + (int)rnd(2));
        break;
    }
    default:
        strbuf_printf(b, "member relation %s, %s age >= %u lacks ", rels[rnd(10)], rels[rnd(10)],
                      rnd(60));
        feat_list(b, 1);
    }
}

static char *gen_rules(void)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "policy \"bench\"\nfield ");
    for (int i = NBASE; i < NFIELDS; i++) {
        char f[32];
        field_name(i, f, sizeof f);
        strbuf_printf(&b, "%s%s", i > (int)NBASE ? ", " : "", f);
    }
    strbuf_puts(&b, "\nexclude-field 協働\nbonus involved +15\nbonus first-contact +5\n"
                    "eligible district\neligible capacity\ntiebreak lead-cases, free-minutes 10, id\n");
    for (int r = 0; r < NRULES; r++) {
        char f[32];
        strbuf_printf(&b, "rule r%03d\n", r);
        for (int w = 0, nw = 1 + (int)rnd(2); w < nw; w++) {
            strbuf_puts(&b, "  when ");
            gen_atom(&b);
            if (rnd(3) == 0) {
                strbuf_puts(&b, " and ");
                gen_atom(&b);
            }
            strbuf_puts(&b, "\n");
        }
        for (int s = 0, ns = 1 + (int)rnd(2); s < ns; s++) {
            field_name((int)rnd(NFIELDS), f, sizeof f);
            strbuf_printf(&b, "  score %s +%u\n", f, 5 + rnd(45));
        }
        if (r % 20 == 0) {
            field_name((int)rnd(NFIELDS), f, sizeof f);
            strbuf_printf(&b, "  force %s precedence %d\n", f, r / 20 + 1);
        }
        strbuf_printf(&b, "  reason \"ベンチマーク用のルール %d の理由です\"\n", r);
    }
    return strbuf_detach(&b);
}

static void gen_city(city_t *city)
{
    json_t *list = json_array();
    for (int i = 0; i < NAGENCIES; i++) {
        char id[32], f1[32], f2[32];
        snprintf(id, sizeof id, "ag%03d", i);
        field_name(i % NFIELDS, f1, sizeof f1);
        field_name((int)rnd(NFIELDS), f2, sizeof f2);
        json_t *fields = rnd(3) ? json_pack("[s]", f1) : json_pack("[s,s]", f1, f2);
        json_t *areas = rnd(3) ? json_array() : json_pack("[s]", districts[rnd(5)]);
        int max = 5 + (int)rnd(20);
        json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o, s:s, s:{s:s}, s:i, s:i, s:i, s:b, s:[]}",
            "id", id, "name", id, "fields", fields, "areas", areas, "email", "x@example.org",
            "hours", "mon-fri", "08:30-17:15", "travel_minutes", 10, "max_lead_cases", max,
            "lead_cases", (int)rnd((uint32_t)max + 1), "support_meeting_member", rnd(5) != 0,
            "calendars"));
    }
    json_t *root = json_pack("{s:s, s:s, s:[s,s,s,s,s], s:o}", "city", "bench", "timezone",
                             "Asia/Tokyo", "districts", "北部", "中央", "南部", "東部", "西部",
                             "agencies", list);
    char err[256];
    if (!city_from_json(root, NULL, city, err, sizeof err)) {
        fprintf(stderr, "city: %s\n", err);
        exit(2);
    }
    json_decref(root);
}

static json_t *feat_array(int n)
{
    json_t *a = json_array();
    for (int k = 0; k < n; k++) {
        char f[32];
        snprintf(f, sizeof f, "課題%03u", rnd(NFEAT));
        json_array_append_new(a, json_string(f));
    }
    return a;
}

static void gen_case(case_t *c, int i)
{
    char id[32];
    snprintf(id, sizeof id, "B-%03d", i);
    json_t *members = json_array();
    for (int m = 0, nm = 1 + (int)rnd(5); m < nm; m++)
        json_array_append_new(members, json_pack("{s:s, s:i, s:o, s:b}", "relation",
            m ? rels[1 + rnd(9)] : "本人", "age", (int)rnd(95), "features", feat_array((int)rnd(5)),
            "consent", 1));
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:o, s:o}", "id", id, "district",
        districts[rnd(5)], "meeting_type", rnd(4) ? "重層的支援会議" : "支援会議",
        "first_contact", "ag007", "involved", "ag042", "features", feat_array((int)rnd(3)),
        "members", members);
    char err[256];
    if (!case_from_json(root, c, err, sizeof err)) {
        fprintf(stderr, "case: %s\n", err);
        exit(2);
    }
    json_decref(root);
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double p50, p99, mean;
} stats_t;

static stats_t summarize(double *t, int n)
{
    stats_t s = { 0, 0, 0 };
    for (int i = 0; i < n; i++)
        s.mean += t[i] / n;
    qsort(t, (size_t)n, sizeof *t, dcmp);
    s.p50 = t[n / 2];
    s.p99 = t[(n * 99) / 100];
    return s;
}

int main(void)
{
    tz_default();
    char *text = gen_rules(), err[512];
    ruleset_t *rs = rules_parse(text, strlen(text), "bench.rules", err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    city_t city;
    gen_city(&city);
    case_t *cases = calloc(NCASES, sizeof *cases);
    for (int i = 0; i < NCASES; i++)
        gen_case(&cases[i], i);

    rules_env_t env = { NULL, NULL };
    int n = NCASES * REPEAT, ok = 0, fired = 0, cands = 0;
    double *tp = malloc((size_t)n * sizeof *tp), *te = malloc((size_t)n * sizeof *te);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        proposal_t p;
        double a = now_us();
        rules_propose(rs, &city, &cases[i % NCASES], &env, &p);
        tp[i] = now_us() - a;
        if (i < NCASES) {
            ok += p.status == PROPOSAL_OK;
            fired += (int)p.nfired;
            for (size_t k = 0; k < p.ncands; k++)
                cands += p.cands[k].field_score > 0;
        }
        proposal_free(&p);
    }
    double parse_t0 = now_us();
    for (int i = 0; i < 20; i++)
        rules_free(rules_parse(text, strlen(text), "bench.rules", err, sizeof err));
    double parse_us = (now_us() - parse_t0) / 20;
    for (int i = 0; i < n; i++) {
        proposal_t p;
        double a = now_us();
        rules_propose(rs, &city, &cases[i % NCASES], &env, &p);
        json_t *j = rules_explain_json(&p);
        te[i] = now_us() - a;
        json_decref(j);
        proposal_free(&p);
    }
    (void)t0;
    stats_t sp = summarize(tp, n), se = summarize(te, n);
    printf("rules benchmark (%d rules, %d agencies, %d cases x %d; no calendar tie-break)\n",
           NRULES, NAGENCIES, NCASES, REPEAT);
    printf("%-36s %9s %9s %9s\n", "measure", "p50 (us)", "p99 (us)", "mean (us)");
    printf("%-36s %9.1f %9.1f %9.1f\n", "proposal (rules_propose)", sp.p50, sp.p99, sp.mean);
    printf("%-36s %9.1f %9.1f %9.1f\n", "proposal + explanation JSON/text", se.p50, se.p99, se.mean);
    printf("parse 200-rule file: %.0f us; per case: %.1f rules fired, %.1f candidates; %d/%d with a lead\n",
           parse_us, (double)fired / NCASES, (double)cands / NCASES, ok, NCASES);
    printf("target proposal p50 <= 100 us: %s (ratio %.2f)\n", sp.p50 <= 100 ? "met" : "NOT met",
           sp.p50 / 100.0);
    for (int i = 0; i < NCASES; i++)
        case_free(&cases[i]);
    free(cases);
    free(tp);
    free(te);
    city_free(&city);
    rules_free(rs);
    free(text);
    return ok > 0 ? 0 : 1;
}
