/* SPDX-License-Identifier: MIT */
/*
 * strmap.c - string-keyed hash map (see strmap.h): open addressing,
 * linear probing, FNV-1a, capacity a power of two kept at most half full,
 * backward-shift deletion.
 */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

void strmap_init(strmap_t *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_free(strmap_t *m)
{
    free(m->slots);
    strmap_init(m);
}

size_t strmap_len(const strmap_t *m) { return m->n; }

/* Index of key's slot, or of the empty slot where it would go. */
static size_t probe(const strmap_t *m, const char *key)
{
    size_t mask = m->cap - 1, i = (size_t)hash_str(key) & mask;
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return i;
}

static void rehash(strmap_t *m, size_t ncap)
{
    strmap_slot_t *old = m->slots;
    size_t ocap = m->cap;
    m->slots = xcalloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            m->slots[probe(m, old[i].key)] = old[i];
    free(old);
}

void strmap_reserve(strmap_t *m, size_t n)
{
    size_t need = 16;
    while (need < 2 * n)
        need *= 2;
    if (need > m->cap)
        rehash(m, need);
}

bool strmap_put(strmap_t *m, const char *key, void *val)
{
    strmap_reserve(m, m->n + 1);
    size_t i = probe(m, key);
    bool fresh = m->slots[i].key == NULL;
    if (fresh) {
        m->slots[i].key = key;
        m->n++;
    }
    m->slots[i].val = val;
    return fresh;
}

bool strmap_has(const strmap_t *m, const char *key)
{
    return m->cap && m->slots[probe(m, key)].key != NULL;
}

void *strmap_get(const strmap_t *m, const char *key)
{
    return m->cap ? m->slots[probe(m, key)].val : NULL;
}

bool strmap_del(strmap_t *m, const char *key)
{
    if (!m->cap)
        return false;
    size_t mask = m->cap - 1, i = probe(m, key);
    if (!m->slots[i].key)
        return false;
    /* backward shift: move later members of the run into the hole when
     * their home slot is not between the hole and them */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = (size_t)hash_str(m->slots[j].key) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->slots[i].val = NULL;
    m->n--;
    return true;
}
