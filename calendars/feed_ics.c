/* SPDX-License-Identifier: MIT */
/*
 * feed_ics.c - the "ics" feed kind: one iCalendar document fetched over
 * http(s) or read from a local file (file:// URL or absolute path).
 *
 * HTTP: a conditional GET.  The state JSON remembers the ETag and
 * Last-Modified of the last good fetch together with the window it was
 * expanded for; when the window still matches, If-None-Match /
 * If-Modified-Since are sent and a 304 ends the job FEED_UNCHANGED.
 * Local files: read synchronously from a deferred loop callback (files
 * are local and bounded by the size limit, which is checked with fstat
 * before reading), with mtime+size playing the role of the ETag.
 *
 * feed_freebusy.c reuses all of this through feed_ics_start(job, true),
 * which additionally insists on a VFREEBUSY component.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed_backend.h"

typedef struct ics_priv {
    bool    want_freebusy;
    json_t *state;      /* parsed request state, or NULL */
} ics_priv_t;

static ics_priv_t *priv_of(feed_job_t *job)
{
    return job->priv;
}

static const char *state_str(const ics_priv_t *p, const char *key)
{
    return p->state ? json_string_value(json_object_get(p->state, key)) : NULL;
}

/* The saved state is usable for a conditional request only when it was
 * computed for (about) the same window. */
static bool state_usable(feed_job_t *job)
{
    ics_priv_t *p = priv_of(job);
    if (!p->state)
        return false;
    json_t *f = json_object_get(p->state, "from"), *t = json_object_get(p->state, "to");
    return json_is_integer(f) && json_is_integer(t) &&
           feed_window_matches(job, json_integer_value(f), json_integer_value(t));
}

/* Validators of the document just fetched; the state is written only
 * after it parsed, so it can carry the parse warnings too. */
typedef struct validators {
    const char *etag, *last_modified, *file_stamp;
} validators_t;

