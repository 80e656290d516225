/* SPDX-License-Identifier: MIT */
/*
 * webdav.c - parsing WebDAV multistatus responses safely.
 *
 * A multistatus is a list of <response>s, each with an <href>, either a
 * response-level <status> (sync-collection reports deletions that way) or
 * <propstat> blocks that pair a <prop> with a <status>.  We walk the tree
 * once and keep the handful of properties tsunagu uses (resourcetype,
 * getetag, calendar-data, sync-token, current-user-principal,
 * calendar-home-set), matching elements by namespace URI and local name so
 * any prefix works.
 *
 * Safety: the prolog is scanned first and a document with a DOCTYPE
 * (the only place entities can be declared) is refused outright, as is
 * anything that is not UTF-8; libxml2 then parses with NONET and
 * without NOENT/DTDLOAD, and a document that still ends up with a DTD is
 * refused as well.  So entities are never expanded, and nothing is ever
 * fetched from the network by the parser.
 */
#include "webdav.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"
#include "util.h"

#define NS_DAV    "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"

static bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *first_child(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_elem(c, ns, name))
            return c;
    return NULL;
}

/* Trimmed text content of n, malloc'd ("" for empty). */
static char *text_of(const xmlNode *n, bool trim)
{
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s = raw ? (const char *)raw : "";
    size_t len = strlen(s);
    if (trim) {
        while (len && strchr(" \t\r\n", s[len - 1]))
            len--;
        while (len && strchr(" \t\r\n", *s)) {
            s++;
            len--;
        }
    }
    char *out = xstrndup(s, len);
    xmlFree(raw);
    return out;
}

/* "HTTP/1.1 404 Not Found" -> 404 (0 when unreadable). */
static int status_code(const xmlNode *n)
{
    char *s = text_of(n, true);
    const char *sp = strchr(s, ' ');
    int code = sp ? atoi(sp + 1) : 0;
    free(s);
    return code;
}

static char *href_inside(const xmlNode *prop)
{
    xmlNode *h = first_child(prop, NS_DAV, "href");
    return h ? text_of(h, true) : NULL;
}

static void replace(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

static void take_prop(dav_response_t *r, const xmlNode *p)
{
    if (is_elem(p, NS_DAV, "resourcetype")) {
        r->is_collection = first_child(p, NS_DAV, "collection") != NULL;
        r->is_calendar = first_child(p, NS_CALDAV, "calendar") != NULL;
    } else if (is_elem(p, NS_DAV, "getetag")) {
        replace(&r->etag, text_of(p, true));
    } else if (is_elem(p, NS_CALDAV, "calendar-data")) {
        replace(&r->calendar_data, text_of(p, false));
    } else if (is_elem(p, NS_DAV, "sync-token")) {
        replace(&r->sync_token, text_of(p, true));
    } else if (is_elem(p, NS_DAV, "current-user-principal")) {
        replace(&r->current_user_principal, href_inside(p));
    } else if (is_elem(p, NS_CALDAV, "calendar-home-set")) {
        replace(&r->calendar_home_set, href_inside(p));
    }
}

static void take_propstat(dav_response_t *r, const xmlNode *ps)
{
    xmlNode *st = first_child(ps, NS_DAV, "status");
    int code = st ? status_code(st) : 200;
    if (code < 200 || code > 299)
        return;
    xmlNode *prop = first_child(ps, NS_DAV, "prop");
    for (xmlNode *p = prop ? prop->children : NULL; p; p = p->next)
        if (p->type == XML_ELEMENT_NODE)
            take_prop(r, p);
}

static void take_response(dav_multistatus_t *ms, const xmlNode *rn)
{
    xmlNode *h = first_child(rn, NS_DAV, "href");
    if (!h)
        return;
    ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof *ms->v);
    dav_response_t *r = &ms->v[ms->n++];
    memset(r, 0, sizeof *r);
    r->href = text_of(h, true);
    xmlNode *st = first_child(rn, NS_DAV, "status");
    if (st)
        r->status = status_code(st);
    for (xmlNode *c = rn->children; c; c = c->next)
        if (is_elem(c, NS_DAV, "propstat"))
            take_propstat(r, c);
}

