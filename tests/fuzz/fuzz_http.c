/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c - libFuzzer harness for the HTTP front door: the raw bytes
 * of one request (request line, headers, body) go over loopback into
 * the daemon's own evhttp server with the real router and handlers, in
 * this process, so coverage reaches path splitting and decoding, the id
 * rule, token parsing, and every JSON body validator behind a route
 * (case, slot query, meeting, import, ...).
 *
 * LLVMFuzzerInitialize builds the daemon as main_tsunagud.c's start()
 * does (store in a temp folder, feeds, evhttp, api), imports the
 * Yamanami city and listens on 127.0.0.1 (an ephemeral port).  Each input
 * is written on a fresh connection, the write side is shut, and the loop
 * runs until the server has answered and closed, or about 2 s pass.  The
 * admin token is FUZZ_ADMIN (seeds use it, so authorised routes are
 * reached).  State carries over between inputs, as in a real daemon.
 * FUZZ_HTTP_SHOW=1 prints the answers (for checking seeds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/http.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "daemon.h"
#include "feeds.h"
#include "log.h"
#include "ui.h"
#include "util.h"

#define FUZZ_ADMIN "fuzz-admin-token-0123456789abcdef0123"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tsunagud_t fuzz_daemon;
static int fuzz_port;

static void fuzz_env(void)
{
    static char dir[] = "/tmp/fuzz-http-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char path[64];
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    setenv("TSUNAGU_DATABASE", path, 1);
    snprintf(path, sizeof path, "%s/mail.mbox", dir);
    setenv("TSUNAGU_MAIL_PATH", path, 1);
    setenv("TSUNAGU_ADMIN_TOKEN", FUZZ_ADMIN, 1);
    setenv("TSUNAGU_LINK_SECRET", "fuzz-link-secret-0123456789abcdef0123", 1);
    setenv("TSUNAGU_NOW", "2026-12-01T09:00:00+09:00", 1);
    setenv("TSUNAGU_POLL_INTERVAL", "86400", 1);
}

static void fuzz_start(tsunagud_t *d)
{
    char err[512] = "";
    d->config = config_load(NULL, err, sizeof err);
    log_set_level(LOG_ERROR);
    d->store = d->config ? store_open(config_get(d->config, "DATABASE"), err, sizeof err) : NULL;
    if (!d->store) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        exit(2);
    }
    tsunagud_set_current(d);
    d->base = event_base_new();
    d->curlev = curlev_new(d->base);
    d->feeds = feeds_new(d);
    d->http = evhttp_new(d->base);
    evhttp_set_max_body_size(d->http, 1 << 20);
    evhttp_set_max_headers_size(d->http, 64 * 1024);
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(d->http, 2);
    d->api = api_new(d, d->http);
    ui_register(d->api);                /* the web UI at /, as main does */
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(d->http, "127.0.0.1", 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (!bs || getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &len) != 0)
        abort();
    fuzz_port = ntohs(sa.sin_port);
}

/* connect(), finishing one a signal interrupted (libFuzzer's timers fire
 * during it: EINTR, and the connection completes in the background). */
static bool connected(int c, const struct sockaddr_in *sa)
{
    if (connect(c, (const struct sockaddr *)sa, sizeof *sa) == 0)
        return true;
    if (errno != EINTR)
        return false;
    struct pollfd p = {.fd = c, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof err;
    while (poll(&p, 1, 2000) < 0 && errno == EINTR)
        ;
    return getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
           (p.revents & POLLOUT);
}

static int connect_loopback(void)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fuzz_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* reset on close, so tens of thousands of inputs do not use up the
     * ephemeral ports in TIME_WAIT (connect then fails: EADDRNOTAVAIL) */
    struct linger lg = {1, 0};
    if (c < 0 || setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0 ||
        !connected(c, &sa)) {
        fprintf(stderr, "fuzz_http: cannot connect to the daemon: %s\n", strerror(errno));
        abort();
    }
    return c;
}

/* Run the loop until the server closes c (its answer is complete). */
static void await_answer(int c)
{
    char buf[65536];
    bool show = getenv("FUZZ_HTTP_SHOW") != NULL;
    for (int i = 0; i < 2000; i++) {
        event_base_loop(fuzz_daemon.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 1) != 1)
            continue;
        ssize_t n = recv(c, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n > 0 && show) {
            buf[n] = '\0';
            fprintf(stderr, "%.300s\n", buf);
        }
    }
}

/* Send one raw request and wait for its answer. */
static void exchange(const uint8_t *data, size_t size)
{
    int c = connect_loopback();
    size_t off = 0;
    while (off < size) {                     /* serve while we write */
        ssize_t n = send(c, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            break;
        event_base_loop(fuzz_daemon.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    shutdown(c, SHUT_WR);
    await_answer(c);
    close(c);
}

/* agencies.json with its relative calendar paths made absolute, as an
 * import through the API requires. */
static char *city_document(void)
{
    json_t *doc = json_load_file("tests/data/yamanami/agencies.json", 0, NULL);
    char cwd[512];
    if (!doc || !getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "fuzz_http: run from the project root\n");
        exit(2);
    }
    size_t i, j;
    json_t *ag, *cal;
    json_array_foreach(json_object_get(doc, "agencies"), i, ag)
        json_array_foreach(json_object_get(ag, "calendars"), j, cal) {
            const char *url = json_string_value(json_object_get(cal, "url"));
            if (url && url[0] != '/' && !strstr(url, "://")) {
                char *abs = xasprintf("%s/tests/data/yamanami/%s", cwd, url);
                json_object_set_new(cal, "url", json_string(abs));
                free(abs);
            }
        }
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    return text;
}

static void import_city(void)
{
    char *city = city_document();
    char *req = xasprintf("POST /v1/import HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer " FUZZ_ADMIN "\r\n"
                          "Content-Type: application/json\r\nConnection: close\r\n"
                          "Content-Length: %zu\r\n\r\n%s", strlen(city), city);
    exchange((const uint8_t *)req, strlen(req));
    free(req);
    free(city);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    signal(SIGPIPE, SIG_IGN);           /* as tsunagud's main does */
    fuzz_env();
    fuzz_start(&fuzz_daemon);
    import_city();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exchange(data, size);
    return 0;
}
