/* SPDX-License-Identifier: MIT */
/*
 * store_overview.h - read-only summaries for the web UI's ホーム and 事例一覧
 * (what needs doing now).  Each returns a new JSON array (NULL on SQL
 * error) whose times are epoch seconds; the API formats them.
 */
#ifndef TSUNAGU_STORE_OVERVIEW_H
#define TSUNAGU_STORE_OVERVIEW_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* Decisions without a review: [{id, case_id, proposed_lead, created, actor}]. */
json_t *store_overview_pending_decisions(store_t *st);
/* Meetings in status replan (要再調整): [{id, case_id, type, start, end}]. */
json_t *store_overview_replan_meetings(store_t *st);
/* Mail given up on or bounced (outbox state dead or bounced): [{id,
 * meeting_id, kind, rcpt, state, last_error}], the bounce reason when
 * there is one. */
json_t *store_overview_dead_mail(store_t *st);
/* Mail held back by an SMTP configuration error (a refused EHLO, TLS or
 * AUTH), retried until fixed: [{id, kind, rcpt, last_error}], newest first. */
json_t *store_overview_mail_config_errors(store_t *st);
/* Open cases with no meeting that is not cancelled: [{id, title, district}]. */
json_t *store_overview_cases_without_meeting(store_t *st);
/* Scheduled meetings starting in [from, to): [{id, case_id, type, start, end}]. */
json_t *store_overview_meetings_between(store_t *st, int64_t from, int64_t to);
/* Monitoring dates (YYYY-MM-DD) before today of open cases with no later
 * meeting (not cancelled): [{meeting_id, case_id, monitoring_date}]. */
json_t *store_overview_overdue_monitoring(store_t *st, const char *today);
/* Feeds in state failing: [{id, agency, last_error, last_success}]. */
json_t *store_overview_failing_feeds(store_t *st);
/* Every case with its district, lead, next meeting after now (or null)
 * and newest pending decision (or null):
 * [{id, title, status, district, lead, next_meeting: {id, start, end,
 * status} | null, pending_decision}]. */
json_t *store_overview_cases(store_t *st, int64_t now);

#endif
