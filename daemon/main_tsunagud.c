/* SPDX-License-Identifier: MIT */
/*
 * main_tsunagud.c - the tsunagud daemon: config, store, loop, signals.
 *
 * Startup: read the config (-c FILE, TSUNAGU_<KEY> overrides), set the
 * clock override (NOW), open and migrate the store, create the event
 * base, the shared curlev_t, the feed scheduler and the HTTP API, then
 * run the libevent loop.  Signals are libevent events, so handlers run
 * in the loop like everything else:
 *   SIGTERM/SIGINT  stop polling, refuse new API work (503), wait up to
 *                   DRAIN_SECONDS for fetches, deferred requests and holds
 *                   to finish, then exit 0.
 *   SIGHUP          re-read the config file, re-apply tunables and run
 *                   the reload hooks (rules etc.).  LISTEN and DATABASE
 *                   need a restart and say so.
 * SQLite's automatic WAL checkpoint is off; a thread checkpoints every
 * CHECKPOINT_PAGES WAL pages and every CHECKPOINT_INTERVAL seconds, and
 * the exit truncates the WAL.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "accounts.h"
#include "api.h"
#include "api_conns.h"
#include "city_import.h"
#include "config.h"
#include "curlev.h"
#include "daemon.h"
#include "feed.h"
#include "feeds.h"
#include "log.h"
#include "parse_pool.h"
#include "store.h"
#include "store_ckpt.h"
#include "store_users.h"
#include "timeutil.h"
#include "ui.h"
#include "util.h"

/* request line plus headers; a bearer token or Basic credentials are a
 * few hundred bytes, so 64 KiB leaves ample room for proxies' headers */
#define MAX_HEADERS_BYTES (64 * 1024)

static struct event *drain_timer, *checkpoint_timer;
static struct timespec drain_deadline;

static void usage(FILE *out)
{
    fprintf(out, "使い方 (usage): tsunagud [-c FILE]\n\n"
                 "設定キー (each also settable as env TSUNAGU_<KEY>):\n");
    for (const config_key_t *k = config_keys; k->key; k++)
        fprintf(out, "  %-24s %s%s%s%s\n", k->key, k->help, k->def ? " [" : "",
                k->def ? k->def : "", k->def ? "]" : "");
}

static bool apply_clock(const config_t *c, char *err, size_t errlen)
{
    const char *now = config_get(c, "NOW");
    if (!now || !*now) {
        tu_clear_now_override();
        return true;
    }
    int64_t t;
    if (!tu_parse_iso8601(now, NULL, &t)) {
        snprintf(err, errlen, "NOW: ISO-8601 の日時ではありません: %s (bad clock override)", now);
        return false;
    }
    tu_set_now_override(t);
    log_info("clock override: NOW = %s", now);
    return true;
}

static void apply_log_level(const config_t *c)
{
    const char *l = config_get(c, "LOG_LEVEL");
    if (!l)
        return;
    if (strcmp(l, "debug") == 0)
        log_set_level(LOG_DEBUG);
    else if (strcmp(l, "warn") == 0)
        log_set_level(LOG_WARN);
    else if (strcmp(l, "error") == 0)
        log_set_level(LOG_ERROR);
    else
        log_set_level(LOG_INFO);
}

/* ---- WAL checkpoints ------------------------------------------------------ */
/* SQLite's automatic checkpoint would run (with its fsync) inside whichever
 * commit crosses 1000 WAL pages, e.g. a feed's on the loop; instead a
 * checkpointer thread (store_ckpt.h) runs a PASSIVE checkpoint every
 * CHECKPOINT_PAGES WAL pages and, from this timer, every
 * CHECKPOINT_INTERVAL seconds; the shutdown truncates the WAL. */
static store_ckpt_t *checkpointer;
static parse_pool_t *parse_pool;      /* ics parsing off the loop */

static void on_checkpoint_tick(evutil_socket_t fd, short what, void *arg)
{
    store_ckpt_kick(checkpointer);
}

static void stop_checkpointer(void)
{
    store_ckpt_stop(checkpointer);
    checkpointer = NULL;
}

