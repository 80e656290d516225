/* SPDX-License-Identifier: MIT */
/*
 * ids.c - the identifier rule (see ids.h): a character scan, a decimal
 * parser that refuses overflow instead of saturating, and a control
 * character detector that understands the UTF-8 forms of U+0080-U+009F
 * and U+2028/U+2029.
 */
#include "ids.h"

#include <string.h>

static bool id_char(unsigned char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '.' || c == '_' || c == '-');
}

bool ids_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (n >= IDS_MAX_LEN || !id_char(*p, n == 0))
            return false;
    return true;
}

bool ids_parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v <= 0)
        return false;
    *out = v;
    return true;
}

bool ids_has_control(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return true;
        if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return true;   /* U+0080..U+009F, NEL among them */
        if (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x80 &&
            (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
            return true;   /* U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR */
    }
    return false;
}
