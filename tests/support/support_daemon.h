/* SPDX-License-Identifier: MIT */
/*
 * support_daemon.h - one tsunagud under test, for integration tests: a
 * temp dir holding its database, config and log, a free loopback port,
 * the daemon spawned (optionally under a wrapper such as valgrind),
 * blocking HTTP requests against it, the fixture city as an import
 * document, and bin/tsunagu run as a child with its output captured.
 *
 * Adopting it (itest_mail.c and later itests do): keep a
 * support_daemon_t in the group state; support_daemon_init() in group
 * setup, then support_daemon_start() (config file) or
 * support_tsunagud_spawn() (a daemon configured by environment only);
 * support_api_import_city() for the fixture city;
 * support_daemon_http() / support_api_json() / support_api_error() for
 * requests; support_daemon_cli() for the client; support_daemon_free()
 * in teardown.
 *
 * Two layers.  The functions declared first (support_daemon.c) report
 * failure by return value and never abort: tests/support is also linked
 * into the benchmarks, which have no cmocka.  The static inline helpers
 * at the end fail the current cmocka test instead, and exist only in the
 * test files that include this header.
 */
#ifndef TSUNAGU_SUPPORT_DAEMON_H
#define TSUNAGU_SUPPORT_DAEMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support_proc.h"
#include "util.h"

/* The fixtures' "now" (tests/data/yamanami was computed for it). */
#define SUPPORT_FIXTURE_NOW "2026-12-01T09:00:00+09:00"

typedef struct support_daemon {
    char  *dir;               /* temp dir, removed by support_daemon_free */
    char  *db, *conf, *log;   /* dir/tsunagu.db, dir/tsunagud.conf, dir/tsunagud.log */
    int    port;              /* the daemon's TSUNAGU_LISTEN port */
    pid_t  pid;               /* -1 until started */
    long   http_timeout_s;    /* per request made through it (default 30) */
} support_daemon_t;

/* Global curl init, a fresh temp dir prefix-XXXXXX with the paths above
 * and a free port.  0 on success. */
int support_daemon_init(support_daemon_t *d, const char *prefix);

/* Spawn bin/tsunagud ARGS (NULL-terminated), prefixed by the words of
 * wrapper (NULL or "" for none; e.g. "valgrind -q --error-exitcode=99"),
 * with env added and output appended to log.  Returns the pid or -1. */
pid_t support_tsunagud_spawn(const char *wrapper, const char *const args[],
                             const char *const env[], const char *log);

/* Start `bin/tsunagud -c d->conf` with TSUNAGU_LISTEN/TSUNAGU_DATABASE
 * from d plus env (may be NULL), after removing TSUNAGU_ADMIN_TOKEN from
 * our environment.  Waits up to wait_ms for the port; on failure prints
 * the daemon's log to stderr and returns -1. */
int support_daemon_start(support_daemon_t *d, const char *wrapper, const char *const env[],
                         int wait_ms);

/* Stop the daemon if it still runs: its wait status, else -1. */
int support_daemon_stop(support_daemon_t *d, int timeout_ms);

/* Stop (5 s), remove the temp dir, free the paths, global curl cleanup. */
void support_daemon_free(support_daemon_t *d);

/* ---- HTTP ------------------------------------------------------------------ */
typedef struct support_resp {
    long     status;          /* 0 when the request failed */
    strbuf_t body;            /* caller frees with strbuf_free */
    char     ctype[128];      /* Content-Type value, "" when none */
} support_resp_t;

/* Blocking request.  auth: NULL for none, "Basic:PASSWORD" for basic auth
 * as user "calendar", else a bearer token.  A body is sent as JSON. */
support_resp_t support_http_request(const char *method, const char *url, const char *auth,
                                    const char *body, long timeout_s);

/* The same against http://127.0.0.1:<d->port><path>. */
support_resp_t support_daemon_http(const support_daemon_t *d, const char *method,
                                   const char *path, const char *auth, const char *body);

/* Only the status of such a request (the body is dropped). */
long support_daemon_status(const support_daemon_t *d, const char *method, const char *path,
                           const char *auth, const char *body);

/* CITY/agencies.json with every calendar url made absolute (against the
 * working directory); the calendar whose id is copy_id (may be NULL) is
 * first copied to copy_path, so a test can break it.  NULL on error. */
json_t *support_city_doc(const char *city, const char *copy_id, const char *copy_path);

/* ---- cmocka layer: these fail the current test ------------------------------ */

/* A request that must answer want with a JSON body; returns the body. */
static inline json_t *support_api_json(const support_daemon_t *d, const char *method,
                                       const char *path, const char *auth, const char *body,
                                       long want)
{
    support_resp_t r = support_daemon_http(d, method, path, auth, body);
    if (r.status != want)
        fail_msg("%s %s: HTTP %ld, wanted %ld: %s", method, path, r.status, want,
                 r.body.s ? r.body.s : "");
    json_t *j = r.body.s ? json_loads(r.body.s, 0, NULL) : NULL;
    if (!j)
        fail_msg("%s %s: not JSON: %s", method, path, r.body.s ? r.body.s : "");
    strbuf_free(&r.body);
    return j;
}

