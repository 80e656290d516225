/* SPDX-License-Identifier: MIT */
/*
 * tzwin.h - Windows time zone names to IANA zone ids.
 *
 * Outlook and Exchange publish TZID=Tokyo Standard Time, often without a
 * VTIMEZONE.  The mapping is CLDR's windowsZones table as ICU ships it
 * (libicu), so it is kept up to date by the distribution, not by hand.
 */
#ifndef TSUNAGU_TZWIN_H
#define TSUNAGU_TZWIN_H

#include <stdbool.h>
#include <stddef.h>

/* The IANA id of Windows zone name `windows` for the world at large
 * (CLDR territory 001), e.g. "GMT Standard Time" -> "Europe/London".
 * Returns false (out set to "") for a name ICU does not map, a name that
 * is not printable ASCII, or an id that does not fit in outlen bytes. */
bool tzwin_to_iana(const char *windows, char *out, size_t outlen);

#endif
