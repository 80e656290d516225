/* SPDX-License-Identifier: MIT */
/*
 * store_decisions.c - rule sets, decisions and reviews (store_decisions.h).
 * One SELECT shape (DECISION_SELECT) serves the single read and the list;
 * rows come back as JSON with epoch-second times.
 */
#include "store_decisions.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DECISION_SELECT \
    "SELECT d.id, d.case_id, d.created, d.actor, d.rules_hash, d.proposed_lead, d.result," \
    " v.action, v.lead, v.supports, v.reason, v.actor, v.at, d.inputs, rs.policy" \
    " FROM decisions d LEFT JOIN decision_reviews v ON v.decision_id = d.id" \
    " LEFT JOIN rule_sets rs ON rs.hash = d.rules_hash"

bool store_rule_set_save(store_t *st, const char *hash, const char *filename,
                         const char *policy, const char *source, int64_t now)
{
    return store_run(store_stmt(st, "INSERT OR IGNORE INTO rule_sets(hash, filename, policy,"
                                    " source, first_used) VALUES (?, ?, ?, ?, ?)",
                                STORE_TEXT(hash), STORE_TEXT(filename), STORE_TEXT(policy),
                                STORE_TEXT(source), STORE_INT(now)));
}

char *store_rule_source(store_t *st, const char *hash)
{
    return store_text(store_stmt(st, "SELECT source FROM rule_sets WHERE hash = ?",
                                 STORE_TEXT(hash)));
}

int64_t store_decision_insert(store_t *st, const store_decision_new_t *d)
{
    sqlite3_stmt *s = store_stmt(st, "INSERT INTO decisions(case_id, created, actor, rules_hash,"
                                     " proposed_lead, inputs, result) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 STORE_TEXT(d->case_id), STORE_INT(d->now), STORE_TEXT(d->actor),
                                 STORE_TEXT(d->rules_hash), STORE_TEXT(d->proposed_lead),
                                 STORE_JSON(d->inputs), STORE_JSON(d->result));
    return store_run(s) ? sqlite3_last_insert_rowid(store_db(st)) : -1;
}

static const char *status_of(const char *action)
{
    return !action ? "pending" : !strcmp(action, "approve") ? "approved" : "overridden";
}

static json_t *row_json(sqlite3_stmt *s, bool full)
{
    const char *action = store_col_text(s, 7);
    json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s?, s:s, s:s}",
        "id", (json_int_t)sqlite3_column_int64(s, 0), "case", store_col_text(s, 1),
        "created", (json_int_t)sqlite3_column_int64(s, 2), "actor", store_col_text(s, 3),
        "rules_hash", store_col_text(s, 4), "policy", store_col_text(s, 14),
        "proposed_lead", store_col_text(s, 5), "status", status_of(action));
    if (action)
        json_object_set_new(o, "review", json_pack("{s:s, s:s, s:o, s:s?, s:s, s:I}",
            "action", action, "lead", store_col_text(s, 8), "supports", store_col_json(s, 9),
            "reason", store_col_text(s, 10), "actor", store_col_text(s, 11),
            "at", (json_int_t)sqlite3_column_int64(s, 12)));
    else
        json_object_set_new(o, "review", json_null());
    if (full) {
        json_object_set_new(o, "result", store_col_json(s, 6));
        json_object_set_new(o, "inputs", store_col_json(s, 13));
    }
    return o;
}

json_t *store_decision_get(store_t *st, int64_t id, bool full)
{
    sqlite3_stmt *s = store_stmt(st, DECISION_SELECT " WHERE d.id = ?", STORE_INT(id));
    json_t *o = NULL;
    if (s) {
        if (sqlite3_step(s) == SQLITE_ROW)
            o = row_json(s, full);
        store_done(s);
    }
    return o;
}

json_t *store_decisions_list(store_t *st, const char *case_id, const char *status)
{
    sqlite3_stmt *s = store_stmt(st, DECISION_SELECT
        " WHERE (?1 IS NULL OR d.case_id = ?1) AND (?2 IS NULL OR"
        " (?2 = 'pending' AND v.action IS NULL) OR (?2 = 'approved' AND v.action = 'approve')"
        " OR (?2 = 'overridden' AND v.action = 'override')) ORDER BY d.id",
        STORE_TEXT(case_id), STORE_TEXT(status));
    if (!s)
        return NULL;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, row_json(s, false));
    store_done(s);
    return arr;
}

int64_t store_decision_newer(store_t *st, const char *case_id, int64_t id)
{
    return store_int(store_stmt(st, "SELECT MAX(id) FROM decisions WHERE case_id = ? AND id > ?",
                                STORE_TEXT(case_id), STORE_INT(id)), 0);
}

bool store_decision_review(store_t *st, int64_t id, const char *action, const char *lead,
                           const json_t *supports, const char *reason, const char *actor,
                           int64_t now)
{
    return store_run(store_stmt(st, "INSERT INTO decision_reviews(decision_id, action, lead,"
                                    " supports, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                STORE_INT(id), STORE_TEXT(action), STORE_TEXT(lead),
                                STORE_JSON(supports), STORE_TEXT(reason), STORE_TEXT(actor),
                                STORE_INT(now)));
}
