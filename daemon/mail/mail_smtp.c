/* SPDX-License-Identifier: MIT */
/*
 * mail_smtp.c - SMTP transport: libcurl's smtp:// and smtps:// (STARTTLS
 * via CURLOPT_USE_SSL, AUTH via CURLOPT_USERNAME/PASSWORD) run on ONE
 * dedicated mail thread, with outcomes handed back to the libevent loop.
 *
 * Why a thread and not curlev.  libcurl drives SMTP's command phases
 * through the multi interface, but after the message body it reads the
 * server's reply to the end-of-data marker with a BLOCKING state machine
 * (lib/smtp.c: smtp_done -> smtp_block_statemach; the same for QUIT on
 * disconnect).  On the loop thread a server that is slow to say "250"
 * would freeze every HTTP request and feed fetch for that long (the
 * integration test with a stalling server showed 1.8 s stalls).  So the
 * transfers run on a private CURLM owned by the mail thread; the loop only
 * queues jobs and receives results through a self-pipe watched by a
 * libevent event.  Nothing here ever waits on the loop thread.
 *
 * The point of no return ("handed", see mailer.h) is reached in the read
 * callback on the mail thread.  It must be durable before the last bytes
 * go out, so the mail thread posts it to the loop (which records it in
 * SQLite) and waits until the loop acknowledges; only then does libcurl
 * send the rest and the end-of-data marker.
 *
 * Outcome: CURLE_OK means the server answered 250 to the end of DATA.  A
 * 5xx reply is permanent (dead letter) unless it says our own set-up is
 * wrong, which an operator can fix: TLS/AUTH (530/534/535/538), or a
 * refused EHLO/HELO (libcurl's CURLE_REMOTE_ACCESS_DENIED comes only from
 * the EHLO/HELO replies; relays refuse names that are not fully
 * qualified).  Those are MAIL_CONFIG: they stay in the outbox and are
 * retried (never dead-lettered, not even for age), logged as
 * configuration errors; everything else is temporary.
 *
 * EHLO name.  libcurl sends the URL's path as the EHLO/HELO domain
 * (smtp://host:port/<name>), else the machine's host name (often a bare
 * "vm").  HELO_NAME (default: the reply address's domain) becomes that
 * path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mailer.h"
#include "util.h"

typedef struct smtp_job smtp_job_t;

struct smtp_job {
    smtp_job_t        *next;
    mailer_t          *m;
    CURL              *easy;
    struct curl_slist *rcpts;
    char              *data, *message_id;
    size_t             len, off;
    mailer_done_cb     done;
    void              *arg;
    /* handed handshake (guarded by the worker mutex) */
    bool               handed_posted, handed_acked;
    /* result, filled by the mail thread */
    CURLcode           rc;
    long               code;
    char               errbuf[CURL_ERROR_SIZE];
};

typedef struct smtp_ctx {
    char *url, *username, *password, *helo;
    long  use_ssl, timeout_ms;
    bool  insecure;
    /* the mail thread */
    pthread_t       thread;
    bool            running, stop;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    smtp_job_t     *todo, *handed, *done;   /* singly linked FIFOs */
    CURLM          *multi;
    int             pipe_r, pipe_w;
    struct event   *ev;
} smtp_ctx_t;

static void push(smtp_job_t **head, smtp_job_t *j)
{
    j->next = NULL;
    while (*head) head = &(*head)->next;
    *head = j;
}

static smtp_job_t *take_all(smtp_job_t **head)
{
    smtp_job_t *l = *head;
    *head = NULL;
    return l;
}

static void poke(smtp_ctx_t *c)
{
    ssize_t w;
    do w = write(c->pipe_w, "x", 1);
    while (w < 0 && errno == EINTR);
}

static void job_free(smtp_job_t *j)
{
    if (j->easy) curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->rcpts);
    free(j->data);
    free(j->message_id);
    free(j);
}

/* ---- mail thread ------------------------------------------------------ */

/* Runs on the mail thread.  Before the last chunk: post "handed" to the
 * loop and wait for its acknowledgement. */
static size_t smtp_read(char *buf, size_t size, size_t nitems, void *p)
{
    smtp_job_t *j = p;
    smtp_ctx_t *c = j->m->priv;
    size_t room = size * nitems, left = j->len - j->off;
    size_t n = left < room ? left : room;
    if (n == left && !j->handed_posted) {
        pthread_mutex_lock(&c->mu);
        j->handed_posted = true;
        push(&c->handed, j);
        poke(c);
        while (!j->handed_acked && !c->stop) pthread_cond_wait(&c->cv, &c->mu);
        bool stop = c->stop && !j->handed_acked;
        pthread_mutex_unlock(&c->mu);
        if (stop) return CURL_READFUNC_ABORT;
    }
    memcpy(buf, j->data + j->off, n);
    j->off += n;
    return n;
}

