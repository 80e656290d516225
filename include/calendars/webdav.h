/* SPDX-License-Identifier: MIT */
/*
 * webdav.h - WebDAV/CalDAV multistatus (RFC 4918, 4791, 6578) parsing and
 * the request bodies tsunagu sends.
 *
 * Parsing is defensive: libxml2 runs with XML_PARSE_NONET, no entity
 * substitution and no DTD loading, and any document that carries a
 * DOCTYPE is refused before parsing (entity declarations are how
 * "billion laughs" and XXE attacks arrive; a DAV server never needs one).
 * Properties are taken only from propstat blocks whose status is 2xx.
 */
#ifndef TSUNAGU_WEBDAV_H
#define TSUNAGU_WEBDAV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dav_response {
    char *href;                 /* as sent (may be relative) */
    int   status;               /* response-level status, 0 when absent */
    bool  is_collection;        /* DAV:resourcetype has DAV:collection */
    bool  is_calendar;          /* ... and CALDAV:calendar */
    char *etag;                 /* DAV:getetag */
    char *calendar_data;        /* CALDAV:calendar-data text */
    char *sync_token;           /* DAV:sync-token property */
    char *current_user_principal;  /* href inside the property */
    char *calendar_home_set;       /* first href inside the property */
} dav_response_t;

typedef struct dav_multistatus {
    dav_response_t *v;
    size_t          n;
    char           *sync_token; /* top-level DAV:sync-token (sync-collection) */
} dav_multistatus_t;

/* Parse a multistatus document.  0 on success; -1 with a malloc'd
 * one-line Japanese message in *err (e.g. when the XML declares
 * entities, is malformed, or is not a DAV:multistatus). */
int  dav_parse_multistatus(const char *xml, size_t len, dav_multistatus_t *out, char **err);
void dav_multistatus_free(dav_multistatus_t *ms);

/* Resolve href against base (an absolute URL).  malloc'd, NULL on error. */
char *dav_resolve_href(const char *base, const char *href);

/* "YYYYMMDDTHHMMSSZ" for CalDAV time-range; buf >= 17 bytes. */
void dav_utc_stamp(long long t, char buf[17]);

#endif
