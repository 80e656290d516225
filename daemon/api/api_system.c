/*
 * api_system.c - /healthz (public), /metrics (Prometheus text) and
 * /v1/routes (admin: the route table with each route's roles and data
 * class, which the consent test walks).
 *
 * /healthz answers from memory and one trivial query so it stays fast
 * while feeds are being fetched (the loop-responsiveness benchmark hits
 * it).  /metrics counts feed states, fetch latency (histogram in seconds)
 * and stored intervals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feeds.h"
#include "util.h"

static void h_healthz(api_req_t *r)
{
    api_reply_json(r, 200, json_pack("{s:s, s:b}", "status", r->d->stopping ? "stopping" : "ok",
                                     "city_imported", tsunagud_city(r->d) != NULL));
}

static long long count_query(store_t *st, const char *sql)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    if (!s)
        return -1;
    long long n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    store_done(s);
    return n;
}

static void metric_feeds(strbuf_t *b, store_t *st)
{
    strbuf_puts(b, "# HELP tsunagu_feeds Feeds by state.\n# TYPE tsunagu_feeds gauge\n");
    static const char *states[] = {"ok", "failing", "pending"};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *s = store_prepare(st, "SELECT COUNT(*) FROM feeds WHERE state = ?");
        long long n = 0;
        if (s) {
            store_bind_text(s, 1, states[i]);
            n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
            store_done(s);
        }
        strbuf_printf(b, "tsunagu_feeds{state=\"%s\"} %lld\n", states[i], n);
    }
}

static void metric_latency(strbuf_t *b, const feeds_stats_t *fs)
{
    strbuf_puts(b, "# HELP tsunagu_feed_fetch_seconds Feed fetch latency.\n"
                   "# TYPE tsunagu_feed_fetch_seconds histogram\n");
    long cum = 0;
    for (size_t i = 0; i < 7; i++) {
        cum += fs->fetch_ms_bucket[i];
        strbuf_printf(b, "tsunagu_feed_fetch_seconds_bucket{le=\"%g\"} %ld\n",
                      feeds_latency_bounds_ms[i] / 1000.0, cum);
    }
    cum += fs->fetch_ms_bucket[7];
    strbuf_printf(b, "tsunagu_feed_fetch_seconds_bucket{le=\"+Inf\"} %ld\n", cum);
    strbuf_printf(b, "tsunagu_feed_fetch_seconds_sum %.6f\n", fs->fetch_ms_sum / 1000.0);
    strbuf_printf(b, "tsunagu_feed_fetch_seconds_count %ld\n", fs->fetches);
    strbuf_printf(b, "# HELP tsunagu_feed_fetch_errors_total Failed feed fetches.\n"
                     "# TYPE tsunagu_feed_fetch_errors_total counter\n"
                     "tsunagu_feed_fetch_errors_total %ld\n", fs->fetch_errors);
}

/* Prometheus label value escaping: backslash, quote, newline. */
static void put_label(strbuf_t *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_putc(b, '\\');
        if (*p == '\n') {
            strbuf_puts(b, "\\n");
            continue;
        }
        strbuf_putc(b, *p);
    }
}

/* Per-feed series, so a stale or failing calendar can be alerted on. */
static void metric_per_feed(strbuf_t *b, store_t *st)
{
    sqlite3_stmt *s = store_prepare(st,
        "SELECT id, agency, state, last_success FROM feeds ORDER BY agency, position");
    if (!s)
        return;
    strbuf_t up, last;
    strbuf_init(&up);
    strbuf_init(&last);
    strbuf_puts(&up, "# HELP tsunagu_feed_up 1 when the feed's last poll succeeded, 0 when it "
                     "failed, -1 before the first poll.\n# TYPE tsunagu_feed_up gauge\n");
    strbuf_puts(&last, "# HELP tsunagu_feed_last_success_timestamp_seconds Time of the last "
                       "successful poll.\n# TYPE tsunagu_feed_last_success_timestamp_seconds gauge\n");
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *state = store_col_text(s, 2);
        int v = strcmp(state, "ok") == 0 ? 1 : strcmp(state, "failing") == 0 ? 0 : -1;
        strbuf_puts(&up, "tsunagu_feed_up{feed=\"");
        put_label(&up, store_col_text(s, 0));
        strbuf_puts(&up, "\",agency=\"");
        put_label(&up, store_col_text(s, 1));
        strbuf_printf(&up, "\"} %d\n", v);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
            strbuf_puts(&last, "tsunagu_feed_last_success_timestamp_seconds{feed=\"");
            put_label(&last, store_col_text(s, 0));
            strbuf_printf(&last, "\"} %lld\n", (long long)sqlite3_column_int64(s, 3));
        }
    }
    store_done(s);
    strbuf_add(b, up.s, up.len);
    strbuf_add(b, last.s, last.len);
    strbuf_free(&up);
    strbuf_free(&last);
}

static void h_metrics(api_req_t *r)
{
    store_t *st = r->d->store;
    strbuf_t b;
    strbuf_init(&b);
    metric_feeds(&b, st);
    metric_per_feed(&b, st);
    metric_latency(&b, feeds_stats(r->d->feeds));
    strbuf_printf(&b, "# HELP tsunagu_busy_intervals Busy intervals stored.\n"
                      "# TYPE tsunagu_busy_intervals gauge\ntsunagu_busy_intervals %lld\n",
                  count_query(st, "SELECT COUNT(*) FROM busy"));
    strbuf_printf(&b, "# HELP tsunagu_agencies Agencies imported.\n"
                      "# TYPE tsunagu_agencies gauge\ntsunagu_agencies %lld\n",
                  count_query(st, "SELECT COUNT(*) FROM agencies"));
    strbuf_printf(&b, "# HELP tsunagu_feed_fetches_in_flight Fetches running now.\n"
                      "# TYPE tsunagu_feed_fetches_in_flight gauge\n"
                      "tsunagu_feed_fetches_in_flight %d\n", feeds_in_flight(r->d->feeds));
    strbuf_printf(&b, "# HELP tsunagu_http_requests_total HTTP requests received.\n"
                      "# TYPE tsunagu_http_requests_total counter\n"
                      "tsunagu_http_requests_total %ld\n", api_requests_total(r->api));
    api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.s, b.len);
    strbuf_free(&b);
}

static json_t *roles_json(unsigned roles)
{
    json_t *a = json_array();
    static const struct { unsigned bit; const char *name; } names[] = {
        {API_ADMIN, "admin"}, {API_COORDINATOR, "coordinator"},
        {API_SECRETARIAT, "secretariat"}, {API_AGENCY, "agency"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (roles & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    if (roles == API_PUBLIC)
        json_array_append_new(a, json_string("public"));
    return a;
}

static void h_routes(api_req_t *r)
{
    json_t *arr = json_array();
    api_route_info_t info;
    for (size_t i = 0; api_route_at(r->api, i, &info); i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s}", "method", info.method,
                                             "path", info.pattern, "roles", roles_json(info.roles),
                                             "data", api_data_name(info.data)));
        free(info.pattern);
    }
    api_reply_json(r, 200, json_pack("{s:o}", "routes", arr));
}

void api_system_register(api_t *api)
{
    api_route(api, "GET", "/v1/routes", API_ADMIN, API_DATA_NONE, h_routes);
    api_route(api, "GET", "/healthz", API_PUBLIC, API_DATA_NONE, h_healthz);
    api_route(api, "GET", "/metrics", API_STAFF, API_DATA_NONE, h_metrics);
}
