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
 * Yamanami city and listens on an AF_UNIX socket in its temp folder (the
 * router never looks at the transport; a TCP connection per input, with
 * its handshake, ports and TIME_WAIT, held the harness to ~200 inputs/s).
 * Each input is written on a fresh connection, the write side is shut,
 * and the event loop runs until the server has answered and closed.  The
 * admin token is FUZZ_ADMIN (seeds use it, so authorised routes are
 * reached).  State carries over between inputs, as in a real daemon.
 * FUZZ_HTTP_SHOW=1 prints the answers (for checking seeds).
 *
 * Password hashes are cheap here, and only here: the harness defines
 * crypto_pwhash_str itself (the executable's symbol wins over
 * libsodium's), and hashes with argon2id at libsodium's minimum cost
 * (1 pass, 8 KiB) instead of INTERACTIVE (64 MiB, ~0.1 s).  Every hash in
 * this process comes from it (the accounts' dummy hash, added users,
 * password changes), and crypto_pwhash_str_verify reads the cost from
 * the hash string, so logins verify for real, through the same worker
 * thread and callbacks, only faster.  A perf profile showed argon2 at a
 * third of the CPU, and the loop idle in epoll_wait for a further third
 * while the worker hashed: a login every ~200 inputs cost as much as the
 * rest.  The daemon's own cost (daemon/service/pwhash.c) is unchanged.
 *
 * Run with -max_len=8192 (tests/fuzz/fuzz.mk): room for every seed (the
 * largest, a rule-impact body, is 5.4 KiB) and for long headers.  The
 * temp folder (database, socket, mbox) is removed at exit.
 */
#include <errno.h>
#include <event2/http.h>
#include <jansson.h>
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* The harness's argon2id: see the top comment.  opslimit and memlimit
 * are the daemon's (INTERACTIVE) and deliberately ignored. */
int crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *const passwd,
                      unsigned long long passwdlen, unsigned long long opslimit,
                      size_t memlimit)
{
    (void)opslimit;
    (void)memlimit;
    return crypto_pwhash_argon2id_str(out, passwd, passwdlen, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                      crypto_pwhash_argon2id_MEMLIMIT_MIN);
}

static tsunagud_t fuzz_daemon;
static struct sockaddr_un fuzz_addr;   /* the daemon's socket */

static char fuzz_dir[] = "/tmp/fuzz-http-XXXXXX";

/* At exit: the temp folder goes, so chunked runs do not pile them up. */
static void fuzz_remove_dir(void)
{
    static const char *const files[] = {"fuzz.db", "fuzz.db-wal", "fuzz.db-shm",
                                        "http.sock", "mail.mbox", NULL};
    char path[64];
    for (const char *const *f = files; *f; f++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, *f);
        unlink(path);
    }
    rmdir(fuzz_dir);
}

/* The Yamanami case files (tests/data/yamanami/cases), which meetings
 * read (CASES_DIR): without them every booking stopped at 404 for the
 * case, and consent, slot checks, iCalendar and mail were never reached.
 * The seed meeting-book books one for Y-06. */
static void fuzz_cases_dir(void)
{
    char cwd[512];
    if (!getcwd(cwd, sizeof cwd))
        abort();
    char *dir = xasprintf("%s/tests/data/yamanami/cases", cwd);
    setenv("TSUNAGU_CASES_DIR", dir, 1);
    free(dir);
}

static void fuzz_env(void)
{
    char *dir = fuzz_dir;
    if (!mkdtemp(dir))
        abort();
    atexit(fuzz_remove_dir);
    char path[64];
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    setenv("TSUNAGU_DATABASE", path, 1);
    fuzz_addr.sun_family = AF_UNIX;
    snprintf(fuzz_addr.sun_path, sizeof fuzz_addr.sun_path, "%s/http.sock", dir);
    snprintf(path, sizeof path, "%s/mail.mbox", dir);
    setenv("TSUNAGU_MAIL_PATH", path, 1);
    setenv("TSUNAGU_ADMIN_TOKEN", FUZZ_ADMIN, 1);
    setenv("TSUNAGU_LINK_SECRET", "fuzz-link-secret-0123456789abcdef0123", 1);
    setenv("TSUNAGU_NOW", "2026-12-01T09:00:00+09:00", 1);
    setenv("TSUNAGU_POLL_INTERVAL", "86400", 1);
    fuzz_cases_dir();
    /* a failed login answers at once: the throttle still counts, but its
     * doubling delay (to 30 s) would read as a hang to libFuzzer */
    setenv("TSUNAGU_LOGIN_DELAY_MS", "0", 1);
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
    /* an AF_UNIX listener: a connection per input costs no TCP handshake,
     * no ephemeral port and no TIME_WAIT */
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (l < 0 || bind(l, (const struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) != 0 ||
        listen(l, 16) != 0 || !evhttp_accept_socket_with_handle(d->http, l))
        abort();
}

/* One exchange: the client end of a connection and the input still to
 * write. */
typedef struct client {
    int            fd;
    const uint8_t *data;
    size_t         size, off;
    struct event  *wr, *rd;
} client_t;

/* Write what the socket takes; true once the input is all written (or
 * the server closed early) and the write side is shut. */
static bool client_send(client_t *c)
{
    while (c->off < c->size) {
        ssize_t n = send(c->fd, c->data + c->off, c->size - c->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            c->off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;               /* the server has not read yet */
        break;                          /* it closed early: stop writing */
    }
    shutdown(c->fd, SHUT_WR);           /* end of the input */
    return true;
}

static void on_client_writable(evutil_socket_t fd, short what, void *arg)
{
    client_t *c = arg;
    if (client_send(c))
        event_del(c->wr);
}

static void on_client_readable(evutil_socket_t fd, short what, void *arg)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n > 0) {
            if (getenv("FUZZ_HTTP_SHOW")) {
                buf[n] = '\0';
                fprintf(stderr, "%.300s\n", buf);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        event_base_loopbreak(fuzz_daemon.base);   /* closed (or reset): answered */
        return;
    }
}

/* Send one raw request over a fresh connection and run the daemon's loop
 * until it has answered and closed.  Everything is driven by the one
 * event loop: no polling, no fixed waits.  A daemon that never closes is
 * a hang, for libFuzzer's -timeout to report. */
static void exchange(const uint8_t *data, size_t size)
{
    client_t c = {.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), .data = data,
                  .size = size};
    if (c.fd < 0 || connect(c.fd, (const struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) != 0) {
        fprintf(stderr, "fuzz_http: cannot connect to the daemon: %s\n", strerror(errno));
        abort();
    }
    c.wr = event_new(fuzz_daemon.base, c.fd, EV_WRITE | EV_PERSIST, on_client_writable, &c);
    c.rd = event_new(fuzz_daemon.base, c.fd, EV_READ | EV_PERSIST, on_client_readable, &c);
    if (!client_send(&c))               /* an input up to -max_len fits in the */
        event_add(c.wr, NULL);          /* socket buffer: no write event needed */
    event_add(c.rd, NULL);
    event_base_dispatch(fuzz_daemon.base);
    event_free(c.wr);
    event_free(c.rd);
    close(c.fd);
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