static void run_transfer(smtp_ctx_t *c, smtp_job_t *j)
{
    curl_multi_add_handle(c->multi, j->easy);
    int running = 1;
    while (running) {
        curl_multi_perform(c->multi, &running);
        if (running) curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
    }
    j->rc = CURLE_GOT_NOTHING;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == j->easy) j->rc = msg->data.result;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->code);
    curl_multi_remove_handle(c->multi, j->easy);
}

static void *mail_thread(void *arg)
{
    smtp_ctx_t *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->todo && !c->stop) pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop) break;
        smtp_job_t *j = c->todo;
        c->todo = j->next;
        pthread_mutex_unlock(&c->mu);
        run_transfer(c, j);
        pthread_mutex_lock(&c->mu);
        push(&c->done, j);
        poke(c);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- loop side ---------------------------------------------------------- */

/* EHLO and HELO were both refused (the only source of this code). */
static bool helo_refused(const smtp_job_t *j)
{
    return j->rc == CURLE_REMOTE_ACCESS_DENIED;
}

/* 5xx is permanent for THIS message, except the replies that mean our
 * own configuration is wrong (530 STARTTLS/auth required, 534/538
 * mechanism or encryption required, 535 bad credentials, a refused
 * EHLO/HELO name): an operator can fix those, and the mail must still be
 * there when they do. */
static mail_result_t classify(const smtp_job_t *j)
{
    if (j->rc == CURLE_OK) return MAIL_SENT;
    /* the end of data went out but no 4xx/5xx verdict came back */
    if (j->handed_acked && j->code < 400) return MAIL_UNKNOWN;
    if (j->rc == CURLE_LOGIN_DENIED || j->rc == CURLE_USE_SSL_FAILED || helo_refused(j))
        return MAIL_CONFIG;
    if (j->code == 530 || j->code == 534 || j->code == 535 || j->code == 538) return MAIL_CONFIG;
    return j->code >= 500 && j->code < 600 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
}

static void finish(smtp_job_t *j)
{
    smtp_ctx_t *c = j->m->priv;
    const char *why = j->errbuf[0] ? j->errbuf : curl_easy_strerror(j->rc);
    char *detail = j->rc == CURLE_OK ? xasprintf("SMTP %ld", j->code)
        : helo_refused(j) ? xasprintf("設定エラー: SMTP サーバーが EHLO/HELO %s を拒否しました。"
                                      "HELO_NAME を確認してください (SMTP %ld: %s)",
                                      c->helo ? c->helo : "(host name)", j->code, why)
        : xasprintf("SMTP %ld: %s", j->code, why);
    if (helo_refused(j))
        log_error("smtp: CONFIGURATION ERROR: the server refused EHLO/HELO %s (%ld); "
                  "set HELO_NAME to a fully qualified name. Mail is kept and retried.",
                  c->helo ? c->helo : "(host name)", j->code);
    j->m->in_flight--;
    j->done(classify(j), detail, j->arg);
    free(detail);
    job_free(j);
}

/* The self-pipe is readable: acknowledge "handed" posts, deliver results. */
static void on_mail_thread_news(evutil_socket_t fd, short what, void *arg)
{
    smtp_ctx_t *c = arg;
    char buf[64];
    while (read(c->pipe_r, buf, sizeof buf) > 0) {}
    pthread_mutex_lock(&c->mu);
    smtp_job_t *handed = take_all(&c->handed), *done = take_all(&c->done);
    pthread_mutex_unlock(&c->mu);
    for (smtp_job_t *j = handed, *next; j; j = next) {
        next = j->next;
        if (j->m->handed) j->m->handed(j->arg);      /* durable before ack */
        pthread_mutex_lock(&c->mu);
        j->handed_acked = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    for (smtp_job_t *j = done, *next; j; j = next) {
        next = j->next;
        finish(j);
    }
}

static int start_thread(mailer_t *m, smtp_ctx_t *c, char **err)
{
    int p[2];
    if (!m->base || pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
        *err = xstrdup("SMTP 送信スレッドを準備できません (pipe)");
        return -1;
    }
    c->pipe_r = p[0];
    c->pipe_w = p[1];
    c->multi = curl_multi_init();
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->ev = event_new(m->base, c->pipe_r, EV_READ | EV_PERSIST, on_mail_thread_news, c);
    if (!c->multi || !c->ev || event_add(c->ev, NULL) != 0 ||
        thread_create_quiet(&c->thread, mail_thread, c) != 0) {
        *err = xstrdup("SMTP 送信スレッドを開始できません");
        return -1;
    }
    c->running = true;
    return 0;
}

/* A host name or address literal we can put after EHLO. */
static bool valid_helo(const char *h)
{
    if (!*h || strlen(h) > 253) return false;
    for (const char *p = h; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
              ('0' <= *p && *p <= '9') || strchr(".-[]:", *p)))
            return false;
    return true;
}

