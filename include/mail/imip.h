/* SPDX-License-Identifier: MIT */
/*
 * imip.h - iMIP (RFC 6047) invitation mail: build REQUEST / CANCEL
 * messages for one attendee, and parse a REPLY out of a raw RFC 5322
 * message.
 *
 * Confidentiality is structural: the builder has no field for member
 * names, ages or issues.  A meeting is described only by its case id and
 * meeting type, and every string that reaches a header or an iCalendar
 * property is sanitised (controls stripped, TEXT escaped per RFC 5545,
 * addresses validated), so no caller can inject a header or a property.
 */
#ifndef TSUNAGU_IMIP_H
#define TSUNAGU_IMIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum imip_method {
    IMIP_REQUEST = 0,
    IMIP_CANCEL,
    IMIP_REPLY
} imip_method_t;

const char *imip_method_name(imip_method_t m);         /* "REQUEST", ... */

typedef enum imip_partstat {
    PARTSTAT_NEEDS_ACTION = 0,
    PARTSTAT_ACCEPTED,
    PARTSTAT_DECLINED,
    PARTSTAT_TENTATIVE,
    PARTSTAT_DELEGATED
} imip_partstat_t;

const char *imip_partstat_name(imip_partstat_t p);     /* "ACCEPTED", ... */
bool        imip_partstat_parse(const char *s, imip_partstat_t *out);
const char *imip_partstat_label_ja(imip_partstat_t p); /* "出席", ... */

typedef struct imip_attendee {
    const char     *email;      /* agency role mailbox */
    const char     *name;       /* agency name (CN); never a person */
    bool            required;   /* ROLE=REQ-PARTICIPANT vs OPT-PARTICIPANT */
    imip_partstat_t partstat;
    bool            copy;       /* the secretariat's own copy: it gets the
                                   mail but is not an ATTENDEE (the
                                   ORGANIZER stands for it) */
} imip_attendee_t;

/* Per-recipient RSVP links (optional; all NULL = none in the text part). */
typedef struct imip_links {
    const char *accept, *decline, *tentative;
} imip_links_t;

typedef struct imip_meeting {
    const char *uid;              /* stable across SEQUENCE changes */
    int         sequence;
    const char *case_id;
    const char *meeting_type;     /* 支援会議, 重層的支援会議, ... */
    int64_t     start, end;       /* UTC epoch seconds */
    const char *location;         /* either or both may be NULL */
    const char *url;              /* online meeting URL (http/https) */
    const char *organizer_email;  /* the secretariat's reply mailbox; never
                                     also listed as an ATTENDEE */
    const char *organizer_name;
    const imip_attendee_t *attendees;
    size_t      nattendees;
    int64_t     dtstamp;          /* usually tu_now() */
} imip_meeting_t;

/* One built message.  raw uses CRLF line ends throughout. */
typedef struct imip_mail {
    char *message_id;   /* "<...@domain>" */
    char *from;         /* envelope sender (bare address) */
    char *rcpt;         /* envelope recipient (bare address) */
    char *subject;      /* the unencoded subject, for logs and the outbox */
    char *raw;
    size_t len;
} imip_mail_t;

void imip_mail_free(imip_mail_t *m);

/* Build the REQUEST or CANCEL mail for one attendee of m.  links may be
 * NULL.  Returns false and sets *err (malloc'd, Japanese) when an address
 * is invalid or a required field is missing. */
bool imip_build(const imip_meeting_t *m, imip_method_t method,
                const imip_attendee_t *to, const imip_links_t *links,
                imip_mail_t *out, char **err);

/* Build a plain Japanese text mail (reminders, re-planning notices).  The
 * body must not carry personal data; it goes out as given (UTF-8). */
bool imip_build_text(const char *from_email, const char *from_name,
                     const char *to_email, const char *subject,
                     const char *body, const char *msgid_seed, int64_t date,
                     imip_mail_t *out, char **err);