static void apply_checkpoint_interval(tsunagud_t *d)
{
    long secs = config_num(d->config, "CHECKPOINT_INTERVAL", NULL);
    int pages = (int)config_num(d->config, "CHECKPOINT_PAGES", NULL);
    if (checkpoint_timer)
        event_del(checkpoint_timer);
    if (secs <= 0) {
        stop_checkpointer();
        store_set_autocheckpoint(d->store, 1000);        /* SQLite's default */
        return;
    }
    store_set_autocheckpoint(d->store, 0);
    char err[512];
    if (!checkpointer && !(checkpointer = store_ckpt_start(d->store, pages, err, sizeof err)) && *err)
        log_error("store: %s (checkpoints from the timer only)", err);
    store_ckpt_set_pages(checkpointer, pages);
    if (!checkpoint_timer)
        checkpoint_timer = event_new(d->base, -1, EV_PERSIST, on_checkpoint_tick, d);
    struct timeval tv = {secs, 0};
    event_add(checkpoint_timer, &tv);
}

/* ---- SIGHUP -------------------------------------------------------------- */
static void reload(tsunagud_t *d)
{
    char err[1024];
    config_t *nc = config_load(d->config_path, err, sizeof err);
    if (!nc) {
        log_error("reload: %s (keeping the old config)", err);
        return;
    }
    if (!apply_clock(nc, err, sizeof err) ||
        !config_check_secrets(nc, d->config_path, err, sizeof err)) {
        log_error("reload: %s (keeping the old config)", err);
        config_free(nc);
        return;
    }
    const char *old_listen = config_get(d->config, "LISTEN");
    if (strcmp(old_listen, config_get(nc, "LISTEN")) != 0)
        log_warn("reload: LISTEN の変更は tsunagud を起動し直すまで反映されません "
                 "(LISTEN changed; restart tsunagud to apply it)");
    const char *old_db = config_get(d->config, "DATABASE");
    if (strcmp(old_db, config_get(nc, "DATABASE")) != 0)
        log_warn("reload: DATABASE の変更は tsunagud を起動し直すまで反映されません "
                 "(DATABASE changed; restart tsunagud to apply it)");
    config_free(d->config);
    d->config = nc;
    apply_log_level(nc);
    apply_checkpoint_interval(d);
    if (!store_set_file_feeds_dir(d->store, config_get(nc, "FILE_FEEDS_DIR"), err, sizeof err))
        log_error("reload: %s (keeping the old FILE_FEEDS_DIR)", err);
    feeds_reconfigure(d->feeds);
    bool partial = false;
    if (feeds_load_secrets(d->feeds, err, sizeof err) != 0) {
        log_error("reload: %s (keeping the old credentials)", err);
        partial = true;
    }
    if (tsunagud_run_reload_hooks(d) != 0)
        partial = true;
    if (partial)
        log_warn("reload: 設定を読み直しましたが、上のエラーの部分は前のままです "
                 "(configuration reloaded%s%s, except what the error above names)",
                 d->config_path ? " from " : "", d->config_path ? d->config_path : "");
    else
        log_info("reload: configuration reloaded%s%s", d->config_path ? " from " : "",
                 d->config_path ? d->config_path : "");
}

/* ---- SIGTERM ------------------------------------------------------------- */
/* Feed jobs (a CalDAV job spans several transfers), other transfers on the
 * shared curlev (e.g. SMTP), deferred API requests and explicit holds. */
static int work_left(tsunagud_t *d)
{
    int jobs = feeds_in_flight(d->feeds), transfers = curlev_in_flight(d->curlev);
    return (transfers > jobs ? transfers : jobs) + api_in_flight(d->api) + d->holds;
}

static bool past_deadline(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > drain_deadline.tv_sec ||
           (now.tv_sec == drain_deadline.tv_sec && now.tv_nsec >= drain_deadline.tv_nsec);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    tsunagud_t *d = arg;
    int left = work_left(d);
    if (left == 0 || past_deadline()) {
        if (left)
            log_warn("shutdown: DRAIN_SECONDS を過ぎても %d 件の処理が終わらないため打ち切ります "
                     "(%d task(s) still running after DRAIN_SECONDS; abandoning them)",
                     left, left);
        event_base_loopexit(d->base, NULL);
        return;
    }
    struct timeval tv = {0, 50000};
    evtimer_add(drain_timer, &tv);
}

