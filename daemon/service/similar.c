/* SPDX-License-Identifier: MIT */
/*
 * similar.c - similar past cases from an inverted index (see similar.h
 * for the definition and the exact-fraction scoring).
 *
 * Layout: cases[] holds each indexed case's id and its sorted term ids
 * (rule terms first, then feature terms); post[t] lists the cases that
 * have term t.  Two string maps (open addressing, FNV-1a) give a case's
 * slot and a term's id.  A query accumulates shared-rule and
 * shared-feature counts in two per-case arrays, touching only cases on
 * the query case's postings, then keeps those at or above 1/4 and sorts
 * them.  Replacing a case removes it from its old postings first, so the
 * index can follow single updates without a rebuild.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "similar.h"
#include "store_stats.h"

/* ---- string -> int map ------------------------------------------------- */

typedef struct smap {
    char  **keys;
    int    *vals;
    size_t  cap, n;
} smap_t;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t smap_slot(const smap_t *m, const char *k)
{
    size_t i = fnv(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int smap_get(const smap_t *m, const char *k)
{
    if (!m->cap)
        return -1;
    size_t i = smap_slot(m, k);
    return m->keys[i] ? m->vals[i] : -1;
}

static void smap_put(smap_t *m, const char *k, int v);

static void smap_grow(smap_t *m)
{
    smap_t old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            smap_put(m, old.keys[i], old.vals[i]);
            free(old.keys[i]);
        }
    free(old.keys);
    free(old.vals);
}

static void smap_put(smap_t *m, const char *k, int v)
{
    if ((m->n + 1) * 2 > m->cap)
        smap_grow(m);
    size_t i = smap_slot(m, k);
    if (!m->keys[i]) {
        m->keys[i] = xstrdup(k);
        m->n++;
    }
    m->vals[i] = v;
}

static void smap_free(smap_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- the index --------------------------------------------------------- */

typedef struct scase {
    char *id;
    int  *terms;          /* nr rule terms, then nf feature terms; each sorted */
    int   nr, nf;
} scase_t;

typedef struct plist {
    int   *v;
    size_t n, cap;
} plist_t;

struct similar {
    smap_t    ids, terms;
    char    **tname;        /* term id -> "r:<rule>" / "f:<feature>" */
    plist_t  *post;
    size_t    nterms, tcap;
    scase_t  *cases;
    size_t    ncases, ccap;
    uint16_t *acc_r, *acc_f;
    int      *touched;
    size_t    acc_cap;
    char      hash[72];
    int64_t   watermark;      /* newest `updated` indexed */
    bool      built;
    bool      complete;       /* a first full pass finished */
    bool      in_pass;        /* a sync pass is under way: */
    int64_t   pass_since;     /*   it reads updated >= pass_since */
    int64_t   cur_updated, cur_rowid;   /* after this row */
};

similar_t *similar_new(void)
{
    return xcalloc(1, sizeof(similar_t));
}

static void similar_reset(similar_t *s)
{
    smap_free(&s->ids);
    smap_free(&s->terms);
    for (size_t t = 0; t < s->nterms; t++) {
        free(s->tname[t]);
        free(s->post[t].v);
    }
    for (size_t i = 0; i < s->ncases; i++) {
        free(s->cases[i].id);
        free(s->cases[i].terms);
    }
    free(s->tname);
    free(s->post);
    free(s->cases);
    free(s->acc_r);
    free(s->acc_f);
    free(s->touched);
    memset(s, 0, sizeof *s);
}

void similar_free(similar_t *s)
{
    if (!s)
        return;
    similar_reset(s);
    free(s);
}

size_t similar_count(const similar_t *s) { return s->ncases; }

static int term_id(similar_t *s, char kind, const char *name)
{
    char *key = xasprintf("%c:%s", kind, name);
    int t = smap_get(&s->terms, key);
    if (t < 0) {
        if (s->nterms == s->tcap) {
            s->tcap = s->tcap ? s->tcap * 2 : 64;
            s->tname = xrealloc(s->tname, s->tcap * sizeof *s->tname);
            s->post = xrealloc(s->post, s->tcap * sizeof *s->post);
        }
        t = (int)s->nterms++;
        s->tname[t] = xstrdup(key);
        s->post[t] = (plist_t){ 0 };
        smap_put(&s->terms, key, t);
    }
    free(key);
    return t;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Term ids of names (duplicates dropped), sorted, appended at out[*n]. */
static int add_terms(similar_t *s, char kind, const strvec_t *names, int *out)
{
    int n = 0;
    for (size_t i = 0; i < names->n; i++) {
        int t = term_id(s, kind, names->v[i]);
        bool dup = false;
        for (int k = 0; k < n; k++)
            dup |= out[k] == t;
        if (!dup)
            out[n++] = t;
    }
    qsort(out, (size_t)n, sizeof *out, cmp_int);
    return n;
}

static void post_add(plist_t *p, int c)
{
    if (p->n == p->cap)
        p->v = xrealloc(p->v, (p->cap = p->cap ? p->cap * 2 : 8) * sizeof *p->v);
    p->v[p->n++] = c;
}

static void post_remove(plist_t *p, int c)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i] == c) {
            p->v[i] = p->v[--p->n];
            return;
        }
}

