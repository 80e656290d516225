/* SPDX-License-Identifier: MIT */
/*
 * tzwin.c - Windows time zone names to IANA ids, through ICU.
 *
 * ICU carries CLDR's windowsZones table and exposes it as
 * ucal_getTimeZoneIDForWindowsID.  Windows zone names and IANA ids are
 * plain ASCII, ICU's "invariant characters", so the conversion to and
 * from UChar is u_charsToUChars / u_UCharsToChars without a converter.
 * Anything else is refused before ICU sees it.  No state is kept: the
 * caller (icalbusy) caches per TZID and per input.
 */
#include "tzwin.h"

#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#define TZWIN_MAX 128   /* the longest Windows name is under 40 characters */

static bool printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return false;
    return true;
}

bool tzwin_to_iana(const char *windows, char *out, size_t outlen)
{
    if (outlen) out[0] = '\0';
    size_t n = windows ? strlen(windows) : 0;
    if (n == 0 || n >= TZWIN_MAX || outlen == 0 || !printable_ascii(windows, n)) return false;
    UChar win[TZWIN_MAX], id[TZWIN_MAX];
    u_charsToUChars(windows, win, (int32_t)n);
    UErrorCode status = U_ZERO_ERROR;
    int32_t len = ucal_getTimeZoneIDForWindowsID(win, (int32_t)n, NULL, id, TZWIN_MAX, &status);
    if (U_FAILURE(status) || len <= 0 || len >= TZWIN_MAX || (size_t)len >= outlen) return false;
    u_UCharsToChars(id, out, len);
    out[len] = '\0';
    return true;
}
