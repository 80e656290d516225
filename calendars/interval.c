/* SPDX-License-Identifier: MIT */
/*
 * interval.c - busy-time algebra over sorted, merged interval arrays.
 *
 * Every operation walks its inputs once in start order (two-pointer
 * merges), so costs are linear in the number of intervals.  The k-of-n
 * operation is a counting sweep over the 2N start/end events; the k-way
 * intersection folds pairwise intersections, smallest set first, which
 * keeps intermediate results small.
 */
#include "interval.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void ivset_init(ivset_t *s)
{
    s->v = NULL;
    s->n = s->cap = 0;
}

void ivset_free(ivset_t *s)
{
    free(s->v);
    ivset_init(s);
}

void ivset_clear(ivset_t *s) { s->n = 0; }

static void ivset_reserve(ivset_t *s, size_t n)
{
    if (n <= s->cap) return;
    size_t cap = s->cap ? s->cap : 16;
    while (cap < n) cap *= 2;
    s->v = xrealloc(s->v, cap * sizeof *s->v);
    s->cap = cap;
}

void ivset_push(ivset_t *s, int64_t start, int64_t end)
{
    ivset_reserve(s, s->n + 1);
    s->v[s->n].start = start;
    s->v[s->n].end = end;
    s->n++;
}

/* Append to a set being built in order, merging with the last interval. */
static void ivset_append_merge(ivset_t *s, int64_t start, int64_t end)
{
    if (end <= start) return;
    if (s->n && start <= s->v[s->n - 1].end) {
        if (end > s->v[s->n - 1].end) s->v[s->n - 1].end = end;
        return;
    }
    ivset_push(s, start, end);
}

void ivset_copy(ivset_t *dst, const ivset_t *src)
{
    ivset_clear(dst);
    ivset_reserve(dst, src->n);
    if (src->n) memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
}

static int interval_cmp(const void *a, const void *b)
{
    const interval_t *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

void ivset_normalize(ivset_t *s)
{
    if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, interval_cmp);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        interval_t iv = s->v[i];
        if (iv.end <= iv.start) continue;
        if (w && iv.start <= s->v[w - 1].end) {
            if (iv.end > s->v[w - 1].end) s->v[w - 1].end = iv.end;
        } else {
            s->v[w++] = iv;
        }
    }
    s->n = w;
}

bool ivset_is_normal(const ivset_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].end <= s->v[i].start) return false;
        if (i && s->v[i].start <= s->v[i - 1].end) return false;
    }
    return true;
}

void ivset_union(ivset_t *out, const ivset_t *a, const ivset_t *b)
{
    size_t i = 0, j = 0;
    ivset_clear(out);
    ivset_reserve(out, a->n + b->n);
    while (i < a->n || j < b->n) {
        const interval_t *next;
        if (j >= b->n || (i < a->n && a->v[i].start <= b->v[j].start))
            next = &a->v[i++];
        else
            next = &b->v[j++];
        ivset_append_merge(out, next->start, next->end);
    }
}

void ivset_intersect(ivset_t *out, const ivset_t *a, const ivset_t *b)
{
    size_t i = 0, j = 0;
    ivset_clear(out);
    while (i < a->n && j < b->n) {
        int64_t lo = a->v[i].start > b->v[j].start ? a->v[i].start : b->v[j].start;
        int64_t hi = a->v[i].end < b->v[j].end ? a->v[i].end : b->v[j].end;
        if (lo < hi) ivset_push(out, lo, hi);
        if (a->v[i].end < b->v[j].end) i++;
        else j++;
    }
}

void ivset_subtract(ivset_t *out, const ivset_t *a, const ivset_t *b)
{
    size_t j = 0;
    ivset_clear(out);
    for (size_t i = 0; i < a->n; i++) {
        int64_t cur = a->v[i].start, end = a->v[i].end;
        while (j < b->n && b->v[j].end <= cur) j++;
        size_t k = j;
        while (k < b->n && b->v[k].start < end) {
            if (b->v[k].start > cur) ivset_push(out, cur, b->v[k].start);
            if (b->v[k].end > cur) cur = b->v[k].end;
            if (cur >= end) break;
            k++;
        }
        if (cur < end) ivset_push(out, cur, end);
    }
}

