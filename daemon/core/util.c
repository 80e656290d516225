/* SPDX-License-Identifier: MIT */
/*
 * util.c - checked allocation, strbuf, strvec, file reading, UTF-8 check.
 * See include/core/util.h.
 */
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
    fputs("tsunagu: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *xgrow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) return p;
    *cap = *cap ? *cap * 2 : 8;
    return xrealloc(p, *cap * size);
}

char *xstrdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) out_of_memory();
    return d;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d) out_of_memory();
    return d;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_vprintf(&b, fmt, ap);
    return strbuf_detach(&b);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

void strbuf_init(strbuf_t *b)
{
    b->cap = 64;
    b->len = 0;
    b->s = xmalloc(b->cap);
    b->s[0] = '\0';
}

void strbuf_free(strbuf_t *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void strbuf_reset(strbuf_t *b)
{
    b->len = 0;
    b->s[0] = '\0';
}

static void strbuf_reserve(strbuf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    while (b->len + extra + 1 > b->cap) b->cap *= 2;
    b->s = xrealloc(b->s, b->cap);
}

void strbuf_add(strbuf_t *b, const void *data, size_t n)
{
    strbuf_reserve(b, n);
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void strbuf_puts(strbuf_t *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

void strbuf_putc(strbuf_t *b, char c)
{
    strbuf_add(b, &c, 1);
}

void strbuf_vprintf(strbuf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    strbuf_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void strbuf_printf(strbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *strbuf_detach(strbuf_t *b)
{
    char *s = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void strvec_init(strvec_t *sv)
{
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

void strvec_free(strvec_t *sv)
{
    for (size_t i = 0; i < sv->n; i++) free(sv->v[i]);
    free(sv->v);
    strvec_init(sv);
}

void strvec_push(strvec_t *sv, const char *s)
{
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 4;
        sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
    }
    sv->v[sv->n++] = xstrdup(s);
}

ptrdiff_t strvec_index(const strvec_t *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0) return (ptrdiff_t)i;
    return -1;
}

bool strvec_contains(const strvec_t *sv, const char *s)
{
    return strvec_index(sv, s) >= 0;
}

char *markup_escape(const char *s)
{
    strbuf_t b;
    strbuf_init(&b);
    for (; s && *s; s++) {
        switch (*s) {
        case '<':  strbuf_puts(&b, "&lt;"); break;
        case '>':  strbuf_puts(&b, "&gt;"); break;
        case '&':  strbuf_puts(&b, "&amp;"); break;
        case '"':  strbuf_puts(&b, "&quot;"); break;
        case '\'': strbuf_puts(&b, "&#39;"); break;
        default:   strbuf_putc(&b, *s);
        }
    }
    return strbuf_detach(&b);
}

char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    strbuf_t b;
    strbuf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) strbuf_add(&b, chunk, n);
    int err = ferror(f);
    fclose(f);
    if (err) {
        strbuf_free(&b);
        errno = EIO;
        return NULL;
    }
    if (len_out) *len_out = b.len;
    return strbuf_detach(&b);
}

bool utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

int thread_create_quiet(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Length of the white-space character at s (ASCII, NBSP, U+1680,
 * U+2000-U+200A, U+2028/2029, U+202F, U+205F, U+3000 全角空白, BOM), or 0. */
static size_t space_len(const unsigned char *s)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if ((s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) || (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF))
        return 3;
    return 0;
}

/* A copy of valid UTF-8 text without leading/trailing white space. */
char *utf8_trim_space(const char *text)
{
    const unsigned char *s = (const unsigned char *)text, *last = s;
    size_t n;
    while ((n = space_len(s)))
        s += n;
    for (const unsigned char *p = s; *p; ) {
        if ((n = space_len(p))) {
            p += n;
        } else {
            p += (*p < 0x80) ? 1 : (*p >= 0xF0) ? 4 : (*p >= 0xE0) ? 3 : 2;
            last = p;
        }
    }
    return xstrndup((const char *)s, last > s ? (size_t)(last - s) : 0);
}
