/* SPDX-License-Identifier: MIT */
/*
 * util.h - small shared helpers: checked allocation, growable strings and
 * string vectors.  Every module uses these instead of rolling its own.
 *
 * Allocation failure aborts with a message: the daemon cannot do anything
 * useful without memory, and checking every call site hides real logic.
 */
#ifndef TSUNAGU_UTIL_H
#define TSUNAGU_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* An array p of *cap elements of `size` bytes, about to take element n:
 * when n == *cap it doubles (from 8) and is reallocated.  Returns p,
 * moved or not:  rows = xgrow(rows, n, &cap, sizeof *rows);  rows[n++] = ... */
void *xgrow(void *p, size_t n, size_t *cap, size_t size);
char *xstrdup(const char *s);              /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Growable, always NUL-terminated byte string. */
typedef struct strbuf {
    char  *s;
    size_t len, cap;
} strbuf_t;

void strbuf_init(strbuf_t *b);
void strbuf_free(strbuf_t *b);
void strbuf_reset(strbuf_t *b);
void strbuf_add(strbuf_t *b, const void *data, size_t n);
void strbuf_puts(strbuf_t *b, const char *s);
void strbuf_putc(strbuf_t *b, char c);
void strbuf_printf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf_t *b, const char *fmt, va_list ap);
char *strbuf_detach(strbuf_t *b);          /* caller frees; b is reset */

/* Vector of owned strings. */
typedef struct strvec {
    char  **v;
    size_t  n, cap;
} strvec_t;

void strvec_init(strvec_t *sv);
void strvec_free(strvec_t *sv);
void strvec_push(strvec_t *sv, const char *s);   /* copies s */
bool strvec_contains(const strvec_t *sv, const char *s);
ptrdiff_t strvec_index(const strvec_t *sv, const char *s); /* -1 if absent */

/* Escape & < > " ' for XML or HTML text and attribute values (malloc'd;
 * NULL in gives ""). */
char *markup_escape(const char *s);

/* Read a whole file; returns malloc'd NUL-terminated buffer or NULL (errno set). */
char *read_file(const char *path, size_t *len_out);

/* pthread_create for the daemon's helper threads, with every signal
 * blocked in the new thread: the loop handles signals, and after the loop
 * a pending SIGTERM must not reach a thread that would take the default
 * action (and kill the process before its final WAL truncate). */
int thread_create_quiet(pthread_t *t, void *(*fn)(void *), void *arg);
/* true if s is valid UTF-8 of length n */
bool utf8_valid(const char *s, size_t n);
/* A copy (malloc'd) of valid UTF-8 text without leading and trailing white
 * space: ASCII, NBSP, U+2000-U+200A, U+3000 全角空白, BOM and the like. */
char *utf8_trim_space(const char *s);

#endif