static char *state_dump(feed_job_t *job, const validators_t *v)
{
    json_t *o = json_object();
    if (v->etag)
        json_object_set_new(o, "etag", json_string(v->etag));
    if (v->last_modified)
        json_object_set_new(o, "last_modified", json_string(v->last_modified));
    if (v->file_stamp)
        json_object_set_new(o, "file_stamp", json_string(v->file_stamp));
    json_object_set_new(o, "from", json_integer(job->req.window_from));
    json_object_set_new(o, "to", json_integer(job->req.window_to));
    if (job->res.warnings.n) {
        json_t *w = json_array();
        for (size_t i = 0; i < job->res.warnings.n; i++)
            json_array_append_new(w, json_string(job->res.warnings.v[i]));
        json_object_set_new(o, "warnings", w);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* Nothing changed: keep the state, and repeat the warnings it recorded
 * (the problem they describe is still there). */
static void finish_unchanged(feed_job_t *job)
{
    json_t *w = json_object_get(priv_of(job)->state, "warnings");
    size_t i;
    json_t *it;
    json_array_foreach(w, i, it)
        if (json_is_string(it))
            strvec_push(&job->res.warnings, json_string_value(it));
    feed_job_finish_unchanged(job, xstrdup(job->state_json));
}

/* The validators, copied for the parse that runs off the loop. */
typedef struct validators_copy {
    char *etag, *last_modified, *file_stamp;
} validators_copy_t;

static void validators_copy_free(void *arg)
{
    validators_copy_t *c = arg;
    free(c->etag);
    free(c->last_modified);
    free(c->file_stamp);
    free(c);
}

static void after_parse(feed_job_t *job, int rc, char *err, void *arg)
{
    validators_copy_t *c = arg;
    validators_t v = { c->etag, c->last_modified, c->file_stamp };
    if (rc != 0)
        feed_job_fail(job, 0, "%s", err);
    else
        feed_job_finish_ok(job, state_dump(job, &v));
    free(err);
    validators_copy_free(c);
}

/* Parse a fetched document (on the parse pool when there is one) and end
 * the job. */
static void finish_with_document(feed_job_t *job, const char *data, size_t len,
                                 const validators_t *v)
{
    if (priv_of(job)->want_freebusy && !memmem(data, len, "BEGIN:VFREEBUSY", 15)) {
        feed_job_fail(job, 0, "VFREEBUSY が見つかりません。free/busy フィードではありません "
                              "(no VFREEBUSY component)");
        return;
    }
    validators_copy_t *c = xcalloc(1, sizeof *c);
    c->etag = xstrdup(v->etag);
    c->last_modified = xstrdup(v->last_modified);
    c->file_stamp = xstrdup(v->file_stamp);
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    feed_parse_document_async(job, copy, len, after_parse, c, validators_copy_free);
}

/* ---- over HTTP ---------------------------------------------------------- */

static void on_ics_response(feed_job_t *job, feed_http_resp_t *resp)
{
    job->res.http_status = resp->status;
    char *err = feed_http_error(job, resp, NULL);
    if (err) {
        feed_job_fail(job, resp->status, "%s", err);
        free(err);
        return;
    }
    if (resp->status == 304) {
        finish_unchanged(job);
        return;
    }
    validators_t v = { .etag = resp->etag, .last_modified = resp->last_modified };
    feed_set_body_charset(job, resp->content_type);
    finish_with_document(job, resp->body.s, resp->body.len, &v);
}

static int start_http(feed_job_t *job)
{
    ics_priv_t *p = priv_of(job);
    bool cond = state_usable(job);
    feed_http_req_t req = {
        .url = job->url,
        .if_none_match = cond ? state_str(p, "etag") : NULL,
        .if_modified_since = cond ? state_str(p, "last_modified") : NULL,
    };
    return feed_http_start(job, &req, on_ics_response);
}

/* ---- local file ---------------------------------------------------------- */

/* file:///a/b%20c -> "/a/b c"; absolute paths pass through.  NULL when
 * the URL is not a local one at all; "" when it is a file: URL that does
 * not name an absolute path (or decodes to a NUL byte). */
char *feed_local_path(const char *url)
{
    if (url[0] == '/')
        return xstrdup(url);
    if (strncasecmp(url, "file://", 7) != 0)
        return NULL;
    const char *p = url + 7;
    if (strncasecmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return xstrdup("");
    int n = 0;
    char *dec = curl_easy_unescape(NULL, p, 0, &n);
    char *out = dec && !memchr(dec, '\0', (size_t)n) ? xstrndup(dec, (size_t)n) : xstrdup("");
    curl_free(dec);
    return out;
}

static char *read_bounded(feed_job_t *job, const char *path, size_t *len,
                          struct stat *st, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *err = xasprintf("ファイルを開けません: %s: %s (cannot open file)", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        *err = xasprintf("通常のファイルではありません: %s (not a regular file)", path);
        return NULL;
    }
    if ((size_t)st->st_size > job->req.max_body) {
        close(fd);
        *err = xasprintf("ファイルが大きすぎます（上限 %zu バイト）(file over the size limit)",
                         job->req.max_body);
        return NULL;
    }
    size_t cap = (size_t)st->st_size + 1, got = 0;
    char *buf = xmalloc(cap + 1);
    ssize_t r;
    while (got < cap && (r = read(fd, buf + got, cap - got)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got > (size_t)st->st_size) {        /* grew while we read it */
        free(buf);
        *err = xasprintf("読み込み中にファイルが変更されました: %s (file changed while reading)", path);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void on_local_file_due(feed_job_t *job)
{
    char *path = feed_local_path(job->url), *err = NULL;
    struct stat st;
    size_t len = 0;
    char *data = path && *path ? read_bounded(job, path, &len, &st, &err) : NULL;
    free(path);
    if (!data) {
        feed_job_fail(job, 0, "%s", err ? err : "ファイル URL が不正です (bad file URL)");
        free(err);
        return;
    }
    char stamp[64];
    snprintf(stamp, sizeof stamp, "%lld.%09ld/%lld", (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec, (long long)st.st_size);
    const char *old = state_str(priv_of(job), "file_stamp");
    if (state_usable(job) && old && strcmp(old, stamp) == 0) {
        free(data);
        finish_unchanged(job);
        return;
    }
    validators_t v = { .file_stamp = stamp };
    finish_with_document(job, data, len, &v);
    free(data);
}

/* ---- backend ----------------------------------------------------------- */

int feed_ics_start(feed_job_t *job, bool want_freebusy)
{
    ics_priv_t *p = xcalloc(1, sizeof *p);
    p->want_freebusy = want_freebusy;
    if (job->state_json) {
        json_error_t jerr;
        p->state = json_loads(job->state_json, 0, &jerr);
        if (p->state && !json_is_object(p->state)) {
            json_decref(p->state);
            p->state = NULL;
        }
    }
    job->priv = p;
    if (strncasecmp(job->url, "http://", 7) == 0 || strncasecmp(job->url, "https://", 8) == 0)
        return start_http(job);
    if (job->url[0] == '/' || strncasecmp(job->url, "file://", 7) == 0) {
        feed_job_defer(job, on_local_file_due);
        return 0;
    }
    feed_job_fail(job, 0, "対応していない URL です。http(s)://、file:// または絶対パスを指定してください "
                          "(unsupported URL)");
    return -1;
}

static int ics_start(feed_job_t *job)
{
    return feed_ics_start(job, false);
}

void feed_ics_cleanup(feed_job_t *job)
{
    ics_priv_t *p = priv_of(job);
    json_decref(p->state);
}

const feed_backend_t feed_backend_ics = {
    .kind = FEED_ICS,
    .name = "ics",
    .start = ics_start,
    .cleanup = feed_ics_cleanup,
};
