/*
 * mail_smtp.c - SMTP transport: libcurl's smtp:// and smtps:// driven by
 * the daemon's libevent loop through curlev (never curl_easy_perform).
 *
 * One transfer per message and recipient.  STARTTLS follows the config
 * ("require" = CURLUSESSL_ALL, "try" = CURLUSESSL_TRY); smtps:// is TLS
 * from the first byte.  AUTH uses CURLOPT_USERNAME/PASSWORD when a user is
 * configured.  Outcome: CURLE_OK means the server answered 250 to the end
 * of DATA, i.e. it accepted the message; a 5xx reply (other than a login
 * failure, which is a configuration problem an operator can fix) is
 * permanent; everything else is temporary and the outbox retries it.
 * When the read callback reaches EOF the outbox's "handed" hook runs: from
 * then on the server has the whole message and may accept it at any time.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mailer.h"
#include "util.h"

typedef struct smtp_cfg {
    char *url, *username, *password;
    long  use_ssl;
    long  timeout_ms;
    bool  insecure;
} smtp_cfg_t;

typedef struct smtp_job {
    mailer_t          *m;
    CURL              *easy;
    struct curl_slist *rcpts;
    char              *data;
    size_t             len, off;
    bool               handed;
    mailer_done_cb     done;
    void              *arg;
    char               errbuf[CURL_ERROR_SIZE];
} smtp_job_t;

static int smtp_init(mailer_t *m, const mailer_config_t *cfg, char **err)
{
    if (!cfg->url || (strncmp(cfg->url, "smtp://", 7) != 0 && strncmp(cfg->url, "smtps://", 8) != 0)) {
        *err = xstrdup("SMTP_URL は smtp:// または smtps:// で始めてください");
        return -1;
    }
    if (!m->cev) {
        *err = xstrdup("SMTP 送信には curlev が必要です");
        return -1;
    }
    smtp_cfg_t *c = xcalloc(1, sizeof *c);
    c->url = xstrdup(cfg->url);
    c->username = xstrdup(cfg->username && *cfg->username ? cfg->username : NULL);
    c->password = xstrdup(cfg->password);
    const char *tls = cfg->starttls ? cfg->starttls : "try";
    c->use_ssl = strcmp(tls, "require") == 0 ? CURLUSESSL_ALL
               : strcmp(tls, "no") == 0 ? CURLUSESSL_NONE : CURLUSESSL_TRY;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    c->insecure = cfg->insecure;
    m->priv = c;
    return 0;
}

static size_t smtp_read(char *buf, size_t size, size_t nitems, void *p)
{
    smtp_job_t *j = p;
    size_t room = size * nitems, left = j->len - j->off;
    size_t n = left < room ? left : room;
    memcpy(buf, j->data + j->off, n);
    j->off += n;
    if (j->off == j->len && !j->handed) {
        /* the last bytes: libcurl writes them and the end-of-data marker
         * right after this returns (INFILESIZE is set, so it may never
         * call back again for EOF) */
        j->handed = true;
        if (j->m->handed) j->m->handed(j->arg);
    }
    return n;
}

static void smtp_job_free(smtp_job_t *j)
{
    curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->rcpts);
    free(j->data);
    free(j);
}

static mail_result_t classify(CURL *easy, CURLcode rc)
{
    if (rc == CURLE_OK) return MAIL_SENT;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_LOGIN_DENIED) return MAIL_TEMPFAIL;
    return code >= 500 && code < 600 ? MAIL_PERMFAIL : MAIL_TEMPFAIL;
}

static void on_smtp_done(CURL *easy, CURLcode rc, void *arg)
{
    smtp_job_t *j = arg;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    mail_result_t res = classify(easy, rc);
    char *detail = rc == CURLE_OK ? xasprintf("SMTP %ld", code)
        : xasprintf("SMTP %ld: %s", code, j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
    j->m->in_flight--;
    j->done(res, detail, j->arg);
    free(detail);
    smtp_job_free(j);
}

static CURL *smtp_easy(const smtp_cfg_t *c, smtp_job_t *j, const char *from)
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
    smtp_cfg_t *c = m->priv;
    smtp_job_t *j = xcalloc(1, sizeof *j);
    j->m = m;
    j->data = xmalloc(len + 1);
    memcpy(j->data, msg, len);
    j->len = len;
    j->done = done;
    j->arg = arg;
    char *r = xasprintf("<%s>", rcpt);
    j->rcpts = curl_slist_append(NULL, r);
    free(r);
    j->easy = smtp_easy(c, j, from);
    if (!j->easy || curlev_add(m->cev, j->easy, on_smtp_done, j) != 0) {
        log_error("smtp: could not start transfer for %s", message_id);
        smtp_job_free(j);
        return -1;
    }
    m->in_flight++;
    return 0;
}

static mailer_known_t smtp_delivered(mailer_t *m, const char *message_id)
{
    return MAILER_UNKNOWN;
}

static void smtp_free(mailer_t *m)
{
    smtp_cfg_t *c = m->priv;
    if (!c) return;
    free(c->url);
    free(c->username);
    free(c->password);
    free(c);
}

const mailer_backend_t mail_smtp_backend = {
    "smtp", smtp_init, smtp_send, smtp_delivered, smtp_free
};