/* c->url = cfg->url with its path replaced by the EHLO name (libcurl
 * sends the path as the EHLO/HELO domain). */
static bool smtp_url_with_helo(const mailer_config_t *cfg, smtp_ctx_t *c, char **err)
{
    const char *helo = cfg->helo && *cfg->helo ? cfg->helo : NULL;
    if (helo && !valid_helo(helo)) {
        *err = xasprintf("HELO_NAME が不正です: %s (a host name)", helo);
        return false;
    }
    const char *host = strstr(cfg->url, "://") + 3;
    size_t base = (size_t)(host - cfg->url) + strcspn(host, "/");
    c->url = helo ? xasprintf("%.*s/%s", (int)base, cfg->url, helo) : xstrdup(cfg->url);
    c->helo = xstrdup(helo);
    return true;
}

static int smtp_init(mailer_t *m, const mailer_config_t *cfg, char **err)
{
    if (!cfg->url || (strncmp(cfg->url, "smtp://", 7) != 0 && strncmp(cfg->url, "smtps://", 8) != 0)) {
        *err = xstrdup("SMTP_URL は smtp:// または smtps:// で始めてください");
        return -1;
    }
    smtp_ctx_t *c = xcalloc(1, sizeof *c);
    c->pipe_r = c->pipe_w = -1;
    if (!smtp_url_with_helo(cfg, c, err)) {
        free(c);
        return -1;
    }
    c->username = xstrdup(cfg->username && *cfg->username ? cfg->username : NULL);
    c->password = xstrdup(cfg->password);
    const char *tls = cfg->starttls ? cfg->starttls : "try";
    c->use_ssl = !strcmp(tls, "require") || !strcmp(tls, "always") ? CURLUSESSL_ALL
               : !strcmp(tls, "no") || !strcmp(tls, "never") ? CURLUSESSL_NONE : CURLUSESSL_TRY;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    c->insecure = cfg->insecure;
    m->priv = c;
    if (start_thread(m, c, err) != 0) {
        m->be->free(m);
        m->priv = NULL;
        return -1;
    }
    return 0;
}

static CURL *smtp_easy(const smtp_ctx_t *c, smtp_job_t *j, const char *from)
{
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    char *mail_from = xasprintf("<%s>", from);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpts);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, smtp_read);
    curl_easy_setopt(e, CURLOPT_READDATA, j);
    curl_easy_setopt(e, CURLOPT_USE_SSL, c->use_ssl);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (c->username) {
        curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (c->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    free(mail_from);           /* libcurl copies string options */
    return e;
}

static int smtp_send(mailer_t *m, const char *from, const char *rcpt,
                     const char *msg, size_t len, const char *message_id,
                     mailer_done_cb done, void *arg)
{
    smtp_ctx_t *c = m->priv;
    smtp_job_t *j = xcalloc(1, sizeof *j);
    j->m = m;
    j->data = xmalloc(len + 1);
    memcpy(j->data, msg, len);
    j->len = len;
    j->message_id = xstrdup(message_id);
    j->done = done;
    j->arg = arg;
    char *r = xasprintf("<%s>", rcpt);
    j->rcpts = curl_slist_append(NULL, r);
    free(r);
    j->easy = smtp_easy(c, j, from);
    if (!j->easy || !c->running) {
        log_error("smtp: could not start transfer for %s", message_id);
        job_free(j);
        return -1;
    }
    m->in_flight++;
    pthread_mutex_lock(&c->mu);
    push(&c->todo, j);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static mailer_known_t smtp_delivered(mailer_t *m, const char *message_id)
{
    return MAILER_UNKNOWN;
}

/* Stop the thread (an in-flight transfer runs to its end or timeout);
 * jobs not reported are dropped without callbacks - their outbox rows
 * stay 'sending'/'handed' and outbox_recover settles them at next start. */
static void smtp_free(mailer_t *m)
{
    smtp_ctx_t *c = m->priv;
    if (!c) return;
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        curl_multi_wakeup(c->multi);
        pthread_join(c->thread, NULL);
    }
    for (smtp_job_t *l = c->todo; l;) { smtp_job_t *n = l->next; job_free(l); l = n; }
    for (smtp_job_t *l = c->done; l;) { smtp_job_t *n = l->next; job_free(l); l = n; }
    if (c->ev) event_free(c->ev);
    if (c->multi) curl_multi_cleanup(c->multi);
    if (c->pipe_r >= 0) close(c->pipe_r);
    if (c->pipe_w >= 0) close(c->pipe_w);
    if (c->running) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
    }
    free(c->url);
    free(c->helo);
    free(c->username);
    free(c->password);
    free(c);
    m->priv = NULL;
}

const mailer_backend_t mail_smtp_backend = {
    "smtp", smtp_init, smtp_send, smtp_delivered, smtp_free
};
