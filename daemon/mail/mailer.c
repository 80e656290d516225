/* SPDX-License-Identifier: MIT */
/*
 * mailer.c - picks a mail transport by name and forwards to its vtable.
 *
 * Backends live in mail_smtp.c, mail_maildir.c and mail_file.c.  This file
 * also holds the tiny helpers they share: deferring a completion to the
 * event loop (so done callbacks never run inside mailer_send, which keeps
 * the outbox free of re-entrancy) and a file-name token for a Message-ID.
 */
#include "mailer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const mailer_backend_t *const backends[] = {
    &mail_smtp_backend, &mail_maildir_backend, &mail_file_backend, NULL
};

mailer_t *mailer_new(const mailer_config_t *cfg, struct event_base *base,
                     curlev_t *cev, char **err)
{
    const char *name = cfg && cfg->transport ? cfg->transport : "smtp";
    for (size_t i = 0; backends[i]; i++) {
        if (strcmp(backends[i]->name, name) != 0) continue;
        mailer_t *m = xcalloc(1, sizeof *m);
        m->be = backends[i];
        m->base = base;
        m->cev = cev;
        if (m->be->init(m, cfg, err) != 0) {
            free(m);
            return NULL;
        }
        return m;
    }
    *err = xasprintf("不明なメール送信方式です: %s (smtp, maildir, file)", name);
    return NULL;
}

void mailer_free(mailer_t *m)
{
    if (!m) return;
    if (m->be->free) m->be->free(m);
    else free(m->priv);
    free(m);
}

const char *mailer_name(const mailer_t *m) { return m->be->name; }

int mailer_send(mailer_t *m, const char *from, const char *rcpt,
                const char *msg, size_t len, const char *message_id,
                mailer_done_cb done, void *arg)
{
    return m->be->send(m, from, rcpt, msg, len, message_id, done, arg);
}

mailer_known_t mailer_delivered(mailer_t *m, const char *message_id)
{
    return m->be->delivered ? m->be->delivered(m, message_id) : MAILER_UNKNOWN;
}

void mailer_set_handed_hook(mailer_t *m, mailer_handed_cb fn)
{
    m->handed = fn;
}

typedef struct later {
    mailer_t      *m;
    mailer_done_cb done;
    void          *arg;
    mail_result_t  res;
    char          *detail;
} later_t;

static void on_complete_later(evutil_socket_t fd, short what, void *p)
{
    later_t *l = p;
    l->m->in_flight--;
    l->done(l->res, l->detail, l->arg);
    free(l->detail);
    free(l);
}

void mailer_complete_later(mailer_t *m, mailer_done_cb done, void *arg,
                           mail_result_t res, const char *detail)
{
    later_t *l = xcalloc(1, sizeof *l);
    l->m = m;
    l->done = done;
    l->arg = arg;
    l->res = res;
    l->detail = xstrdup(detail ? detail : "");
    m->in_flight++;
    struct timeval tv = { 0, 0 };
    if (!m->base || event_base_once(m->base, -1, EV_TIMEOUT, on_complete_later, l, &tv) != 0)
        on_complete_later(-1, 0, l);
}

void mailer_id_token(const char *message_id, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)(message_id ? message_id : ""); *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, h >>= 4) out[i] = hex[h & 15];
    out[16] = '\0';
}
