/* SPDX-License-Identifier: MIT */
/*
 * ids.h - the one rule for identifiers (case, agency, calendar ids) and
 * for numeric ids in URLs.
 *
 * An id is 1 to IDS_MAX_LEN (64) characters of [A-Za-z0-9._-] and starts
 * with a letter or digit.  Being ASCII-only, it can hold no control
 * character, no U+0085, U+2028 or U+2029, nothing a URL must escape and
 * nothing a file name or log line could misread.  The HTTP router checks
 * every {id} capture with it, and case and city (agencies.json) parsing
 * check every id they read, so one rule holds at every door.
 */
#ifndef TSUNAGU_IDS_H
#define TSUNAGU_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDS_MAX_LEN 64
/* The rule as shown in error messages (Japanese first). */
#define IDS_RULE_TEXT "IDは英数字で始まる1〜64文字の英数字・「.」「_」「-」です " \
                      "(1-64 of [A-Za-z0-9._-], starting alphanumeric)"

bool ids_valid(const char *s);
/* A positive decimal id (no sign, no spaces) that fits in int64_t. */
bool ids_parse_int64(const char *s, int64_t *out);
/* True when s[0..n) holds a NUL, a C0 or C1 control (DEL, U+0080-U+009F,
 * so U+0085 too) or U+2028/U+2029 - text that must never reach an id,
 * a path segment or a log line. */
bool ids_has_control(const char *s, size_t n);

#endif