static int case_slot(similar_t *s, const char *id)
{
    int c = smap_get(&s->ids, id);
    if (c >= 0)
        return c;
    if (s->ncases == s->ccap) {
        s->ccap = s->ccap ? s->ccap * 2 : 64;
        s->cases = xrealloc(s->cases, s->ccap * sizeof *s->cases);
    }
    c = (int)s->ncases++;
    s->cases[c] = (scase_t){ xstrdup(id), NULL, 0, 0 };
    smap_put(&s->ids, id, c);
    return c;
}

void similar_set(similar_t *s, const char *id, const strvec_t *rules, const strvec_t *features)
{
    int c = case_slot(s, id);
    scase_t *sc = &s->cases[c];
    for (int k = 0; k < sc->nr + sc->nf; k++)
        post_remove(&s->post[sc->terms[k]], c);
    free(sc->terms);
    sc->terms = xmalloc((rules->n + features->n + 1) * sizeof *sc->terms);
    sc->nr = add_terms(s, 'r', rules, sc->terms);
    sc->nf = add_terms(s, 'f', features, sc->terms + sc->nr);
    for (int k = 0; k < sc->nr + sc->nf; k++)
        post_add(&s->post[sc->terms[k]], c);
}

bool similar_get(const similar_t *s, const char *id, strvec_t *rules, strvec_t *features)
{
    int c = smap_get(&s->ids, id);
    if (c < 0)
        return false;
    const scase_t *sc = &s->cases[c];
    for (int k = 0; k < sc->nr + sc->nf; k++)
        strvec_push(k < sc->nr ? rules : features, s->tname[sc->terms[k]] + 2);
    return true;
}

/* ---- scoring ----------------------------------------------------------- */

/* Exact sim of a and b from the shared counts; false below 1/4. */
static bool score(const scase_t *a, const scase_t *b, int sr, int sf, similar_hit_t *h)
{
    int64_t ur = a->nr + b->nr - sr, uf = a->nf + b->nf - sf;
    if (ur == 0)
        ur = 1;
    if (uf == 0)
        uf = 1;
    h->num = 3 * (int64_t)sr * uf + 2 * (int64_t)sf * ur;
    h->den = 5 * ur * uf;
    if (h->num * SIMILAR_MIN_DEN < h->den * SIMILAR_MIN_NUM)
        return false;
    h->id = b->id;
    h->sim = (double)h->num / (double)h->den;
    h->shared_rules = sr;
    h->shared_features = sf;
    return true;
}

