/* SPDX-License-Identifier: MIT */
/*
 * rules.h - the lead-agency rule engine: a small declarative rule language
 * (tsunagu.rules(5)), its evaluator and the explanation.
 *
 * Pipeline
 *   rules_parse()    text -> ruleset_t (immutable; errors "file:line:col: msg")
 *   rules_propose()  ruleset + city + case -> proposal_t (plain structs, no
 *                    JSON, fast enough to benchmark: the hot path interns
 *                    features and fields to small integers at parse time)
 *   rules_explain_json() / rules_explain_text()
 *                    proposal -> the API result object and the Japanese
 *                    paragraph a secretariat reads aloud.
 *
 * A rule set is identified by the SHA-256 of its file content
 * (rules_hash()); decisions store that hash and the source text so that a
 * decision can be re-explained after the rules changed.
 *
 * Tie-break 2 ("more free working minutes in the next N business days")
 * needs calendar data the engine does not own: the caller passes a
 * callback.  It is only called when two agencies are still tied after the
 * previous steps, so the common case never touches calendars.
 */
#ifndef TSUNAGU_RULES_H
#define TSUNAGU_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "city.h"
#include "interval.h"
#include "util.h"

typedef struct ruleset ruleset_t;

/* ---- loading ----------------------------------------------------------- */

/* Parse rule text.  filename is used in messages only.  On error returns
 * NULL and writes "file:line:col: message" into err. */
ruleset_t *rules_parse(const char *text, size_t len, const char *filename,
                       char *err, size_t errlen);
ruleset_t *rules_load_file(const char *path, char *err, size_t errlen);

/* The shipped rule file, used when RULES is unset (malloc'd path): the
 * first of rules/default.rules in the working directory (the source tree,
 * `make run`, the tests), <dir of exe>/../rules/default.rules (bin/ of a
 * source tree started from elsewhere) and
 * <dir of exe>/../share/tsunagu/rules/default.rules (`make install`:
 * sbin/ or bin/ next to share/) that exists; when none does, the first,
 * so the error names it.  exe NULL = this program (/proc/self/exe). */
char *rules_default_path(const char *exe);
#define RULES_DEFAULT_RELATIVE "rules/default.rules"
void       rules_free(ruleset_t *rs);

const char *rules_hash(const ruleset_t *rs);     /* 64 hex chars */
const char *rules_policy(const ruleset_t *rs);   /* `policy "..."` or "" */
const char *rules_source(const ruleset_t *rs);   /* the text parsed */
const char *rules_filename(const ruleset_t *rs);
size_t      rules_count(const ruleset_t *rs);
const char *rules_rule_id(const ruleset_t *rs, size_t i);
const char *rules_rule_reason(const ruleset_t *rs, size_t i);

/* Known features: case_base_features() + `feature` declarations + every
 * feature a condition mentions (pushed into out, no duplicates). */
void rules_known_features(const ruleset_t *rs, strvec_t *out);

/* ---- evaluation -------------------------------------------------------- */

/* Free working minutes of agency a over the next `days` business days
 * after today (inside hours, under its need rule, no travel padding).
 * Return < 0 when unknown (treated as 0). */
typedef int64_t (*rules_free_minutes_fn)(void *ctx, const agency_t *a, int days);

typedef struct rules_env {
    rules_free_minutes_fn free_minutes;   /* NULL: step counts as a tie */
    void                 *free_ctx;
} rules_env_t;

typedef enum proposal_status {
    PROPOSAL_OK = 0,
    PROPOSAL_CONSENT_REQUIRED,
    PROPOSAL_NO_CANDIDATE,
    PROPOSAL_NO_ELIGIBLE_LEAD
} proposal_status_t;

/* Eligibility failures (bit mask). */
enum {
    ELIG_DISTRICT = 1 << 0,        /* 担当地区外 */
    ELIG_CAPACITY = 1 << 1,        /* 主担当件数が上限 (lead only) */
    ELIG_CONSENT  = 1 << 2,        /* 本人の同意により除外 */
    ELIG_MEETING  = 1 << 3         /* 支援会議の構成員でない */
};
#define ELIG_KINDS 4

