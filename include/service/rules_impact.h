/* SPDX-License-Identifier: MIT */
/*
 * rules_impact.h - what a candidate rule file would change (DESIGN
 * "Statistics, similar cases and rule impact").
 *
 * Every open case is proposed twice, under the current rules and under
 * the candidate, with the same inputs: the same city (loads included),
 * the same clock and the same free working minutes (rules_impact_env
 * remembers each agency's minutes the first time either run asks, so the
 * second run reads the same number).  Nothing is stored.
 *
 * A case changes when its lead (or its error, when there is no lead), its
 * set of supporting agencies (order is presentation, not a change) or its
 * forced flag differs.  The report also counts, per agency, the lead
 * cases it would gain and lose, and lists the rule ids whose firing
 * changed on at least one case.
 */
#ifndef TSUNAGU_RULES_IMPACT_H
#define TSUNAGU_RULES_IMPACT_H

#include <jansson.h>

#include "daemon.h"
#include "rules.h"
#include "store.h"

/* An agency's free working minutes over `days` business days from now,
 * from the daemon's ingested calendars (rules_free_working_minutes over
 * feeds_agency_busy): the proposals' tie-break 2.  -1 while any of the
 * agency's feeds has never been fetched (an empty busy set would read as
 * "completely free" and win ties unfairly), on a store error, or when d is
 * NULL. */
int64_t rules_impact_free_minutes(tsunagud_t *d, const agency_t *a, int64_t now, int days);

/* Free working minutes from the daemon's calendars, memoised per agency
 * (init with rules_impact_env_init, free with rules_impact_env_free). */
typedef struct rules_impact_env {
    tsunagud_t *d;
    int64_t     now;
    json_t     *memo;          /* {agency: minutes | -1} */
    rules_env_t env;           /* pass &x.env to rules_propose / rules_impact */
} rules_impact_env_t;

void rules_impact_env_init(rules_impact_env_t *x, tsunagud_t *d, int64_t now);
void rules_impact_env_free(rules_impact_env_t *x);

/* The report (new reference):
 *   {current:{file,policy,hash}, candidate:{...}, open_cases, changed_count,
 *    changed:[{case, title, changes:["lead"|"supports"|"forced"...],
 *              current:{lead, error, supports, forced, rules, text},
 *              candidate:{...}}],
 *    agencies:[{agency, name, gained, lost}],
 *    rules_changed:[{rule, current, candidate, cases:[ids]}],
 *    skipped:[{case, message}]}
 * NULL on a store error. */
json_t *rules_impact(store_t *st, const city_t *city, const ruleset_t *cur,
                     const ruleset_t *cand, const rules_env_t *env);

#endif
