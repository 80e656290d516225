/* SPDX-License-Identifier: MIT */
/*
 * support_dav.c - CalDAV setup helpers for integration tests.
 *
 * Splitting works on the text: everything before the first component
 * other than VTIMEZONE is the header, VTIMEZONE blocks are copied into
 * every part, and each VEVENT/VTODO/VJOURNAL block goes to the part of
 * its UID.  HTTP uses a blocking curl_easy_perform, which is fine in
 * test setup code (never in the daemon).
 */
#include "support_dav.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- splitting ---------------------------------------------------------- */

typedef struct block {
    const char *start;
    size_t      len;
    char       *uid;       /* NULL for VTIMEZONE */
} block_t;

static char *block_uid(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > 4 && strncmp(p, "UID:", 4) == 0) {
            const char *v = p + 4, *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            return xstrndup(v, (size_t)(ve - v));
        }
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

/* Find "BEGIN:<X>" at line start; returns its position and the name. */
static const char *next_begin(const char *p, char *name, size_t namelen)
{
    while ((p = strstr(p, "BEGIN:")) != NULL) {
        const char *e = p + 6;
        size_t n = strcspn(e, "\r\n");
        if (n < namelen && strncmp(e, "VCALENDAR", 9) != 0) {
            memcpy(name, e, n);
            name[n] = '\0';
            return p;
        }
        p = e;
    }
    return NULL;
}

static const char *block_end(const char *p, const char *name)
{
    char marker[64];
    snprintf(marker, sizeof marker, "END:%s", name);
    const char *e = strstr(p, marker);
    if (!e)
        return NULL;
    e += strlen(marker);
    while (*e == '\r' || *e == '\n')
        e++;
    return e;
}

size_t support_ical_split(const char *ics, support_ical_part_t **out)
{
    *out = NULL;
    char name[32];
    const char *first = next_begin(ics, name, sizeof name);
    if (!first)
        return 0;
    size_t header_len = (size_t)(first - ics), nb = 0;
    block_t *blocks = NULL;
    for (const char *p = first; (p = next_begin(p, name, sizeof name)) != NULL;) {
        const char *e = block_end(p, name);
        if (!e)
            break;
        blocks = xrealloc(blocks, (nb + 1) * sizeof *blocks);
        blocks[nb].start = p;
        blocks[nb].len = (size_t)(e - p);
        blocks[nb].uid = strcmp(name, "VTIMEZONE") ? block_uid(p, (size_t)(e - p)) : NULL;
        nb++;
        p = e;
    }
    size_t nparts = 0;
    support_ical_part_t *parts = NULL;
    for (size_t i = 0; i < nb; i++) {
        if (!blocks[i].uid)
            continue;
        size_t k;
        for (k = 0; k < nparts && strcmp(parts[k].uid, blocks[i].uid); k++)
            ;
        if (k < nparts)
            continue;                          /* done with the first block of this UID */
        strbuf_t b;
        strbuf_init(&b);
        strbuf_add(&b, ics, header_len);
        for (size_t j = 0; j < nb; j++)
            if (!blocks[j].uid)
                strbuf_add(&b, blocks[j].start, blocks[j].len);
        for (size_t j = i; j < nb; j++)
            if (blocks[j].uid && strcmp(blocks[j].uid, blocks[i].uid) == 0)
                strbuf_add(&b, blocks[j].start, blocks[j].len);
        strbuf_puts(&b, "END:VCALENDAR\r\n");
        parts = xrealloc(parts, (nparts + 1) * sizeof *parts);
        parts[nparts].uid = xstrdup(blocks[i].uid);
        parts[nparts].ics = strbuf_detach(&b);
        nparts++;
    }
    for (size_t i = 0; i < nb; i++)
        free(blocks[i].uid);
    free(blocks);
    *out = parts;
    return nparts;
}

void support_ical_parts_free(support_ical_part_t *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(parts[i].uid);
        free(parts[i].ics);
    }
    free(parts);
}

/* ---- blocking HTTP --------------------------------------------------------- */

static size_t on_data(char *d, size_t size, size_t n, void *arg)
{
    strbuf_add(arg, d, size * n);
    return size * n;
}

long support_http(const char *method, const char *url, const char *userpwd,
                  const char *content_type, const char *body, char **resp)
{
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    strbuf_t b;
    strbuf_init(&b);
    struct curl_slist *h = NULL;
    if (content_type) {
        char *line = xasprintf("Content-Type: %s", content_type);
        h = curl_slist_append(h, line);
        free(line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (userpwd)
        curl_easy_setopt(e, CURLOPT_USERPWD, userpwd);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = -1;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (resp)
        *resp = strbuf_detach(&b);
    else
        strbuf_free(&b);
    return status;
}

char *support_dav_resource_name(const char *uid)
{
    char *n = xasprintf("%s.ics", uid);
    for (char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
            *p = '_';
    return n;
}

int support_dav_upload_split(const char *collection_url, const char *userpwd,
                             const char *ics_path)
{
    size_t len;
    char *text = read_file(ics_path, &len);
    if (!text)
        return -1;
    support_ical_part_t *parts;
    size_t n = support_ical_split(text, &parts);
    free(text);
    int count = n ? 0 : -1;
    for (size_t i = 0; i < n && count >= 0; i++) {
        char *name = support_dav_resource_name(parts[i].uid);
        char *url = xasprintf("%s%s", collection_url, name);
        long st = support_http("PUT", url, userpwd, "text/calendar; charset=utf-8",
                               parts[i].ics, NULL);
        if (st == 201 || st == 204 || st == 200)
            count++;
        else {
            fprintf(stderr, "PUT %s -> %ld\n", url, st);
            count = -1;
        }
        free(url);
        free(name);
    }
    support_ical_parts_free(parts, n);
    return count;
}