static int cmp_hit(const void *x, const void *y)
{
    const similar_hit_t *a = x, *b = y;
    int64_t l = a->num * b->den, r = b->num * a->den;
    if (l != r)
        return l > r ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Sort hits, copy the first limit to out. */
static long finish(similar_hit_t *hits, size_t n, size_t limit, similar_hit_t *out)
{
    qsort(hits, n, sizeof *hits, cmp_hit);
    size_t k = n < limit ? n : limit;
    memcpy(out, hits, k * sizeof *out);
    free(hits);
    return (long)k;
}

static void acc_ensure(similar_t *s)
{
    if (s->acc_cap >= s->ncases)
        return;
    s->acc_cap = s->ncases;
    free(s->acc_r);
    free(s->acc_f);
    free(s->touched);
    s->acc_r = xcalloc(s->acc_cap, sizeof *s->acc_r);
    s->acc_f = xcalloc(s->acc_cap, sizeof *s->acc_f);
    s->touched = xmalloc(s->acc_cap * sizeof *s->touched);
}

long similar_query(similar_t *s, const char *id, size_t limit, similar_hit_t *out)
{
    int a = smap_get(&s->ids, id);
    if (a < 0)
        return -1;
    acc_ensure(s);
    const scase_t *sa = &s->cases[a];
    size_t nt = 0;
    for (int k = 0; k < sa->nr + sa->nf; k++) {
        const plist_t *p = &s->post[sa->terms[k]];
        uint16_t *acc = k < sa->nr ? s->acc_r : s->acc_f;
        for (size_t i = 0; i < p->n; i++) {
            int b = p->v[i];
            if (b == a)
                continue;
            if (!s->acc_r[b] && !s->acc_f[b])
                s->touched[nt++] = b;
            acc[b]++;
        }
    }
    similar_hit_t *hits = xmalloc((nt + 1) * sizeof *hits);
    size_t n = 0;
    for (size_t i = 0; i < nt; i++) {
        int b = s->touched[i];
        n += score(sa, &s->cases[b], s->acc_r[b], s->acc_f[b], &hits[n]);
        s->acc_r[b] = s->acc_f[b] = 0;
    }
    return finish(hits, n, limit, out);
}

/* |x ∩ y| of two sorted int arrays. */
static int common(const int *x, int nx, const int *y, int ny)
{
    int i = 0, j = 0, n = 0;
    while (i < nx && j < ny) {
        if (x[i] == y[j]) {
            n++;
            i++;
            j++;
        } else if (x[i] < y[j]) {
            i++;
        } else {
            j++;
        }
    }
    return n;
}

long similar_query_scan(similar_t *s, const char *id, size_t limit, similar_hit_t *out)
{
    int a = smap_get(&s->ids, id);
    if (a < 0)
        return -1;
    const scase_t *sa = &s->cases[a];
    similar_hit_t *hits = xmalloc((s->ncases + 1) * sizeof *hits);
    size_t n = 0;
    for (size_t b = 0; b < s->ncases; b++) {
        const scase_t *sb = &s->cases[b];
        if ((int)b == a)
            continue;
        int sr = common(sa->terms, sa->nr, sb->terms, sb->nr);
        int sf = common(sa->terms + sa->nr, sa->nf, sb->terms + sb->nr, sb->nf);
        n += score(sa, sb, sr, sf, &hits[n]);
    }
    return finish(hits, n, limit, out);
}

/* ---- terms and the store ----------------------------------------------- */

void similar_terms(const ruleset_t *rs, const case_t *c, strvec_t *rules, strvec_t *features)
{
    city_t none;
    memset(&none, 0, sizeof none);      /* firing needs no agencies */
    proposal_t p;
    rules_propose(rs, &none, c, NULL, &p);
    for (size_t i = 0; i < p.nfired; i++)
        strvec_push(rules, rules_rule_id(rs, (size_t)p.fired[i]));
    proposal_free(&p);
    for (size_t i = 0; i < c->features.n; i++)
        if (!strvec_contains(features, c->features.v[i]))
            strvec_push(features, c->features.v[i]);
    for (size_t m = 0; m < c->nmembers; m++)
        for (size_t i = 0; i < c->members[m].features.n; i++)
            if (!strvec_contains(features, c->members[m].features.v[i]))
                strvec_push(features, c->members[m].features.v[i]);
}

typedef struct sync_ctx {
    similar_t       *s;
    const ruleset_t *rs;
    long             rows;
} sync_ctx_t;

static bool sync_row(void *arg, const char *id, const char *doc, const char *status,
                     int64_t updated)
{
    sync_ctx_t *x = arg;
    strvec_t r, f;
    strvec_init(&r);
    strvec_init(&f);
    json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
    case_t c;
    char err[256];
    if (j && case_from_json(j, &c, err, sizeof err)) {
        similar_terms(x->rs, &c, &r, &f);
        case_free(&c);
    }
    json_decref(j);
    similar_set(x->s, id, &r, &f);     /* unreadable: indexed with no terms */
    strvec_free(&r);
    strvec_free(&f);
    if (updated > x->s->watermark)
        x->s->watermark = updated;
    x->rows++;
    return true;
}

long similar_sync_some(similar_t *s, store_t *st, const ruleset_t *rs, long max_rows,
                       bool *done)
{
    *done = false;
    if (!s->built || strcmp(s->hash, rules_hash(rs))) {
        similar_reset(s);
        snprintf(s->hash, sizeof s->hash, "%s", rules_hash(rs));
        s->watermark = INT64_MIN;
        s->built = true;
    }
    if (!s->in_pass) {
        s->in_pass = true;
        s->pass_since = s->watermark;
        s->cur_updated = INT64_MIN;
        s->cur_rowid = INT64_MIN;
    }
    sync_ctx_t x = { s, rs, 0 };
    int64_t rowid = s->cur_rowid;
    long n = store_stats_cases_page(st, s->pass_since, s->cur_updated, s->cur_rowid, max_rows,
                                    &rowid, sync_row, &x);
    if (n < 0) {
        s->built = s->in_pass = false;      /* start over next time */
        return -1;
    }
    if (n > 0) {
        s->cur_updated = s->watermark;      /* rows come in (updated, rowid) order */
        s->cur_rowid = rowid;
    }
    if (n < max_rows) {
        s->in_pass = false;
        s->complete = true;
        *done = true;
    }
    return n;
}

bool similar_building(const similar_t *s, const ruleset_t *rs)
{
    return !s || !s->built || !s->complete || strcmp(s->hash, rules_hash(rs));
}

long similar_sync(similar_t *s, store_t *st, const ruleset_t *rs)
{
    long total = 0, n;
    bool done = false;
    while (!done) {
        if ((n = similar_sync_some(s, st, rs, 4096, &done)) < 0)
            return -1;
        total += n;
    }
    return total;
}