void ivset_complement(ivset_t *out, const ivset_t *a, int64_t from, int64_t to)
{
    ivset_t window;
    interval_t w = {from, to};
    window.v = &w;
    window.n = window.cap = from < to ? 1 : 0;
    ivset_subtract(out, &window, a);
}

void ivset_clip(ivset_t *s, int64_t from, int64_t to)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        int64_t lo = s->v[i].start > from ? s->v[i].start : from;
        int64_t hi = s->v[i].end < to ? s->v[i].end : to;
        if (lo < hi) s->v[w++] = (interval_t){lo, hi};
    }
    s->n = w;
}

void ivset_pad(ivset_t *s, int64_t before, int64_t after)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        int64_t lo = s->v[i].start - before, hi = s->v[i].end + after;
        if (w && lo <= s->v[w - 1].end) {
            if (hi > s->v[w - 1].end) s->v[w - 1].end = hi;
        } else {
            s->v[w++] = (interval_t){lo, hi};
        }
    }
    s->n = w;
}

typedef struct sweep_event {
    int64_t t;
    int     delta;   /* +1 start, -1 end */
} sweep_event_t;

static int sweep_cmp(const void *a, const void *b)
{
    const sweep_event_t *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->delta - y->delta;          /* ends before starts at equal t */
}

void ivset_at_least(ivset_t *out, const ivset_t *const *sets, size_t n, size_t k)
{
    ivset_clear(out);
    if (k == 0 || k > n) return;
    if (n == 1) { ivset_copy(out, sets[0]); return; }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += sets[i]->n;
    sweep_event_t *ev = xmalloc(2 * total * sizeof *ev);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < sets[i]->n; j++) {
            ev[m++] = (sweep_event_t){sets[i]->v[j].start, +1};
            ev[m++] = (sweep_event_t){sets[i]->v[j].end, -1};
        }
    qsort(ev, m, sizeof *ev, sweep_cmp);
    size_t depth = 0;
    int64_t open_at = 0;
    for (size_t i = 0; i < m; i++) {
        size_t before = depth;
        depth = (size_t)((long)depth + ev[i].delta);
        if (before < k && depth >= k) open_at = ev[i].t;
        else if (before >= k && depth < k) ivset_append_merge(out, open_at, ev[i].t);
    }
    free(ev);
}

static int set_size_cmp(const void *a, const void *b)
{
    const ivset_t *x = *(const ivset_t *const *)a, *y = *(const ivset_t *const *)b;
    return (x->n > y->n) - (x->n < y->n);
}

void ivset_intersect_many(ivset_t *out, const ivset_t *const *sets, size_t n)
{
    ivset_clear(out);
    if (n == 0) return;
    const ivset_t **order = xmalloc(n * sizeof *order);
    memcpy(order, sets, n * sizeof *order);
    qsort(order, n, sizeof *order, set_size_cmp);
    ivset_copy(out, order[0]);
    ivset_t tmp;
    ivset_init(&tmp);
    for (size_t i = 1; i < n && out->n; i++) {
        ivset_intersect(&tmp, out, order[i]);
        ivset_t swap = *out;
        *out = tmp;
        tmp = swap;
    }
    ivset_free(&tmp);
    free(order);
}

bool ivset_overlaps(const ivset_t *s, int64_t start, int64_t end)
{
    if (start >= end) return false;      /* an empty range overlaps nothing */
    size_t lo = 0, hi = s->n;
    while (lo < hi) {                    /* first interval with end > start */
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].end <= start) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->v[lo].start < end;
}

int64_t ivset_total(const ivset_t *s)
{
    int64_t t = 0;
    for (size_t i = 0; i < s->n; i++) t += s->v[i].end - s->v[i].start;
    return t;
}
