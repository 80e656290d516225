/* SPDX-License-Identifier: MIT */
/*
 * store_tokens.h - bearer tokens at rest (migration 1, table `tokens`).
 *
 * Only a token's SHA-256 hex is stored, with its role text ("admin",
 * "agency:<id>", ...), a label and the creation time.  Making the token,
 * hashing it and parsing the role are the caller's job
 * (daemon/api/api_tokens.c); these are prepared statements only.
 */
#ifndef TSUNAGU_STORE_TOKENS_H
#define TSUNAGU_STORE_TOKENS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The role and label (malloc'd; label "" when none) stored for a hash.
 * false when no token has that hash, or on SQL error. */
bool store_token_find(store_t *st, const char *hash, char **role, char **label);

/* Insert; the new row id, or 0 on SQL error. */
int64_t store_token_insert(store_t *st, const char *hash, const char *role, const char *label,
                           int64_t created);

/* One stored token, as listed. */
typedef struct store_token {
    int64_t  id;
    char    *role;
    char    *label;       /* never NULL ("" when none) */
    int64_t  created;
} store_token_t;

/* Every token by id: *out (malloc'd, *n rows) is for store_tokens_free.
 * false on SQL error (*out NULL, *n 0). */
bool store_tokens_list(store_t *st, store_token_t **out, size_t *n);
void store_tokens_free(store_token_t *rows, size_t n);

/* Delete by id: 1 deleted, 0 no such token, -1 SQL error. */
int  store_token_delete(store_t *st, int64_t id);

/* Calendar subscription keys (issue 10) live in the same table with the
 * role "ics:<agency>": api_role_parse refuses that role, so such a key
 * never authenticates an API call; it only opens that agency's
 * meetings.ics (GET /v1/ics/{key}/meetings.ics).  One per agency.
 *
 * Replace the agency's key (role) by hash, in one transaction: the new
 * row id, or 0 on SQL error (then the old key stays). */
int64_t store_token_replace_role(store_t *st, const char *hash, const char *role,
                                 const char *label, int64_t created);
/* The creation time of the token with exactly this role: 1 found, 0 none,
 * -1 SQL error. */
int  store_token_role_created(store_t *st, const char *role, int64_t *created);
/* Delete every token with exactly this role: the count, -1 SQL error. */
int  store_token_delete_role(store_t *st, const char *role);

#endif
