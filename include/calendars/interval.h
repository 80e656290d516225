/* SPDX-License-Identifier: MIT */
/*
 * interval.h - busy-time algebra on sorted, merged interval arrays.
 *
 * An interval is half-open [start, end) in epoch seconds.  An ivset_t is
 * "normal" when sorted by start, non-empty intervals only, and no two
 * intervals overlap or touch.  All set operations take and return normal
 * sets and run in linear time (k-way operations in O(N log k)).
 */
#ifndef TSUNAGU_INTERVAL_H
#define TSUNAGU_INTERVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct interval {
    int64_t start, end;
} interval_t;

typedef struct ivset {
    interval_t *v;
    size_t      n, cap;
} ivset_t;

void ivset_init(ivset_t *s);
void ivset_free(ivset_t *s);
void ivset_clear(ivset_t *s);
void ivset_push(ivset_t *s, int64_t start, int64_t end);  /* raw append */
void ivset_copy(ivset_t *dst, const ivset_t *src);
void ivset_normalize(ivset_t *s);              /* sort + merge touching/overlapping */
bool ivset_is_normal(const ivset_t *s);

/* out = a ∪ b, a ∩ b, a \ b.  out may not alias inputs. */
void ivset_union(ivset_t *out, const ivset_t *a, const ivset_t *b);
void ivset_intersect(ivset_t *out, const ivset_t *a, const ivset_t *b);
void ivset_subtract(ivset_t *out, const ivset_t *a, const ivset_t *b);
/* out = [from,to) \ a  (the free time of busy set a within the window) */
void ivset_complement(ivset_t *out, const ivset_t *a, int64_t from, int64_t to);
/* keep only the parts of s inside [from,to), in place */
void ivset_clip(ivset_t *s, int64_t from, int64_t to);
/* widen every interval by before/after seconds, in place, re-merging */
void ivset_pad(ivset_t *s, int64_t before, int64_t after);
/* out = the times covered by at least k of the n sets (counting sweep) */
void ivset_at_least(ivset_t *out, const ivset_t *const *sets, size_t n, size_t k);
/* out = intersection of n sets (k-way) */
void ivset_intersect_many(ivset_t *out, const ivset_t *const *sets, size_t n);
/* true if any interval of normal set s overlaps [start,end) */
bool ivset_overlaps(const ivset_t *s, int64_t start, int64_t end);
/* total seconds covered */
int64_t ivset_total(const ivset_t *s);

#endif