/* The step that separated the chosen agency from the runner-up. */
typedef enum tb_step {
    TB_ONLY = 0,       /* the only eligible agency */
    TB_TOTAL,          /* highest total, no tie */
    TB_LEAD_CASES,     /* fewer lead_cases */
    TB_FREE_MINUTES,   /* more free working minutes */
    TB_ID              /* agency id order */
} tb_step_t;

const char *tb_step_name(tb_step_t s);   /* "only", "total", "lead-cases", ... */

typedef struct candidate {
    const agency_t *agency;
    int      best_field;        /* field index in the rule set, -1 if none */
    int      field_score;       /* best field score (0 if none) */
    int      involved_bonus, first_contact_bonus;
    int      total;
    unsigned fail;              /* ELIG_* bits, support eligibility */
    unsigned fail_lead;         /* ELIG_* bits incl. capacity */
    bool     free_known;
    int64_t  free_minutes;      /* valid when free_known */
} candidate_t;

typedef struct choice {
    int       field;            /* field index; -1 for the unforced lead */
    int       chosen;           /* candidate index, -1 when none */
    int       runner_up;        /* candidate index, -1 when none */
    tb_step_t decided_by;
    int       reason;           /* for supports: 0 added, 1 already chosen,
                                   2 no eligible agency */
} choice_t;

typedef struct proposal {
    proposal_status_t status;
    const ruleset_t  *rs;
    const case_t     *kase;
    const city_t     *city;
    int              *fired;          /* rule indices, file order */
    size_t            nfired;
    int              *field_score;    /* per field index */
    int              *field_order;    /* positive fields, score order */
    size_t            nfield_order;
    candidate_t      *cands;          /* every agency not excluded */
    size_t            ncands;
    bool              forced;
    int               forced_rule;    /* rule index or -1 */
    int               forced_field;   /* field index or -1 */
    bool              forced_fallback;/* forced field had no eligible lead */
    choice_t          lead;
    choice_t         *supports;       /* one per positive field (in order) */
    size_t            nsupports;
    /* index: candidates covering field f are by_field[field_start[f] ..
     * field_start[f+1]) (internal; lets a field's choice skip the rest) */
    int              *by_field;
    size_t           *field_start;
} proposal_t;

/* Evaluate.  Always fills out (free with proposal_free); the status says
 * whether a lead was found.  city and kase must outlive the proposal. */
void rules_propose(const ruleset_t *rs, const city_t *city, const case_t *kase,
                   const rules_env_t *env, proposal_t *out);
void proposal_free(proposal_t *p);

const char *rules_field_name(const ruleset_t *rs, int field);
const char *proposal_error_code(const proposal_t *p);     /* NULL when OK */
/* Japanese message saying what happened and what to do next (malloc'd). */
char *proposal_error_message(const proposal_t *p);
/* Japanese label of an eligibility failure bit (from the rules file). */
const char *rules_elig_label(const ruleset_t *rs, unsigned bit);

/* ---- explanation ------------------------------------------------------- */

/* The result object: {lead, forced, supports, rules, candidates,
 * explanation{...,tie_break}, text, rules_hash, policy} or, on error,
 * {error, message, rules, candidates, explanation, text}. */
json_t *rules_explain_json(const proposal_t *p);
/* The Japanese paragraph (malloc'd). */
char   *rules_explain_text(const proposal_t *p);

/* ---- free working minutes --------------------------------------------- */

/* Free working minutes of agency a on the `days` business days after the
 * local day of `now`, inside its hours, counting time when at least `need`
 * of its calendars are free (busy[i] is calendar i's normal busy set). */
int64_t rules_free_working_minutes(const city_t *city, const agency_t *a,
                                   const ivset_t *const *busy, size_t nbusy,
                                   int64_t now, int days);

#endif