/* An error answer: HTTP status, {"error": code, "message": non-empty}
 * and, when needle is non-NULL, a message containing needle. */
static inline void support_api_error(const support_daemon_t *d, const char *method,
                                     const char *path, const char *auth, const char *body,
                                     long status, const char *code, const char *needle)
{
    json_t *j = support_api_json(d, method, path, auth, body, status);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    if (!e || strcmp(e, code) != 0)
        fail_msg("%s %s: error %s, wanted %s", method, path, e ? e : "(none)", code);
    if (!m || !*m || (needle && !strstr(m, needle)))
        fail_msg("%s %s: message lacks \"%s\": %s", method, path, needle ? needle : "",
                 m ? m : "(none)");
    json_decref(j);
}

/* POST a JSON document (e.g. an import); returns the answer. */
static inline json_t *support_api_post_doc(const support_daemon_t *d, const char *path,
                                           const char *auth, const json_t *doc, long want)
{
    char *body = json_dumps(doc, JSON_COMPACT);
    json_t *j = support_api_json(d, "POST", path, auth, body, want);
    free(body);
    return j;
}

/* true once GET /v1/feeds lists feeds and every one is "ok" (polled every
 * 100 ms for up to timeout_ms). */
static inline bool support_api_feeds_ok(const support_daemon_t *d, const char *auth,
                                        int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        json_t *j = support_api_json(d, "GET", "/v1/feeds", auth, NULL, 200);
        size_t i, ok = 0;
        json_t *f;
        json_array_foreach(json_object_get(j, "feeds"), i, f)
            if (strcmp(json_string_value(json_object_get(f, "state")), "ok") == 0)
                ok++;
        size_t n = json_array_size(json_object_get(j, "feeds"));
        json_decref(j);
        if (n && ok == n)
            return true;
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Import the fixture city (support_city_doc) and wait until every feed
 * is ok (up to 30 s). */
static inline void support_api_import_city(const support_daemon_t *d, const char *auth,
                                           const char *city, const char *copy_id,
                                           const char *copy_path)
{
    json_t *doc = support_city_doc(city, copy_id, copy_path);
    assert_non_null(doc);
    json_decref(support_api_post_doc(d, "/v1/import", auth, doc, 200));
    json_decref(doc);
    assert_true(support_api_feeds_ok(d, auth, 30000));
}

/* POST /v1/tokens {role, label}: a new token (malloc'd) of that role,
 * at least 32 characters; its id in *id when id is non-NULL. */
static inline char *support_api_token(const support_daemon_t *d, const char *auth,
                                      const char *role, const char *label, long long *id)
{
    json_t *req = json_pack("{s:s, s:s}", "role", role, "label", label);
    json_t *j = support_api_post_doc(d, "/v1/tokens", auth, req, 201);
    json_decref(req);
    const char *t = json_string_value(json_object_get(j, "token"));
    assert_non_null(t);
    assert_true(strlen(t) >= 32);
    assert_string_equal(json_string_value(json_object_get(j, "role")), role);
    if (id)
        *id = json_integer_value(json_object_get(j, "id"));
    char *tok = xstrdup(t);
    json_decref(j);
    return tok;
}

/* ---- running programs ---------------------------------------------------- */
typedef struct support_run {
    int   code;               /* exit status, -1 if killed by a signal */
    char *out;                /* stdout + stderr, malloc'd */
} support_run_t;

/* Run argv (argv[0] looked up like support_spawn) with env added, its
 * output captured in out_path (truncated first); waits for it. */
static inline support_run_t support_run(const char *const argv[], const char *const env[],
                                        const char *out_path)
{
    unlink(out_path);
    pid_t pid = support_spawn(argv, env, NULL, out_path);
    assert_true(pid > 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    support_run_t r = { WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                        support_read_log(out_path) };
    return r;
}

/* bin/tsunagu ARGS with TSUNAGU_URL=url (NULL: this daemon),
 * TSUNAGU_TOKEN=token and, when now is non-NULL, TSUNAGU_NOW=now; the
 * output is captured in d->dir/cli.out. */
static inline support_run_t support_daemon_cli(const support_daemon_t *d, const char *url,
                                               const char *token, const char *now,
                                               const char *const args[])
{
    char *u = url ? xasprintf("TSUNAGU_URL=%s", url)
                  : xasprintf("TSUNAGU_URL=http://127.0.0.1:%d", d->port);
    char *t = xasprintf("TSUNAGU_TOKEN=%s", token);
    char *n = now ? xasprintf("TSUNAGU_NOW=%s", now) : NULL;
    const char *env[] = { u, t, n, NULL };
    size_t argc = 0;
    while (args[argc])
        argc++;
    const char **argv = xcalloc(argc + 2, sizeof *argv);
    argv[0] = "bin/tsunagu";
    memcpy(argv + 1, args, argc * sizeof *argv);
    char *out = support_path(d->dir, "cli.out");
    support_run_t r = support_run(argv, env, out);
    free(out);
    free(argv);
    free(n);
    free(t);
    free(u);
    return r;
}

#endif