/* A DTD (and so any entity declaration) can only appear in the prolog,
 * before the root element.  Walk the prolog: XML declaration, processing
 * instructions, comments, whitespace.  Text after the root element starts
 * (e.g. an HTML "<!DOCTYPE html>" inside a CDATA calendar-data) is not a
 * DTD and is left alone. */
static char *refuse_doctype(const char *xml, size_t len)
{
    const char *p = xml, *end = xml + len;
    if (len >= 2 && ((unsigned char)p[0] == 0xFE || (unsigned char)p[0] == 0xFF || p[0] == 0 ||
                     p[1] == 0))
        return xstrdup("UTF-8 以外の XML は受け付けません (XML must be UTF-8)");
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        if (strchr(" \t\r\n", *p)) {
            p++;
        } else if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            const char *e = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
            p = e ? e + 3 : end;
        } else if (end - p >= 2 && memcmp(p, "<?", 2) == 0) {
            const char *e = memmem(p + 2, (size_t)(end - p - 2), "?>", 2);
            p = e ? e + 2 : end;
        } else if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) {
            const char *close = memchr(p, '>', (size_t)(end - p));
            const char *bracket = memchr(p, '[', (size_t)(end - p));
            if (memmem(p, (size_t)(end - p), "<!ENTITY", 8) ||
                (bracket && (!close || bracket < close)))
                return xstrdup("XML に実体宣言が含まれています。安全のため受け付けません "
                               "(XML with entity declarations refused)");
            return xstrdup("XML に DOCTYPE 宣言が含まれています。安全のため受け付けません "
                           "(XML with a DOCTYPE refused)");
        } else {
            break;                               /* the root element */
        }
    }
    return NULL;
}

static char *libxml_error(void)
{
    const xmlError *e = xmlGetLastError();
    if (!e || !e->message)
        return xstrdup("XML を解析できません (malformed XML)");
    char *m = xstrdup(e->message);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    char *out = xasprintf("XML を解析できません: %d 行目: %s (malformed XML)", e->line, m);
    free(m);
    return out;
}

int dav_parse_multistatus(const char *xml, size_t len, dav_multistatus_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    if (!xml || len == 0) {
        *err = xstrdup("応答が空です (empty XML response)");
        return -1;
    }
    if (len > INT32_MAX) {
        *err = xstrdup("XML が大きすぎます (XML too large)");
        return -1;
    }
    if ((*err = refuse_doctype(xml, len)) != NULL)
        return -1;
    xmlResetLastError();
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
               XML_PARSE_NOCDATA;
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "multistatus.xml", NULL, opts);
    if (!doc) {
        *err = libxml_error();
        return -1;
    }
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        *err = xstrdup("XML に実体宣言が含まれています。安全のため受け付けません "
                       "(XML with a DTD refused)");
        return -1;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_elem(root, NS_DAV, "multistatus")) {
        xmlFreeDoc(doc);
        *err = xstrdup("WebDAV の multistatus 応答ではありません (not a DAV:multistatus)");
        return -1;
    }
    for (xmlNode *c = root->children; c; c = c->next) {
        if (is_elem(c, NS_DAV, "response"))
            take_response(out, c);
        else if (is_elem(c, NS_DAV, "sync-token"))
            replace(&out->sync_token, text_of(c, true));
    }
    xmlFreeDoc(doc);
    return 0;
}

void dav_multistatus_free(dav_multistatus_t *ms)
{
    if (!ms)
        return;
    for (size_t i = 0; i < ms->n; i++) {
        dav_response_t *r = &ms->v[i];
        free(r->href);
        free(r->etag);
        free(r->calendar_data);
        free(r->sync_token);
        free(r->current_user_principal);
        free(r->calendar_home_set);
    }
    free(ms->v);
    free(ms->sync_token);
    memset(ms, 0, sizeof *ms);
}

char *dav_resolve_href(const char *base, const char *href)
{
    if (!base || !href)
        return NULL;
    CURLU *u = curl_url();
    char *res = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, href, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &res, 0) == CURLUE_OK)
        out = xstrdup(res);
    curl_free(res);
    curl_url_cleanup(u);
    return out;
}

void dav_utc_stamp(long long t, char buf[17])
{
    int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t sec = t - day * 86400;
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, 17, "%04d%02d%02dT%02d%02d%02dZ", y, m, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}
