/* SPDX-License-Identifier: MIT */
/*
 * strmap.h - a hash map from C strings to pointers, for the places that
 * would otherwise search a list per item (import with 100,000 feeds, the
 * feed scheduler's id lookup).
 *
 * Keys are BORROWED: the map stores the caller's pointer and never copies
 * or frees it, so a key must outlive its entry (typically the key is a
 * field of the value, e.g. a feed's id).  Values are opaque; NULL is a
 * valid value, so use strmap_has to test membership.  Open addressing
 * with linear probing (FNV-1a hash), grown at 1/2 load; deletion shifts
 * the following run back, so there are no tombstones.  Every operation is
 * O(1) on average.
 */
#ifndef TSUNAGU_STRMAP_H
#define TSUNAGU_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap_slot {
    const char *key;          /* NULL = empty */
    void       *val;
} strmap_slot_t;

typedef struct strmap {
    strmap_slot_t *slots;
    size_t         cap, n;    /* cap is 0 or a power of two */
} strmap_t;

void  strmap_init(strmap_t *m);
void  strmap_free(strmap_t *m);                 /* frees the table, not keys/values */
void  strmap_reserve(strmap_t *m, size_t n);    /* room for n keys without regrowing */
/* Insert or replace; returns false when key was already present (its
 * value is then replaced and the old key pointer kept). */
bool  strmap_put(strmap_t *m, const char *key, void *val);
bool  strmap_has(const strmap_t *m, const char *key);
void *strmap_get(const strmap_t *m, const char *key);   /* NULL if absent */
bool  strmap_del(strmap_t *m, const char *key);         /* false if absent */
size_t strmap_len(const strmap_t *m);

#endif
