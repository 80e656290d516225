/* SPDX-License-Identifier: MIT */
/*
 * api_system.c - /healthz (public), /metrics (Prometheus text) and
 * /v1/routes (admin: the route table with each route's roles and data
 * class, which the consent test walks).
 *
 * /healthz answers from memory and one trivial query so it stays fast
 * while feeds are being fetched (the loop-responsiveness benchmark hits
 * it).  /metrics is aggregate only, with a bounded number of series
 * (feed_census.h: feeds by state and kind, success-age histogram, the
 * agencies with the most failing feeds, stored intervals) plus the fetch
 * latency histogram and the group commit's counters (feeds_stats_t); it
 * runs no query over the feeds or busy tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "feed_census.h"
#include "feeds.h"
#include "util.h"

static void h_healthz(api_req_t *r)
{
    api_reply_json(r, 200, json_pack("{s:s, s:b}", "status", r->d->stopping ? "stopping" : "ok",
                                     "city_imported", tsunagud_city_imported(r->d)));
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

/* The group commit of fetch results (feeds.c: flush_pending). */
static void metric_commits(strbuf_t *b, const feeds_stats_t *fs)
{
    strbuf_printf(b, "# HELP tsunagu_feed_result_commits_total Transactions that wrote fetch "
                     "results (group commit).\n"
                     "# TYPE tsunagu_feed_result_commits_total counter\n"
                     "tsunagu_feed_result_commits_total %ld\n", fs->result_commits);
    strbuf_printf(b, "# HELP tsunagu_feed_results_written_total Fetch results written.\n"
                     "# TYPE tsunagu_feed_results_written_total counter\n"
                     "tsunagu_feed_results_written_total %ld\n", fs->results_written);
    strbuf_printf(b, "# HELP tsunagu_feed_results_dropped_total Fetch results dropped because "
                     "an import changed the feed meanwhile.\n"
                     "# TYPE tsunagu_feed_results_dropped_total counter\n"
                     "tsunagu_feed_results_dropped_total %ld\n", fs->results_dropped);
}

static void h_metrics(api_req_t *r)
{
    strbuf_t b;
    strbuf_init(&b);
    feed_census_t census;
    feed_census_take(&census, r->d->feeds, tu_now());
    feed_census_prometheus(&census, &b);
    feed_census_free(&census);
    metric_latency(&b, feeds_stats(r->d->feeds));
    metric_commits(&b, feeds_stats(r->d->feeds));
    strbuf_printf(&b, "# HELP tsunagu_agencies Agencies imported.\n"
                      "# TYPE tsunagu_agencies gauge\ntsunagu_agencies %lld\n",
                  store_agency_count(r->d->store));
    strbuf_printf(&b, "# HELP tsunagu_feed_fetches_in_flight Fetches running now.\n"
                      "# TYPE tsunagu_feed_fetches_in_flight gauge\n"
                      "tsunagu_feed_fetches_in_flight %d\n", feeds_in_flight(r->d->feeds));
    strbuf_printf(&b, "# HELP tsunagu_feed_hosts_backing_off Servers left alone after failing "
                      "to answer.\n# TYPE tsunagu_feed_hosts_backing_off gauge\n"
                      "tsunagu_feed_hosts_backing_off %d\n", feeds_hosts_backing_off(r->d->feeds));
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
