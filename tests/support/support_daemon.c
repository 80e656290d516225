/* SPDX-License-Identifier: MIT */
/*
 * support_daemon.c - the non-aborting half of support_daemon.h: a
 * tsunagud in a temp dir on a free port, blocking HTTP against it, and
 * the fixture city as an import document.
 *
 * The daemon is spawned with support_spawn (own process group, output to
 * its log, killed with the test); a wrapper command such as valgrind is
 * split on spaces and put in front of bin/tsunagud.  HTTP uses a
 * blocking curl_easy_perform, which is fine in test code (never in the
 * daemon).  Nothing here calls cmocka: this file is linked into the
 * benchmarks too.
 */
#include "support_daemon.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

int support_daemon_init(support_daemon_t *d, const char *prefix)
{
    memset(d, 0, sizeof *d);
    d->pid = -1;
    d->http_timeout_s = 30;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    d->dir = support_mkdtemp(prefix);
    if (!d->dir)
        return -1;
    d->db = support_path(d->dir, "tsunagu.db");
    d->conf = support_path(d->dir, "tsunagud.conf");
    d->log = support_path(d->dir, "tsunagud.log");
    d->port = support_free_port();
    return d->port > 0 ? 0 : -1;
}

pid_t support_tsunagud_spawn(const char *wrapper, const char *const args[],
                             const char *const env[], const char *log)
{
    char *words = xstrdup(wrapper ? wrapper : "");
    strvec_t argv;
    strvec_init(&argv);
    for (char *save = NULL, *t = strtok_r(words, " ", &save); t; t = strtok_r(NULL, " ", &save))
        strvec_push(&argv, t);
    strvec_push(&argv, "bin/tsunagud");
    for (size_t i = 0; args && args[i]; i++)
        strvec_push(&argv, args[i]);
    strvec_push(&argv, NULL);
    pid_t pid = support_spawn((const char *const *)argv.v, env, NULL, log);
    strvec_free(&argv);
    free(words);
    return pid;
}

int support_daemon_start(support_daemon_t *d, const char *wrapper, const char *const env[],
                         int wait_ms)
{
    char *listen = xasprintf("TSUNAGU_LISTEN=127.0.0.1:%d", d->port);
    char *db = xasprintf("TSUNAGU_DATABASE=%s", d->db);
    strvec_t all;
    strvec_init(&all);
    strvec_push(&all, listen);
    strvec_push(&all, db);
    for (size_t i = 0; env && env[i]; i++)
        strvec_push(&all, env[i]);
    strvec_push(&all, NULL);
    unsetenv("TSUNAGU_ADMIN_TOKEN");
    const char *args[] = { "-c", d->conf, NULL };
    d->pid = support_tsunagud_spawn(wrapper, args, (const char *const *)all.v, d->log);
    strvec_free(&all);
    free(db);
    free(listen);
    if (d->pid < 0 || !support_wait_port(d->port, wait_ms, d->pid)) {
        support_print_log("tsunagud did not start:", d->log);
        return -1;
    }
    return 0;
}

int support_daemon_stop(support_daemon_t *d, int timeout_ms)
{
    int status = -1;
    if (d->pid > 0 && support_alive(d->pid))
        status = support_stop(d->pid, timeout_ms);
    return status;
}

void support_daemon_free(support_daemon_t *d)
{
    support_daemon_stop(d, 5000);
    if (d->dir)
        support_rmtree(d->dir);
    free(d->dir);
    free(d->db);
    free(d->conf);
    free(d->log);
    memset(d, 0, sizeof *d);
    d->pid = -1;
    curl_global_cleanup();
}

/* ---- HTTP ------------------------------------------------------------------ */

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    strbuf_add(&((support_resp_t *)arg)->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    support_resp_t *r = arg;
    if (strncasecmp(p, "Content-Type:", 13) == 0) {
        snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)(sz * n - 13), p + 13);
        char *e = r->ctype + strlen(r->ctype);
        while (e > r->ctype && (e[-1] == '\r' || e[-1] == '\n'))
            *--e = '\0';
    }
    return sz * n;
}

support_resp_t support_http_request(const char *method, const char *url, const char *auth,
                                    const char *body, long timeout_s)
{
    support_resp_t r;
    memset(&r, 0, sizeof r);
    strbuf_init(&r.body);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *bearer = NULL;
    if (auth && strncmp(auth, "Basic:", 6) == 0) {
        curl_easy_setopt(c, CURLOPT_USERNAME, "calendar");
        curl_easy_setopt(c, CURLOPT_PASSWORD, auth + 6);
    } else if (auth) {
        bearer = xasprintf("Authorization: Bearer %s", auth);
        h = curl_slist_append(h, bearer);
    }
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(bearer);
    return r;
}

support_resp_t support_daemon_http(const support_daemon_t *d, const char *method,
                                   const char *path, const char *auth, const char *body)
{
    char *url = xasprintf("http://127.0.0.1:%d%s", d->port, path);
    support_resp_t r = support_http_request(method, url, auth, body,
                                            d->http_timeout_s > 0 ? d->http_timeout_s : 30);
    free(url);
    return r;
}

long support_daemon_status(const support_daemon_t *d, const char *method, const char *path,
                           const char *auth, const char *body)
{
    support_resp_t r = support_daemon_http(d, method, path, auth, body);
    strbuf_free(&r.body);
    return r.status;
}

/* ---- the fixture city ------------------------------------------------------ */

/* Copy the file at path to copy_path; true on success. */
static bool copy_file(const char *path, const char *copy_path)
{
    char *text = read_file(path, NULL);
    bool ok = text && support_write_file(copy_path, text, (size_t)-1) == 0;
    free(text);
    return ok;
}

json_t *support_city_doc(const char *city, const char *copy_id, const char *copy_path)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    char *path = xasprintf("%s/agencies.json", city);
    json_t *doc = json_load_file(path, 0, NULL);
    free(path);
    if (!doc)
        return NULL;
    bool ok = true;
    size_t i, k;
    json_t *a, *c;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        json_array_foreach(json_object_get(a, "calendars"), k, c) {
            const char *url = json_string_value(json_object_get(c, "url"));
            const char *id = json_string_value(json_object_get(c, "id"));
            char *abs = xasprintf("%s/%s/%s", cwd, city, url ? url : "");
            if (copy_id && id && strcmp(id, copy_id) == 0) {
                ok = ok && copy_file(abs, copy_path);
                free(abs);
                abs = xstrdup(copy_path);
            }
            json_object_set_new(c, "url", json_string(abs));
            free(abs);
        }
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