static void begin_shutdown(tsunagud_t *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = true;
    long secs = config_num(d->config, "DRAIN_SECONDS", NULL);
    log_info("shutdown: %s; draining %d task(s) (up to %ld s)", why, work_left(d), secs);
    tsunagud_run_shutdown_hooks(d);
    feeds_stop(d->feeds);
    clock_gettime(CLOCK_MONOTONIC, &drain_deadline);
    drain_deadline.tv_sec += secs;
    drain_timer = evtimer_new(d->base, on_drain_tick, d);
    on_drain_tick(-1, 0, d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    tsunagud_t *d = arg;
    if (sig == SIGHUP)
        reload(d);
    else
        begin_shutdown(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- startup ------------------------------------------------------------- */
static struct evhttp_bound_socket *listen_socket;
static api_conns_t *conn_guard;

/* MAX_CONNECTIONS, kept below the descriptor limit (minus a reserve for
 * the database, feeds and mail), so the cap bites before EMFILE does. */
static long max_connections(const config_t *c)
{
    long want = config_num(c, "MAX_CONNECTIONS", NULL);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        want > (long)rl.rlim_cur - 64) {
        long fit = (long)rl.rlim_cur - 64 > 16 ? (long)rl.rlim_cur - 64 : 16;
        log_warn("MAX_CONNECTIONS %ld はファイル記述子の上限 %ld に収まらないため %ld にします "
                 "(MAX_CONNECTIONS %ld does not fit the descriptor limit %ld; using %ld)",
                 want, (long)rl.rlim_cur, fit, want, (long)rl.rlim_cur, fit);
        want = fit;
    }
    return want;
}

static bool guard_connections(tsunagud_t *d)
{
    api_conns_cfg_t cfg = {
        .max_connections = max_connections(d->config),
        .head_timeout_s = config_num(d->config, "HEAD_TIMEOUT", NULL),
        .max_body = (size_t)config_size(d->config, "MAX_BODY_BYTES", 8LL * 1024 * 1024),
        .min_rate = API_CONNS_MIN_RATE,
    };
    conn_guard = api_conns_attach(d->base, d->http, listen_socket, d->api, &cfg);
    if (conn_guard)
        log_info("http: at most %ld connections, request head within %ld s",
                 cfg.max_connections, cfg.head_timeout_s);
    return conn_guard != NULL;
}

static bool listen_on(tsunagud_t *d, char *err, size_t errlen)
{
    const char *spec = config_get(d->config, "LISTEN");
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "LISTEN: 「アドレス:ポート」の形式にしてください: %s (expected host:port)",
                 spec);
        return false;
    }
    char *host = xstrndup(spec, (size_t)(colon - spec));
    if (host[0] == '[') {                       /* [::1]:8080 */
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
    }
    int port = atoi(colon + 1);
    errno = 0;
    struct evhttp_bound_socket *bs = listen_socket = port > 0 && port < 65536
        ? evhttp_bind_socket_with_handle(d->http, *host ? host : "0.0.0.0", (uint16_t)port) : NULL;
    bool ok = bs != NULL;
    socklen_t alen = sizeof d->listen_addr;
    if (ok && getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&d->listen_addr,
                          &alen) == 0)
        d->has_listen_addr = true;          /* feeds never fetch from here */
    if (!ok)
        snprintf(err, errlen, "LISTEN %s: 待ち受けできません (cannot listen)%s%s", spec,
                 errno ? ": " : "", errno ? strerror(errno) : "");
    else
        log_info("tsunagud listening on http://%s:%d", *host ? host : "0.0.0.0", port);
    free(host);
    return ok;
}

/* The loop: EVPRI_COUNT priority queues (API before background work,
 * curlev.h), and back to polling after 32 callbacks or 5 ms of
 * background work, so a backlog of due feeds does not hold a request. */
static struct event_base *new_base(void)
{
    struct event_config *cfg = event_config_new();
    struct timeval slice = {0, 5000};
    event_config_set_max_dispatch_interval(cfg, &slice, 32, 1);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base)
        event_base_priority_init(base, EVPRI_COUNT);
    return base;
}

