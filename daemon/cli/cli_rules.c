/* SPDX-License-Identifier: MIT */
/*
 * cli_rules.c - offline rule verbs of the tsunagu CLI (no daemon needed):
 *
 *   tsunagu rules check FILE
 *       parse a rule file; print its policy, rules and content hash, or the
 *       first error as "file:line:col: message" (exit 1).
 *   tsunagu rules explain --city agencies.json [--rules FILE] [--json] CASE.json
 *       run the proposal locally and print the Japanese explanation, so a
 *       municipality can try a policy change before deploying it.
 *
 * Tie-break 2 needs free working minutes: offline they are computed from
 * the city's calendars when those are local files (ics or free/busy; the
 * demo city's relative URLs resolve against agencies.json's folder).  A
 * remote calendar makes that agency's minutes unknown (the step ties).
 * "now" is the city's `now` when present, else the clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "city.h"
#include "cli.h"
#include "icalbusy.h"
#include "rules.h"

/* ---- tiny option parsing (self-contained: works without the daemon) ---- */

static const char *opt_value(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static bool opt_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

/* First argument that is neither an option nor an option's value. */
static const char *positional(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--city") || !strcmp(argv[i], "--rules")) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2))
            return argv[i];
    }
    return NULL;
}

/* ---- rules check ------------------------------------------------------- */

static int v_check(cli_t *c, int argc, char **argv)
{
    const char *file = positional(argc, argv);
    char err[1024];
    if (!file) {
        fprintf(stderr, "使い方: tsunagu rules check FILE\n");
        return 2;
    }
    ruleset_t *rs = rules_load_file(file, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("OK: %s\n方針: %s\nルール数: %zu\nsha256: %s\n", file,
           rules_policy(rs)[0] ? rules_policy(rs) : "(名前なし)", rules_count(rs),
           rules_hash(rs));
    for (size_t i = 0; i < rules_count(rs); i++)
        printf("  %-16s %s\n", rules_rule_id(rs, i), rules_rule_reason(rs, i));
    rules_free(rs);
    return 0;
}

/* ---- free minutes from local calendar files ---------------------------- */

static const char *local_path(const char *url)
{
    if (!strncmp(url, "file://", 7))
        return url + 7;
    return strstr(url, "://") ? NULL : url;
}

static bool load_local_busy(const city_t *city, const calendar_ref_t *cal, ivset_t *out)
{
    const char *path = local_path(cal->url);
    size_t len;
    char *text = path ? read_file(path, &len) : NULL, *err = NULL;
    if (!text)
        return false;
    icalbusy_opts_t o = { city->tz ? city->tz : tz_default(), city->now - 86400,
                          city->now + 60 * 86400 };
    int rc = icalbusy_parse(text, len, &o, out, NULL, &err);
    free(text);
    free(err);
    return rc == 0;
}

static int64_t offline_free_minutes(void *ctx, const agency_t *a, int days)
{
    const city_t *city = ctx;
    ivset_t *sets = xcalloc(a->ncalendars + 1, sizeof *sets);
    const ivset_t **ptrs = xcalloc(a->ncalendars + 1, sizeof *ptrs);
    bool ok = true;
    for (size_t i = 0; i < a->ncalendars; i++) {
        ivset_init(&sets[i]);
        ptrs[i] = &sets[i];
        ok = ok && load_local_busy(city, &a->calendars[i], &sets[i]);
    }
    int64_t m = ok ? rules_free_working_minutes(city, a, ptrs, a->ncalendars, city->now, days)
                   : -1;
    for (size_t i = 0; i < a->ncalendars; i++)
        ivset_free(&sets[i]);
    free(sets);
    free(ptrs);
    return m;
}

/* ---- rules explain ----------------------------------------------------- */

static void print_summary(const proposal_t *p)
{
    if (p->status != PROPOSAL_OK) {
        char *m = proposal_error_message(p);
        printf("結果: エラー %s\n%s\n\n", proposal_error_code(p), m);
        free(m);
        return;
    }
    const agency_t *lead = p->cands[p->lead.chosen].agency;
    printf("主担当: %s (%s)%s\n", lead->name, lead->id, p->forced ? " [固定ルール]" : "");
    for (size_t i = 0; i < p->nsupports; i++)
        if (p->supports[i].reason == 0) {
            const agency_t *s = p->cands[p->supports[i].chosen].agency;
            printf("支援: %s (%s) — %s分野\n", s->name, s->id,
                   rules_field_name(p->rs, p->supports[i].field));
        }
    printf("決め手: %s\n\n", tb_step_name(p->lead.decided_by));
}

static int explain_loaded(const ruleset_t *rs, city_t *city, const char *case_path,
                          bool json)
{
    char err[1024];
    case_t kase;
    if (!case_load_file(case_path, &kase, err, sizeof err)) {
        fprintf(stderr, "エラー: %s: %s\n", case_path, err);
        return 1;
    }
    if (!case_check_city(&kase, city, err, sizeof err)) {
        fprintf(stderr, "エラー: %s: %s\n", case_path, err);
        case_free(&kase);
        return 1;
    }
    strvec_t known, warnings;
    strvec_init(&known);
    strvec_init(&warnings);
    rules_known_features(rs, &known);
    case_feature_warnings(&kase, &known, &warnings);
    for (size_t i = 0; i < warnings.n; i++)
        fprintf(stderr, "警告: %s\n", warnings.v[i]);
    rules_env_t env = { offline_free_minutes, city };
    proposal_t p;
    rules_propose(rs, city, &kase, &env, &p);
    if (json) {
        json_t *o = rules_explain_json(&p);
        char *s = json_dumps(o, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        print_summary(&p);
        char *text = rules_explain_text(&p);
        printf("%s\n", text);
        free(text);
    }
    int rc = p.status == PROPOSAL_OK ? 0 : 1;
    proposal_free(&p);
    case_free(&kase);
    strvec_free(&known);
    strvec_free(&warnings);
    return rc;
}

static int v_explain(cli_t *c, int argc, char **argv)
{
    const char *city_path = opt_value(argc, argv, "--city");
    const char *rules_path = opt_value(argc, argv, "--rules");
    const char *case_path = positional(argc, argv);
    char err[1024];
    if (!city_path || !case_path) {
        fprintf(stderr, "使い方: tsunagu rules explain --city agencies.json [--rules FILE] [--json] CASE.json\n");
        return 2;
    }
    city_t city;
    if (!city_load_file(city_path, &city, err, sizeof err)) {
        fprintf(stderr, "エラー: %s: %s\n", city_path, err);
        return 1;
    }
    if (!city.has_now)
        city.now = tu_now();
    char *shipped = rules_path ? NULL : rules_default_path(NULL);
    ruleset_t *rs = rules_load_file(rules_path ? rules_path : shipped, err, sizeof err);
    free(shipped);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        city_free(&city);
        return 1;
    }
    int rc = explain_loaded(rs, &city, case_path, opt_flag(argc, argv, "--json"));
    rules_free(rs);
    city_free(&city);
    return rc;
}

const cli_verb_t cli_rules_verbs[] = {
    { "rules check", "FILE", "ルールファイルを検査する (check a rule file offline)",
      v_check },
    { "rules explain", "--city agencies.json [--rules FILE] [--json] CASE.json",
      "主担当の提案と理由をオフラインで表示する (explain a proposal offline)",
      v_explain },
    { NULL, NULL, NULL, NULL }
};