/* Message-ID stable per (uid, attendee, sequence, method). */
char *imip_message_id(const char *uid, const char *attendee_email,
                      int sequence, imip_method_t method,
                      const char *domain);

/* Only the iCalendar object (for tests). */
char *imip_calendar(const imip_meeting_t *m, imip_method_t method);
/* A subscribable feed (no METHOD, no attendees, no location): one VEVENT
 * per meeting holding only the case id and meeting type.  cancelled[i]
 * marks STATUS:CANCELLED. */
char *imip_feed_calendar(const imip_meeting_t *ms, const bool *cancelled,
                         size_t n, const char *name);

/* ---- low-level helpers, exposed for the ICS feed and tests ---------- */
/* Copy of s with every control character (including CR, LF, TAB, DEL)
 * replaced by a space and invalid UTF-8 dropped. */
char *imip_header_sanitize(const char *s);
/* RFC 2047 "B" encoding of a UTF-8 header value, folded so no encoded
 * word exceeds 75 octets; name_len is the length of "Subject: " etc. */
char *imip_encode_header(const char *value, size_t name_len);
/* RFC 5545 TEXT escaping (\\ \; \, \n), controls dropped. */
char *imip_ical_escape_text(const char *s);
/* true for a plain addr-spec we are willing to put in headers/mailto. */
bool  imip_valid_email(const char *s);
/* Fold a content line at 75 octets without splitting UTF-8 sequences;
 * appends CRLF-terminated output to buf (a strbuf_t *). */
struct strbuf;
void  imip_fold_line(struct strbuf *buf, const char *line);

/* ---- REPLY parsing --------------------------------------------------- */
typedef struct imip_reply {
    char           *from;        /* bare address from the From: header */
    char           *uid;
    int             sequence;
    char           *attendee;    /* bare address from ATTENDEE:mailto: */
    char           *member;      /* its MEMBER= group (Gmail), or NULL */
    imip_partstat_t partstat;
} imip_reply_t;

void imip_reply_free(imip_reply_t *r);

/* Walk a raw RFC 5322 message (multipart, base64/quoted-printable), find
 * the text/calendar part and read METHOD:REPLY with libical.  false and
 * *err (malloc'd, Japanese) on anything unusable. */
bool imip_parse_reply(const char *raw, size_t len, imip_reply_t *out,
                      char **err);

/* Does the message carry an Exchange TNEF body (application/ms-tnef,
 * winmail.dat)?  Such a reply has no text/calendar part: tsunagu does
 * not decode TNEF (see imip.c) and refuses it with a message that tells
 * the agency to answer with its RSVP link. */
bool imip_has_tnef(const char *raw, size_t len);

/* ---- delivery status notifications (RFC 3464) ------------------------ */
typedef struct imip_dsn {
    int64_t verp_id;      /* N of a To:/Delivered-To:/X-Original-To:
                             "<local>+N@domain", 0 when none */
    char   *verp_local;   /* that address's <local> part (before '+') */
    char   *verp_domain;
    char   *message_id;   /* Message-ID of the returned headers, or NULL */
    bool    failed;       /* some recipient's Action: failed */
    char   *action;       /* the first recipient's Action (failed, delayed...) */
    char   *reason;       /* "5.1.1 rcpt: diagnostic", unfolded, UTF-8 clean */
} imip_dsn_t;

void imip_dsn_free(imip_dsn_t *d);
/* true when raw is a delivery status notification (multipart/report;
 * report-type=delivery-status, or any message/delivery-status part),
 * with what it says in *out. */
bool imip_parse_dsn(const char *raw, size_t len, imip_dsn_t *out);

/* Decoders, exposed for tests. */
char *imip_base64_decode(const char *s, size_t n, size_t *out_len);
char *imip_qp_decode(const char *s, size_t n, size_t *out_len);
char *imip_base64_encode_lines(const void *data, size_t n); /* 76-col CRLF */

#endif