static bool start(tsunagud_t *d, char *err, size_t errlen)
{
    if (!apply_clock(d->config, err, errlen) ||
        !config_check_secrets(d->config, d->config_path, err, errlen))
        return false;
    apply_log_level(d->config);
    static int db_lock = -1;                /* held for the life of the process */
    if (!store_lock_database(config_get(d->config, "DATABASE"), &db_lock, err, errlen))
        return false;
    d->store = store_open(config_get(d->config, "DATABASE"), err, errlen);
    if (!d->store || !store_set_file_feeds_dir(d->store, config_get(d->config, "FILE_FEEDS_DIR"),
                                               err, errlen))
        return false;
    const char *admin_token = config_get(d->config, "ADMIN_TOKEN");
    if ((!admin_token || !*admin_token) && !store_admin_exists(d->store))
        log_warn("管理者がいません。ADMIN_TOKEN を設定して起動し直し、tsunagu user add NAME --role admin で"
                 "最初の管理者を作ってください (no admin account or token and no ADMIN_TOKEN: nobody can sign in)");
    if (store_file_feeds_dir(d->store))
        log_info("local calendar files only under %s", store_file_feeds_dir(d->store));
    d->base = new_base();
    d->curlev = curlev_new(d->base);
    if (!d->base || !d->curlev) {
        snprintf(err, errlen, "cannot create the event loop");
        return false;
    }
    apply_checkpoint_interval(d);
    parse_pool = parse_pool_new(d->base, (int)config_num(d->config, "PARSE_WORKERS", NULL), err, errlen);
    if (!parse_pool)
        return false;
    feed_set_parse_pool(parse_pool);
    log_info("feeds: iCalendar parsing on %d worker thread(s)", parse_pool_size(parse_pool));
    d->feeds = feeds_new(d);
    if (feeds_load_secrets(d->feeds, err, errlen) != 0)
        return false;
    d->http = evhttp_new(d->base);
    evhttp_set_max_body_size(d->http, (ev_ssize_t)config_size(d->config, "MAX_BODY_BYTES",
                                                               8LL * 1024 * 1024));
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
    /* libevent's default is unlimited: without this a client could stream
     * an endless request line or header block into memory */
    evhttp_set_max_headers_size(d->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(d->http, 30);
    d->api = api_new(d, d->http);
    ui_register(d->api);                 /* the web UI at / */
    if (!listen_on(d, err, errlen))
        return false;
    if (!guard_connections(d)) {
        snprintf(err, errlen, "cannot guard HTTP connections");
        return false;
    }
    feeds_load(d->feeds);             /* in steps, from the loop */
    tsunagud_city_warm(d);            /* the city parsed on a worker, not at the first use */
    return true;
}

static void stop(tsunagud_t *d)
{
    feeds_free(d->feeds);
    d->feeds = NULL;                  /* an import finishing below must not resync it */
    feed_set_parse_pool(NULL);
    parse_pool_free(parse_pool);      /* runs the last parses' completions */
    city_import_stop();               /* one still writing (or just handed over) ends here */
    if (drain_timer)
        event_free(drain_timer);
    api_conns_detach(conn_guard);
    if (d->http)
        evhttp_free(d->http);
    api_conns_free(conn_guard);
    api_free(d->api);
    accounts_shutdown();
    curlev_free(d->curlev);
    if (checkpoint_timer)
        event_free(checkpoint_timer);
    stop_checkpointer();
    tsunagud_city_changed(d);
    if (d->store && store_checkpoint(d->store, true, NULL, NULL) == 0)
        log_info("store: WAL checkpointed and truncated");
    store_close(d->store);
    if (d->base)
        event_base_free(d->base);
    config_free(d->config);
}

int main(int argc, char **argv)
{
    tsunagud_t d;
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            d.config_path = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    char err[1024];
    d.config = config_check_env(err, sizeof err) ? config_load(d.config_path, err, sizeof err)
                                                  : NULL;
    if (!d.config) {
        log_error("%s", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tsunagud_set_current(&d);
    int rc = 0;
    if (!start(&d, err, sizeof err)) {
        log_error("%s", err);
        rc = 1;
    } else {
        struct event *sterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
        struct event *sint = evsignal_new(d.base, SIGINT, on_signal, &d);
        struct event *shup = evsignal_new(d.base, SIGHUP, on_signal, &d);
        evsignal_add(sterm, NULL);
        evsignal_add(sint, NULL);
        evsignal_add(shup, NULL);
        event_base_dispatch(d.base);
        /* a second SIGTERM must not kill the final checkpoint in stop() */
        sigset_t quiet;
        sigemptyset(&quiet);
        sigaddset(&quiet, SIGTERM);
        sigaddset(&quiet, SIGINT);
        sigprocmask(SIG_BLOCK, &quiet, NULL);
        event_free(sterm);
        event_free(sint);
        event_free(shup);
        log_info("tsunagud stopped");
    }
    stop(&d);
    tsunagud_set_current(NULL);
    curl_global_cleanup();
    return rc;
}
