/* SPDX-License-Identifier: MIT */
/*
 * feed_explain.h - a failing feed's last_error explained in plain
 * Japanese, with what to fix ("認証に失敗しました。カレンダーのパスワードを
 * 確認してください").
 *
 * The feed code writes one line per failure, Japanese first with a short
 * English tag in parentheses ("(unauthorized)", "(timed out)", ...).  The
 * tags are stable (tests and the CLI read them), so the one table in
 * feed_explain.c maps them, and the stored HTTP status when no tag
 * matches, to an advice class.  The API adds the result to every feed's
 * JSON as "advice"; the web UI and `tsunagu feeds` show it.
 */
#ifndef TSUNAGU_FEED_EXPLAIN_H
#define TSUNAGU_FEED_EXPLAIN_H

typedef struct feed_advice {
    const char *code;   /* stable class: "auth", "not-found", "not-ical", ... */
    const char *text;   /* what happened and what to do, Japanese */
} feed_advice_t;

/* The advice for a feed's last_error (and the HTTP status stored with it,
 * 0 when none); NULL when last_error is NULL or empty.  An error no table
 * row matches gets the "unknown" class.  Static storage, never freed. */
const feed_advice_t *feed_explain(const char *last_error, long http_status);

#endif
