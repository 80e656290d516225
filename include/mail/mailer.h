/* SPDX-License-Identifier: MIT */
/*
 * mailer.h - mail transports behind one small vtable (after OpenSMTPD's
 * queue backends): smtp (libcurl on the event loop), maildir and file.
 *
 * A transport delivers one already-built RFC 5322 message (CRLF line ends)
 * to one envelope recipient and reports the outcome once, from the event
 * loop, through the done callback:
 *   MAIL_SENT      the server (or the file system) accepted the message;
 *   MAIL_TEMPFAIL  try again later (connection refused, 4xx, timeout);
 *   MAIL_PERMFAIL  retrying cannot help (5xx, bad address);
 *   MAIL_CONFIG    our configuration is wrong: retry, log loudly;
 *   MAIL_UNKNOWN   handed over completely, no verdict (see below).
 * The outbox (outbox.h) owns retries; transports never retry themselves.
 *
 * "Was it already delivered?"  After a crash between hand-off and the
 * outbox recording MAIL_SENT, the outbox asks the transport via
 * delivered(): maildir and file can answer exactly (the maildir file name
 * is derived from the Message-ID; the file backend scans for the
 * Message-ID header); SMTP cannot and answers MAILER_UNKNOWN.
 */
#ifndef TSUNAGU_MAILER_H
#define TSUNAGU_MAILER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "curlev.h"

typedef enum mail_result {
    MAIL_SENT = 0,
    MAIL_TEMPFAIL,
    MAIL_PERMFAIL,
    MAIL_CONFIG,      /* our own set-up is wrong (EHLO/HELO refused, TLS or
                         AUTH refused): kept and retried until an operator
                         fixes it, never dead-lettered (not even for age) */
    MAIL_UNKNOWN      /* whole message handed over, but no verdict came
                         back (timeout, connection lost after the end of
                         data): the server may well have accepted it */
} mail_result_t;

typedef enum mailer_known {
    MAILER_NOT_DELIVERED = 0,
    MAILER_DELIVERED,
    MAILER_UNKNOWN
} mailer_known_t;

typedef void (*mailer_done_cb)(mail_result_t res, const char *detail, void *arg);
/* Called (at most once per send, with the send's arg) at the point of no
 * return: the whole message has been handed over and only the server's
 * verdict is outstanding.  For SMTP that is just before the end-of-data
 * marker is written; a server cannot accept a message before it. */
typedef void (*mailer_handed_cb)(void *arg);

typedef struct mailer_config {
    const char *transport;     /* "smtp" | "maildir" | "file" */
    const char *url;           /* smtp://host:port, smtps://host:port */
    const char *helo;          /* name sent in EHLO/HELO (NULL = libcurl's
                                  default, the machine's host name) */
    const char *username, *password;   /* AUTH when username is set */
    const char *starttls;      /* "no"/"never" | "try" | "require"/"always" */
    const char *path;          /* maildir directory or mbox-like file */
    long        timeout_ms;    /* per transfer; 0 = 60 s */
    bool        insecure;      /* skip TLS verification (test servers) */
} mailer_config_t;

typedef struct mailer mailer_t;

typedef struct mailer_backend {
    const char *name;
    int  (*init)(mailer_t *m, const mailer_config_t *cfg, char **err);
    int  (*send)(mailer_t *m, const char *from, const char *rcpt,
                 const char *msg, size_t len, const char *message_id,
                 mailer_done_cb done, void *arg);
    mailer_known_t (*delivered)(mailer_t *m, const char *message_id);
    void (*free)(mailer_t *m);      /* NULL: priv is one malloc'd block */
} mailer_backend_t;

struct mailer {
    const mailer_backend_t *be;
    mailer_handed_cb        handed;   /* optional, see above */
    struct event_base      *base;
    curlev_t               *cev;
    void                   *priv;
    int                     in_flight;
};

extern const mailer_backend_t mail_smtp_backend;
extern const mailer_backend_t mail_maildir_backend;
extern const mailer_backend_t mail_file_backend;

/* base is needed by every backend (callbacks run from the loop); cev only
 * by smtp.  NULL and *err (malloc'd) on a bad configuration. */
mailer_t *mailer_new(const mailer_config_t *cfg, struct event_base *base,
                     curlev_t *cev, char **err);
void      mailer_free(mailer_t *m);
const char *mailer_name(const mailer_t *m);
/* 0 when the attempt started (done will be called exactly once), -1 when
 * it could not start (done is NOT called). */
int  mailer_send(mailer_t *m, const char *from, const char *rcpt,
                 const char *msg, size_t len, const char *message_id,
                 mailer_done_cb done, void *arg);
mailer_known_t mailer_delivered(mailer_t *m, const char *message_id);
void mailer_set_handed_hook(mailer_t *m, mailer_handed_cb fn);

/* For backends: run done(res, detail, arg) from the loop soon. */
void mailer_complete_later(mailer_t *m, mailer_done_cb done, void *arg,
                           mail_result_t res, const char *detail);
/* Stable file-name-safe token for a Message-ID (hex of a hash). */
void mailer_id_token(const char *message_id, char out[17]);

#endif
