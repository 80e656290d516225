/* SPDX-License-Identifier: MIT */
/*
 * ical_charset.h - iCalendar text that is not UTF-8, made UTF-8 (README
 * "messy feeds"): Japanese groupware exports Shift_JIS (CP932).
 */
#ifndef TSUNAGU_ICAL_CHARSET_H
#define TSUNAGU_ICAL_CHARSET_H

#include <stddef.h>

/* The charset parameter of a Content-Type header value ("text/calendar;
 * charset=Shift_JIS" -> "Shift_JIS"), malloc'd without quotes, or NULL
 * when there is none. */
char *ical_charset_of_content_type(const char *content_type);

/* Decodes text that is not valid UTF-8.  charset is the declared one (or
 * NULL): Shift_JIS and its names (CP932, Windows-31J, MS932, x-sjis, ...)
 * and EUC-JP are decoded; with no charset the text is tried as CP932.
 * The decoding is strict: any byte sequence the charset does not map
 * fails it.  Returns 0 with *out a malloc'd NUL-terminated UTF-8 copy
 * (*outlen bytes) and *from the charset's name for messages
 * ("Shift_JIS", "EUC-JP"); -1 when the text cannot be read (a declared
 * UTF-8 or unknown charset, or bytes the charset does not map). */
int ical_charset_to_utf8(const char *data, size_t len, const char *charset, char **out,
                         size_t *outlen, const char **from);

#endif
