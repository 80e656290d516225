/* SPDX-License-Identifier: MIT */
/*
 * support_dav.h - test-side helpers for CalDAV servers: blocking HTTP
 * requests for setup (MKCALENDAR, PUT, DELETE), and splitting an
 * iCalendar file into one resource per UID, the way CalDAV stores it.
 */
#ifndef TSUNAGU_SUPPORT_DAV_H
#define TSUNAGU_SUPPORT_DAV_H

#include <stddef.h>

typedef struct support_ical_part {
    char *uid;
    char *ics;      /* a complete VCALENDAR with the header and VTIMEZONEs */
} support_ical_part_t;

/* Split by UID (a master and its RECURRENCE-ID overrides stay together).
 * Returns the number of parts (0 on malformed input). */
size_t support_ical_split(const char *ics, support_ical_part_t **out);
void   support_ical_parts_free(support_ical_part_t *parts, size_t n);

/* Blocking request (tests only).  Returns the HTTP status or -1; when
 * resp is non-NULL it receives the malloc'd response body. */
long support_http(const char *method, const char *url, const char *userpwd,
                  const char *content_type, const char *body, char **resp);

/* PUT every part of the local .ics file into collection_url (ending in
 * '/') as <uid>.ics.  Returns the number uploaded, -1 on any failure. */
int support_dav_upload_split(const char *collection_url, const char *userpwd,
                             const char *ics_path);

/* A resource name for a UID: unsafe characters replaced by '_'. */
char *support_dav_resource_name(const char *uid);

#endif
