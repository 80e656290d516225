/* SPDX-License-Identifier: MIT */
/*
 * imip.c - iMIP (RFC 6047) mail: REQUEST / CANCEL builder and REPLY parser.
 *
 * Building.  One message per attendee, so every recipient gets its own
 * Message-ID (stable per uid, attendee, sequence and method: re-queuing
 * the same change yields the same id, and the outbox refuses duplicates).
 * The message is multipart/mixed { multipart/alternative { Japanese
 * text/plain, text/calendar; method=... }, application/ics }, every part
 * UTF-8 and base64-encoded so the mail is 7-bit clean for any relay (see
 * put_invitation_body for which client rule each choice follows).  The iCalendar text is written by
 * hand (not via libical) so its shape is fixed and reviewable: a literal
 * Asia/Tokyo VTIMEZONE (no DST since 1951), local DTSTART/DTEND with
 * TZID, content lines folded at 75 octets on UTF-8 boundaries.
 *
 * Safety.  The only free-text inputs are case id, meeting type, location,
 * URL and agency names.  Header values go through imip_header_sanitize
 * (controls -> space) and RFC 2047; addresses must pass a strict addr-spec
 * check; iCalendar TEXT is escaped per RFC 5545 and parameter values lose
 * DQUOTE and controls.  There is deliberately no "note" or member field.
 *
 * Parsing.  imip_parse_reply walks a raw RFC 5322 message: unfolds
 * headers, follows multipart boundaries recursively, decodes base64 or
 * quoted-printable, and hands the first text/calendar part to libical.
 */
#include "imip.h"
#include "mailbox.h"

#include <ctype.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timeutil.h"
#include "util.h"

/* ---------------------------------------------------------------- names */

const char *imip_method_name(imip_method_t m)
{
    switch (m) {
    case IMIP_CANCEL: return "CANCEL";
    case IMIP_REPLY: return "REPLY";
    default: return "REQUEST";
    }
}

static const char *const partstat_names[] = {
    "NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED"
};
static const char *const partstat_ja[] = {
    "未回答", "出席", "欠席", "仮承諾", "代理"
};

const char *imip_partstat_name(imip_partstat_t p)
{
    return (unsigned)p < 5 ? partstat_names[p] : "NEEDS-ACTION";
}

const char *imip_partstat_label_ja(imip_partstat_t p)
{
    return (unsigned)p < 5 ? partstat_ja[p] : "未回答";
}

bool imip_partstat_parse(const char *s, imip_partstat_t *out)
{
    for (int i = 0; s && i < 5; i++)
        if (strcasecmp(s, partstat_names[i]) == 0) {
            *out = (imip_partstat_t)i;
            return true;
        }
    return false;
}

void imip_mail_free(imip_mail_t *m)
{
    if (!m) return;
    free(m->message_id);
    free(m->from);
    free(m->rcpt);
    free(m->subject);
    free(m->raw);
    memset(m, 0, sizeof *m);
}

void imip_reply_free(imip_reply_t *r)
{
    if (!r) return;
    free(r->from);
    free(r->uid);
    free(r->attendee);
    free(r->member);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------ sanitising */

/* Length of the UTF-8 sequence starting at p (0 if invalid). */
static size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
    size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3
             : (*p >> 3) == 30 ? 4 : 0;
    if (n == 0 || n > avail) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* s (NULL reads as "") a UTF-8 character at a time, invalid bytes
 * dropped: put adds each character's text to the copy (malloc'd). */
typedef void (*utf8_put_fn)(strbuf_t *b, const unsigned char *p, size_t n);

static char *utf8_map(const char *s, utf8_put_fn put)
{
    strbuf_t b;
    strbuf_init(&b);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    while (left > 0) {
        size_t n = utf8_seq_len(p, left);
        if (n == 0) { p++; left--; continue; }          /* drop bad byte */
        put(&b, p, n);
        p += n;
        left -= n;
    }
    return strbuf_detach(&b);
}

/* A control character becomes a space. */
static void put_header(strbuf_t *b, const unsigned char *p, size_t n)
{
    if (n == 1 && (*p < 0x20 || *p == 0x7f))
        strbuf_putc(b, ' ');
    else
        strbuf_add(b, p, n);
}

char *imip_header_sanitize(const char *s)
{
    return utf8_map(s, put_header);
}

/* TEXT escaping (RFC 5545 3.3.11); CR dropped, other controls a space. */
static void put_ical_text(strbuf_t *b, const unsigned char *p, size_t n)
{
    if (n > 1) {
        strbuf_add(b, p, n);
        return;
    }
    switch (*p) {
    case '\\': strbuf_puts(b, "\\\\"); break;
    case ';': strbuf_puts(b, "\\;"); break;
    case ',': strbuf_puts(b, "\\,"); break;
    case '\n': strbuf_puts(b, "\\n"); break;
    case '\r': break;
    default:
        if (*p < 0x20 || *p == 0x7f) strbuf_putc(b, ' ');
        else strbuf_putc(b, (char)*p);
    }
}

char *imip_ical_escape_text(const char *s)
{
    return utf8_map(s, put_ical_text);
}

/* Parameter value (RFC 5545 3.2): no DQUOTE, no controls; always quoted. */
static char *ical_param_value(const char *s)
{
    char *clean = imip_header_sanitize(s);
    char *w = clean;
    for (char *r = clean; *r; r++)
        if (*r != '"') *w++ = *r;
    *w = '\0';
    char *q = xasprintf("\"%s\"", clean);
    free(clean);
    return q;
}

static bool is_atext(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-.", c));
}

bool imip_valid_email(const char *s)
{
    if (!s) return false;
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len == 0 || len > 254 || !at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; p < at; p++)
        if (!is_atext((unsigned char)*p)) return false;
    const char *d = at + 1;
    if (!*d || *d == '.' || *d == '-') return false;
    for (const char *p = d; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            return false;
    return s[len - 1] != '.';
}

/* http(s) URL without spaces, quotes, angle brackets or controls. */
static bool valid_url(const char *s)
{
    if (!s || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            return false;
    return strlen(s) < 2000;
}

/* ------------------------------------------------------------ base64 */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode_into(strbuf_t *b, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        char q[4] = { b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                      i + 1 < n ? b64chars[(v >> 6) & 63] : '=',
                      i + 2 < n ? b64chars[v & 63] : '=' };
        strbuf_add(b, q, 4);
    }
}

char *imip_base64_encode_lines(const void *data, size_t n)
{
    strbuf_t b;
    strbuf_init(&b);
    const unsigned char *in = data;
    for (size_t off = 0; off < n; off += 57) {
        size_t chunk = n - off < 57 ? n - off : 57;
        b64_encode_into(&b, in + off, chunk);
        strbuf_puts(&b, "\r\n");
    }
    return strbuf_detach(&b);
}

static int b64_value(int c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

char *imip_base64_decode(const char *s, size_t n, size_t *out_len)
{
    strbuf_t b;
    strbuf_init(&b);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) continue;                    /* whitespace, line ends */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            strbuf_putc(&b, (char)((acc >> bits) & 0xff));
        }
    }
    if (out_len) *out_len = b.len;
    return strbuf_detach(&b);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = toupper(c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *imip_qp_decode(const char *s, size_t n, size_t *out_len)
{
    strbuf_t b;
    strbuf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '=') { strbuf_putc(&b, s[i]); continue; }
        if (i + 1 < n && s[i + 1] == '\n') { i += 1; continue; }   /* soft */
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') { i += 2; continue; }
        int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0) { strbuf_putc(&b, '='); continue; }
        strbuf_putc(&b, (char)(hi * 16 + lo));
        i += 2;
    }
    if (out_len) *out_len = b.len;
    return strbuf_detach(&b);
}

/* --------------------------------------------------- header encoding */

static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f) return false;
    return strstr(s, "=?") == NULL;
}

char *imip_encode_header(const char *value, size_t name_len)
{
    char *clean = imip_header_sanitize(value);
    if (plain_ascii(clean) && name_len + strlen(clean) <= 76)
        return clean;
    strbuf_t b;
    strbuf_init(&b);
    const unsigned char *p = (const unsigned char *)clean;
    size_t left = strlen(clean);
    size_t prefix = name_len;
    while (left > 0) {
        /* room for "=?UTF-8?B?" + "?=" (12) on a 76-column line */
        size_t room_chars = 76 > prefix + 12 + 8 ? 76 - prefix - 12 : 8;
        size_t max_bytes = room_chars / 4 * 3;
        size_t take = 0;
        while (take < left) {
            size_t n = utf8_seq_len(p + take, left - take);
            if (n == 0 || take + n > max_bytes) break;
            take += n;
        }
        if (take == 0) take = 1;   /* cannot happen after sanitising */
        if (b.len) strbuf_puts(&b, "\r\n ");
        strbuf_puts(&b, "=?UTF-8?B?");
        b64_encode_into(&b, p, take);
        strbuf_puts(&b, "?=");
        p += take;
        left -= take;
        prefix = 1;
    }
    free(clean);
    return strbuf_detach(&b);
}

/* "name <addr>".  A non-ASCII display name becomes ONE encoded word (at
 * most 45 octets of UTF-8, 72 characters encoded) or is left out: some
 * parsers (Python's email) insert a space between adjacent encoded words
 * inside an address phrase, which would garble long agency names.  The
 * text part greets the recipient by full name anyway. */
static char *format_mailbox(const char *name, const char *addr, size_t name_len)
{
    char *clean = imip_header_sanitize(name);
    char *out;
    if (!*clean) {
        out = xstrdup(addr);
    } else if (plain_ascii(clean)) {
        char *w = clean;                       /* quoted: drop " and \ */
        for (char *r = clean; *r; r++)
            if (*r != '"' && *r != '\\') *w++ = *r;
        *w = '\0';
        out = xasprintf("\"%s\" <%s>", clean, addr);
    } else if (strlen(clean) <= 45) {
        strbuf_t b;
        strbuf_init(&b);
        strbuf_puts(&b, "=?UTF-8?B?");
        b64_encode_into(&b, (const unsigned char *)clean, strlen(clean));
        strbuf_printf(&b, "?=\r\n <%s>", addr);
        out = strbuf_detach(&b);
    } else {
        out = xstrdup(addr);
    }
    free(clean);
    return out;
}

/* ------------------------------------------------------ line folding */

void imip_fold_line(strbuf_t *buf, const char *line)
{
    const unsigned char *p = (const unsigned char *)line;
    size_t left = strlen(line), col = 0;
    while (left > 0) {
        size_t n = utf8_seq_len(p, left);
        if (n == 0) n = 1;
        if (col + n > 75) {
            strbuf_puts(buf, "\r\n ");
            col = 1;
        }
        strbuf_add(buf, p, n);
        col += n;
        p += n;
        left -= n;
    }
    strbuf_puts(buf, "\r\n");
}

static void ical_line(strbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ical_line(strbuf_t *b, const char *fmt, ...)
{
    strbuf_t line;
    va_list ap;
    strbuf_init(&line);
    va_start(ap, fmt);
    strbuf_vprintf(&line, fmt, ap);
    va_end(ap);
    imip_fold_line(b, line.s);
    strbuf_free(&line);
}

/* ------------------------------------------------------------ times */

static void local_tm(int64_t t, struct tm *tm)
{
    const tz_t *tz = tz_get("Asia/Tokyo");
    if (!tz) tz = tz_default();
    time_t local = (time_t)(t + (tz ? tz_offset_at(tz, t) : 9 * 3600));
    gmtime_r(&local, tm);
}

static void ical_local(int64_t t, char out[20])
{
    struct tm tm;
    local_tm(t, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%S", &tm);
}

static void ical_utc(int64_t t, char out[20])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *const wday_ja[] = { "日", "月", "火", "水", "木", "金", "土" };

/* "2026年12月3日(木) 10:00" */
static char *ja_datetime(int64_t t)
{
    struct tm tm;
    local_tm(t, &tm);
    return xasprintf("%d年%d月%d日(%s) %02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, wday_ja[tm.tm_wday],
                     tm.tm_hour, tm.tm_min);
}

static char *ja_hhmm(int64_t t)
{
    struct tm tm;
    local_tm(t, &tm);
    return xasprintf("%02d:%02d", tm.tm_hour, tm.tm_min);
}

/* RFC 5322 date in JST: "Thu, 03 Dec 2026 10:00:00 +0900" */
static char *rfc5322_date(int64_t t)
{
    static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    local_tm(t, &tm);
    return xasprintf("%s, %02d %s %04d %02d:%02d:%02d +0900", wd[tm.tm_wday],
                     tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

/* -------------------------------------------------------- Message-ID */

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= (uint64_t)tolower(*p);
        h *= 0x100000001b3ULL;
    }
    return h;
}

static char *id_token(const char *s)
{
    char *t = xstrdup(s ? s : "");
    for (char *p = t; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            *p = '_';
    if (strlen(t) > 64) t[64] = '\0';
    return t;
}

char *imip_message_id(const char *uid, const char *attendee_email,
                      int sequence, imip_method_t method, const char *domain)
{
    char *u = id_token(uid);
    char *d = id_token(domain && *domain ? domain : "tsunagu.invalid");
    uint64_t h = fnv1a(attendee_email ? attendee_email : "", 0xcbf29ce484222325ULL);
    h = fnv1a(uid ? uid : "", h);
    char *id = xasprintf("<%s.s%d.%s.%016llx@%s>", u, sequence,
                         method == IMIP_CANCEL ? "cancel" : "request",
                         (unsigned long long)h, d);
    free(u);
    free(d);
    return id;
}

static const char *email_domain(const char *email)
{
    const char *at = email ? strchr(email, '@') : NULL;
    return at ? at + 1 : "tsunagu.invalid";
}

/* --------------------------------------------------------- calendar */

static const char vtimezone_tokyo[] =
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Asia/Tokyo\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0900\r\n"
    "TZOFFSETTO:+0900\r\n"
    "TZNAME:JST\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n";

static bool is_support_meeting(const char *type)
{
    return type && strcmp(type, "支援会議") == 0;
}

static const char confidentiality_notice[] =
    "【守秘義務】本会議は社会福祉法第106条の6に基づく支援会議です。"
    "会議で知り得た情報には守秘義務が課され、正当な理由なく漏らしてはなりません"
    "（違反には罰則があります）。このメールの転送はご遠慮ください。";

static void ical_attendee(strbuf_t *b, const imip_attendee_t *a,
                          imip_method_t method)
{
    char *cn = ical_param_value(a->name && *a->name ? a->name : a->email);
    imip_partstat_t ps = method == IMIP_REPLY ? a->partstat : PARTSTAT_NEEDS_ACTION;
    ical_line(b, "ATTENDEE;CUTYPE=GROUP;ROLE=%s;PARTSTAT=%s;RSVP=%s;CN=%s:mailto:%s",
              a->required ? "REQ-PARTICIPANT" : "OPT-PARTICIPANT",
              imip_partstat_name(ps), method == IMIP_REQUEST ? "TRUE" : "FALSE",
              cn, a->email);
    free(cn);
}

/* The ORGANIZER is never also an ATTENDEE (DESIGN "Invitations"): a
 * mailbox asked to answer its own invitation gets no invitation card in
 * Gmail, and Outlook treats it as the organizer's copy.  The secretariat
 * (a copy) is represented by the ORGANIZER. */
static bool listed_attendee(const imip_meeting_t *m, const imip_attendee_t *a)
{
    return imip_valid_email(a->email) && !a->copy &&
           strcasecmp(a->email, m->organizer_email) != 0;
}

static char *summary_of(const imip_meeting_t *m)
{
    return xasprintf("%s %s", m->case_id ? m->case_id : "",
                     m->meeting_type ? m->meeting_type : "");
}

char *imip_calendar(const imip_meeting_t *m, imip_method_t method)
{
    strbuf_t b;
    char st[20], en[20], stamp[20];
    strbuf_init(&b);
    ical_local(m->start, st);
    ical_local(m->end, en);
    ical_utc(m->dtstamp, stamp);
    strbuf_puts(&b, "BEGIN:VCALENDAR\r\nPRODID:-//tsunagu//tsunagu 1.0//JA\r\n"
                    "VERSION:2.0\r\nCALSCALE:GREGORIAN\r\n");
    ical_line(&b, "METHOD:%s", imip_method_name(method));
    strbuf_puts(&b, vtimezone_tokyo);
    strbuf_puts(&b, "BEGIN:VEVENT\r\n");
    char *uid = imip_header_sanitize(m->uid);
    ical_line(&b, "UID:%s", uid);
    free(uid);
    ical_line(&b, "SEQUENCE:%d", m->sequence);
    ical_line(&b, "DTSTAMP:%s", stamp);
    ical_line(&b, "DTSTART;TZID=Asia/Tokyo:%s", st);
    ical_line(&b, "DTEND;TZID=Asia/Tokyo:%s", en);
    char *sum = summary_of(m);
    char *esum = imip_ical_escape_text(sum);
    ical_line(&b, "SUMMARY:%s", esum);
    free(sum);
    free(esum);
    if (is_support_meeting(m->meeting_type)) {
        char *d = imip_ical_escape_text(confidentiality_notice);
        ical_line(&b, "DESCRIPTION:%s", d);
        free(d);
    }
    if (m->location && *m->location) {
        char *l = imip_ical_escape_text(m->location);
        ical_line(&b, "LOCATION:%s", l);
        free(l);
    }
    if (m->url && valid_url(m->url)) ical_line(&b, "URL:%s", m->url);
    char *ocn = ical_param_value(m->organizer_name && *m->organizer_name
                                 ? m->organizer_name : m->organizer_email);
    ical_line(&b, "ORGANIZER;CN=%s:mailto:%s", ocn, m->organizer_email);
    free(ocn);
    for (size_t i = 0; i < m->nattendees; i++)
        if (listed_attendee(m, &m->attendees[i]))
            ical_attendee(&b, &m->attendees[i], method);
    ical_line(&b, "STATUS:%s", method == IMIP_CANCEL ? "CANCELLED" : "CONFIRMED");
    strbuf_puts(&b, "CLASS:CONFIDENTIAL\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    return strbuf_detach(&b);
}

/* -------------------------------------------------------- text part */

static char *subject_of(const imip_meeting_t *m, imip_method_t method)
{
    const char *tag = method == IMIP_CANCEL ? "【会議中止】"
                    : m->sequence > 0 ? "【日程変更】" : "【会議案内】";
    char *when = ja_datetime(m->start);
    char *s = xasprintf("%s%s %s %s", tag, m->case_id ? m->case_id : "",
                        m->meeting_type ? m->meeting_type : "", when);
    free(when);
    return s;
}

static void text_links(strbuf_t *b, const imip_links_t *links)
{
    if (!links || !links->accept) {
        strbuf_puts(b, "添付の招待（予定表）から出欠をご回答ください。\n");
        return;
    }
    strbuf_puts(b, "出欠は下記のリンクを開き、確認画面で「この内容で回答する」を押してご回答ください（ログイン不要）。\n");
    strbuf_printf(b, "  出席: %s\n", links->accept);
    if (links->decline) strbuf_printf(b, "  欠席: %s\n", links->decline);
    if (links->tentative) strbuf_printf(b, "  仮承諾: %s\n", links->tentative);
    strbuf_puts(b, "添付の招待（予定表）からも回答できます。\n");
}

static char *text_body(const imip_meeting_t *m, imip_method_t method,
                       const imip_attendee_t *to, const imip_links_t *links)
{
    strbuf_t b;
    strbuf_init(&b);
    char *name = imip_header_sanitize(to->name && *to->name ? to->name : to->email);
    char *cid = imip_header_sanitize(m->case_id);
    char *type = imip_header_sanitize(m->meeting_type);
    char *when = ja_datetime(m->start), *until = ja_hhmm(m->end);
    strbuf_printf(&b, "%s 御中\n\n", name);
    if (to->copy)
        strbuf_puts(&b, "（事務局控え）この会議の主催者は事務局です。このメールは事務局の控えとしてお送りしています。\n\n");
    if (method == IMIP_CANCEL)
        strbuf_puts(&b, "下記の会議は中止となりました。予定表から削除してください。\n\n");
    else if (m->sequence > 0)
        strbuf_puts(&b, "下記の会議の日程等が変更になりました。改めて出欠をご回答ください。\n\n");
    else
        strbuf_puts(&b, "下記のとおり会議を開催しますので、ご出席をお願いします。\n\n");
    strbuf_printf(&b, "事例番号: %s\n会議種別: %s\n日時: %s〜%s（日本時間）\n",
                  cid, type, when, until);
    if (m->location && *m->location) {
        char *l = imip_header_sanitize(m->location);
        strbuf_printf(&b, "場所: %s\n", l);
        free(l);
    }
    if (m->url && valid_url(m->url)) strbuf_printf(&b, "オンライン: %s\n", m->url);
    strbuf_puts(&b, "\n");
    if (is_support_meeting(m->meeting_type))
        strbuf_printf(&b, "%s\n\n", confidentiality_notice);
    if (method == IMIP_REQUEST) {
        text_links(&b, links);
        strbuf_puts(&b, "\n");
    }
    strbuf_puts(&b, "このメールには世帯員の氏名等の個人情報は記載していません。"
                    "事例の詳細は事務局にお問い合わせください。\n");
    char *org = imip_header_sanitize(m->organizer_name && *m->organizer_name
                                     ? m->organizer_name : m->organizer_email);
    strbuf_printf(&b, "\n-- \n%s\n", org);
    free(org);
    free(name); free(cid); free(type); free(when); free(until);
    return strbuf_detach(&b);
}

/* LF -> CRLF for the text part. */
static char *crlf(const char *s)
{
    strbuf_t b;
    strbuf_init(&b);
    for (; *s; s++) {
        if (*s == '\n') strbuf_puts(&b, "\r\n");
        else if (*s != '\r') strbuf_putc(&b, *s);
    }
    return strbuf_detach(&b);
}

/* ------------------------------------------------------- assembling */

static void put_headers(strbuf_t *b, const char *from, const char *to,
                        const char *subject, int64_t date, const char *msgid)
{
    char *subj = imip_encode_header(subject, 9);
    char *d = rfc5322_date(date);
    strbuf_printf(b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                     "Message-ID: %s\r\nMIME-Version: 1.0\r\n"
                     "Auto-Submitted: auto-generated\r\n",
                  from, to, subj, d, msgid);
    free(subj);
    free(d);
}

/* One base64 body part; disposition (NULL = none) e.g. "attachment;
 * filename=\"invite.ics\"". */
static void put_part(strbuf_t *b, const char *boundary, const char *ctype,
                     const char *disposition, const char *content)
{
    char *enc = imip_base64_encode_lines(content, strlen(content));
    strbuf_printf(b, "--%s\r\nContent-Type: %s\r\n", boundary, ctype);
    if (disposition) strbuf_printf(b, "Content-Disposition: %s\r\n", disposition);
    strbuf_printf(b, "Content-Transfer-Encoding: base64\r\n\r\n%s", enc);
    free(enc);
}

/*
 * The invitation's MIME tree, the shape Outlook, Google Calendar and
 * Thunderbird send themselves (DESIGN "Invitations"):
 *
 *   multipart/mixed
 *     multipart/alternative
 *       text/plain; charset=UTF-8                 the Japanese text
 *       text/calendar; charset=UTF-8; method=M    the iMIP object
 *     application/ics; name="invite.ics"          the same object, attached
 *
 * Which rule each choice follows:
 * - multipart/alternative {text/plain, text/calendar} is what
 *   [MS-OXCMAIL] 2.1.3.3.8.1 "Plain Text Calendar Message" says a MIME
 *   writer SHOULD generate for a meeting message whose body is plain text: the text first, the
 *   text/calendar (generated per [MS-OXCICAL]) as the last, preferred
 *   alternative.  Clients that cannot show a calendar show the text.
 * - It is the FIRST child of multipart/mixed: on import Outlook searches
 *   only the first child of a multipart/mixed (and its descendants) for
 *   iMIP data; iCalendar data anywhere else is "an .ics attachment"
 *   ([MS-STANOICAL] 2.2.168 on RFC 6047 section 2.4, note V0343; the note
 *   names Outlook 2007, and the first child is also where Outlook, Google
 *   and Thunderbird put it themselves).  The old flat mixed{text/plain,
 *   text/calendar} put it second, so Outlook showed a plain mail with an
 *   attachment and no buttons.
 * - Content-Type text/calendar with method= equal to the object's METHOD
 *   (RFC 6047 2.4; [MS-STANOICAL] 2.2.168 V0341/V0342: Outlook treats
 *   only text/calendar parts as iMIP data).  charset=UTF-8 and base64,
 *   which [MS-OXCMAIL] 2.1.3.3.8.2 allows for the text/calendar part
 *   ("8bit" or "base64"), keep the mail 7-bit clean for any relay.
 * - The trailing application/ics attachment named invite.ics is what
 *   Google Calendar and Thunderbird/Lightning add after the alternative:
 *   clients that ignore iMIP inside multipart/alternative (some webmail)
 *   still offer the event.  It is not text/calendar, so Outlook never
 *   takes it for a second iMIP object (V0343).
 * - No text/html alternative: the mail stays plain (the text is the one
 *   place the confidentiality notice lives; no markup to sanitise).
 */
static void put_invitation_body(strbuf_t *b, const char *msgid, imip_method_t method,
                                const char *text_crlf, const char *cal)
{
    uint64_t h = fnv1a(msgid, 0xcbf29ce484222325ULL);
    char *mixed = xasprintf("=_tsunagu_m_%016llx", (unsigned long long)h);
    char *alt = xasprintf("=_tsunagu_a_%016llx", (unsigned long long)h);
    char *ctype = xasprintf("text/calendar; charset=UTF-8; method=%s",
                            imip_method_name(method));
    strbuf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                     "This is a multi-part message in MIME format.\r\n"
                     "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                  mixed, mixed, alt);
    put_part(b, alt, "text/plain; charset=UTF-8", NULL, text_crlf);
    put_part(b, alt, ctype, NULL, cal);
    strbuf_printf(b, "--%s--\r\n", alt);
    put_part(b, mixed, "application/ics; name=\"invite.ics\"",
             "attachment; filename=\"invite.ics\"", cal);
    strbuf_printf(b, "--%s--\r\n", mixed);
    free(mixed); free(alt); free(ctype);
}

static bool check_meeting(const imip_meeting_t *m, const imip_attendee_t *to,
                          char **err)
{
    if (!m->uid || !*m->uid || !m->case_id || !m->meeting_type) {
        *err = xstrdup("会議のUID・事例番号・会議種別は必須です");
        return false;
    }
    if (!imip_valid_email(m->organizer_email)) {
        *err = xstrdup("事務局（主催者）のメールアドレスが不正です");
        return false;
    }
    if (!to || !imip_valid_email(to->email)) {
        *err = xasprintf("宛先のメールアドレスが不正です");
        return false;
    }
    if (m->end <= m->start) {
        *err = xstrdup("終了時刻は開始時刻より後にしてください");
        return false;
    }
    if (m->url && !valid_url(m->url)) {
        *err = xstrdup("オンライン会議のURLが不正です（http/https のみ）");
        return false;
    }
    return true;
}

bool imip_build(const imip_meeting_t *m, imip_method_t method,
                const imip_attendee_t *to, const imip_links_t *links,
                imip_mail_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (method == IMIP_REPLY) {
        *err = xstrdup("REPLY は受信専用です");
        return false;
    }
    if (!check_meeting(m, to, err)) return false;
    char *msgid = imip_message_id(m->uid, to->email, m->sequence, method,
                                  email_domain(m->organizer_email));
    char *from = format_mailbox(m->organizer_name, m->organizer_email, 6);
    char *rcpt = format_mailbox(to->name, to->email, 4);
    char *subject = subject_of(m, method);
    char *text = text_body(m, method, to, links);
    char *text_crlf = crlf(text);
    char *cal = imip_calendar(m, method);
    strbuf_t b;
    strbuf_init(&b);
    put_headers(&b, from, rcpt, subject, m->dtstamp, msgid);
    put_invitation_body(&b, msgid, method, text_crlf, cal);
    out->message_id = msgid;
    out->from = xstrdup(m->organizer_email);
    out->rcpt = xstrdup(to->email);
    out->subject = subject;
    out->len = b.len;
    out->raw = strbuf_detach(&b);
    free(from); free(rcpt); free(text); free(text_crlf); free(cal);
    return true;
}

bool imip_build_text(const char *from_email, const char *from_name,
                     const char *to_email, const char *subject,
                     const char *body, const char *msgid_seed, int64_t date,
                     imip_mail_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    if (!imip_valid_email(from_email) || !imip_valid_email(to_email)) {
        *err = xstrdup("メールアドレスが不正です");
        return false;
    }
    char *seed = id_token(msgid_seed);
    uint64_t h = fnv1a(to_email, fnv1a(msgid_seed ? msgid_seed : "", 0xcbf29ce484222325ULL));
    char *dom = id_token(email_domain(from_email));
    char *msgid = xasprintf("<%s.%016llx@%s>", seed, (unsigned long long)h, dom);
    char *from = format_mailbox(from_name, from_email, 6);
    char *text = crlf(body ? body : "");
    char *enc = imip_base64_encode_lines(text, strlen(text));
    strbuf_t b;
    strbuf_init(&b);
    put_headers(&b, from, to_email, subject ? subject : "", date, msgid);
    strbuf_printf(&b, "Content-Type: text/plain; charset=UTF-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n%s", enc);
    out->message_id = msgid;
    out->from = xstrdup(from_email);
    out->rcpt = xstrdup(to_email);
    out->subject = imip_header_sanitize(subject);
    out->len = b.len;
    out->raw = strbuf_detach(&b);
    free(seed); free(dom); free(from); free(text); free(enc);
    return true;
}

/* ----------------------------------------------------- REPLY parsing */

typedef struct mime_part {
    const char *hdr;  size_t hdr_len;
    const char *body; size_t body_len;
} mime_part_t;

static void split_part(const char *s, size_t n, mime_part_t *p)
{
    p->hdr = s;
    p->hdr_len = n;
    p->body = s + n;
    p->body_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n') continue;
        size_t j = i + 1;
        if (j < n && s[j] == '\r') j++;
        if (j < n && s[j] == '\n') {
            p->hdr_len = i + 1;
            p->body = s + j + 1;
            p->body_len = n - (j + 1);
            return;
        }
        if (j == n) { p->hdr_len = n; return; }
    }
    if (n == 0) p->hdr_len = 0;
}

/* Unfolded value of header `name` (malloc'd) or NULL. */
static char *header_value(const mime_part_t *p, const char *name)
{
    size_t nl = strlen(name);
    const char *s = p->hdr, *end = p->hdr + p->hdr_len;
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) eol = end;
        if ((size_t)(eol - s) > nl && strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
            strbuf_t b;
            strbuf_init(&b);
            const char *v = s + nl + 1;
            for (;;) {
                for (const char *q = v; q < eol; q++)
                    if (*q != '\r') strbuf_putc(&b, *q == '\t' ? ' ' : *q);
                if (eol + 1 < end && (eol[1] == ' ' || eol[1] == '\t')) {
                    v = eol + 1;
                    eol = memchr(v, '\n', (size_t)(end - v));
                    if (!eol) eol = end;
                    continue;
                }
                break;
            }
            char *out = strbuf_detach(&b);
            char *t = out;
            while (*t == ' ') t++;
            memmove(out, t, strlen(t) + 1);
            size_t l = strlen(out);
            while (l && out[l - 1] == ' ') out[--l] = '\0';
            return out;
        }
        s = eol + 1;
    }
    return NULL;
}

/* How many header fields named `name` the block holds. */
static int header_count(const mime_part_t *p, const char *name)
{
    size_t nl = strlen(name);
    int n = 0;
    const char *s = p->hdr, *end = p->hdr + p->hdr_len;
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) eol = end;
        if ((size_t)(eol - s) > nl && strncasecmp(s, name, nl) == 0 && s[nl] == ':') n++;
        s = eol + 1;
    }
    return n;
}

/* Parameter `param` of a structured header value (Content-Type). */
static char *header_param(const char *value, const char *param)
{
    size_t pl = strlen(param);
    const char *s = value ? strchr(value, ';') : NULL;
    while (s) {
        s++;
        while (*s == ' ') s++;
        if (strncasecmp(s, param, pl) == 0 && s[pl] == '=') {
            const char *v = s + pl + 1;
            if (*v == '"') {
                const char *e = strchr(v + 1, '"');
                return e ? xstrndup(v + 1, (size_t)(e - v - 1)) : NULL;
            }
            size_t n = strcspn(v, "; ");
            return xstrndup(v, n);
        }
        s = strchr(s, ';');
    }
    return NULL;
}

static bool ctype_is(const char *ctype, const char *prefix)
{
    return ctype && strncasecmp(ctype, prefix, strlen(prefix)) == 0;
}

static char *decode_body(const mime_part_t *p)
{
    char *cte = header_value(p, "Content-Transfer-Encoding");
    char *out;
    if (cte && strcasecmp(cte, "base64") == 0)
        out = imip_base64_decode(p->body, p->body_len, NULL);
    else if (cte && strcasecmp(cte, "quoted-printable") == 0)
        out = imip_qp_decode(p->body, p->body_len, NULL);
    else
        out = xstrndup(p->body, p->body_len);
    free(cte);
    return out;
}

/* Find "--boundary" at a line start at or after s; NULL if none. */
static const char *find_delim(const char *s, const char *end, const char *delim)
{
    size_t dl = strlen(delim);
    for (const char *p = s; p + dl <= end; p++) {
        if ((p == s || p[-1] == '\n') && memcmp(p, delim, dl) == 0)
            return p;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return NULL;
        p = nl;
    }
    return NULL;
}

static char *find_calendar(const char *s, size_t n, int depth);

static char *walk_multipart(const mime_part_t *p, const char *boundary, int depth)
{
    char *delim = xasprintf("--%s", boundary);
    const char *end = p->body + p->body_len;
    const char *cur = find_delim(p->body, end, delim);
    char *found = NULL;
    while (cur && !found) {
        cur += strlen(delim);
        if (cur + 2 <= end && cur[0] == '-' && cur[1] == '-') break;
        const char *nl = memchr(cur, '\n', (size_t)(end - cur));
        if (!nl) break;
        const char *start = nl + 1;
        const char *next = find_delim(start, end, delim);
        const char *stop = next ? next : end;
        found = find_calendar(start, (size_t)(stop - start), depth + 1);
        cur = next;
    }
    free(delim);
    return found;
}

static char *find_calendar(const char *s, size_t n, int depth)
{
    if (depth > 8) return NULL;
    mime_part_t p;
    split_part(s, n, &p);
    char *ctype = header_value(&p, "Content-Type");
    char *found = NULL;
    if (ctype_is(ctype, "multipart/")) {
        char *boundary = header_param(ctype, "boundary");
        if (boundary && *boundary) found = walk_multipart(&p, boundary, depth);
        free(boundary);
    } else if (ctype_is(ctype, "text/calendar") || ctype_is(ctype, "application/ics")) {
        found = decode_body(&p);
    }
    free(ctype);
    return found;
}

static char *bare_address(const char *v)
{
    if (!v) return NULL;
    const char *lt = strrchr(v, '<');
    char *addr;
    if (lt) {
        const char *gt = strchr(lt, '>');
        addr = gt ? xstrndup(lt + 1, (size_t)(gt - lt - 1)) : xstrdup(lt + 1);
    } else {
        addr = xstrdup(v);
    }
    char *t = addr;
    while (*t == ' ') t++;
    memmove(addr, t, strlen(t) + 1);
    size_t l = strlen(addr);
    while (l && (addr[l - 1] == ' ' || addr[l - 1] == '\r')) addr[--l] = '\0';
    for (char *q = addr; *q; q++) *q = (char)tolower((unsigned char)*q);
    return addr;
}

static char *strip_mailto(const char *v)
{
    if (!v) return NULL;
    if (strncasecmp(v, "mailto:", 7) == 0) v += 7;
    return bare_address(v);
}

static bool read_reply_calendar(const char *ics, imip_reply_t *r, char **err)
{
    icalcomponent *cal = icalparser_parse_string(ics);
    if (!cal) {
        *err = xstrdup("iCalendar を解析できません");
        return false;
    }
    bool ok = false;
    icalcomponent *ev = icalcomponent_isa(cal) == ICAL_VEVENT_COMPONENT ? cal
        : icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    icalproperty *att = ev ? icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY) : NULL;
    if (icalcomponent_get_method(cal) != ICAL_METHOD_REPLY) {
        *err = xstrdup("METHOD:REPLY ではありません");
    } else if (!ev || !icalcomponent_get_uid(ev)) {
        *err = xstrdup("VEVENT または UID がありません");
    } else if (!att) {
        *err = xstrdup("ATTENDEE がありません");
    } else {
        r->uid = xstrdup(icalcomponent_get_uid(ev));
        r->sequence = icalcomponent_get_sequence(ev);
        r->attendee = strip_mailto(icalproperty_get_attendee(att));
        icalparameter *mem = icalproperty_get_first_parameter(att, ICAL_MEMBER_PARAMETER);
        if (mem) r->member = strip_mailto(icalparameter_get_member(mem));
        icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
        const char *pss = ps ? icalparameter_get_xvalue(ps) : NULL;
        if (!pss && ps) pss = icalparameter_enum_to_string(icalparameter_get_partstat(ps));
        if (!pss || !imip_partstat_parse(pss, &r->partstat))
            *err = xstrdup("PARTSTAT がないか不明です");
        else
            ok = true;
    }
    icalcomponent_free(cal);
    return ok;
}

bool imip_parse_reply(const char *raw, size_t len, imip_reply_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    if (!raw || len == 0) {
        *err = xstrdup("メールが空です");
        return false;
    }
    mime_part_t top;
    split_part(raw, len, &top);
    if (header_count(&top, "From") != 1) {
        *err = xstrdup("From: ヘッダーはちょうど1つ必要です (exactly one From: header)");
        imip_reply_free(out);
        return false;
    }
    char *from = header_value(&top, "From");
    out->from = mailbox_parse(from);
    free(from);
    if (!out->from || !imip_valid_email(out->from)) {
        *err = xstrdup("From: はメールアドレス1つだけにしてください "
                       "(From must be exactly one RFC 5322 mailbox)");
        imip_reply_free(out);
        return false;
    }
    char *ics = find_calendar(raw, len, 0);
    if (!ics) {
        *err = xstrdup("text/calendar のパートがありません");
        imip_reply_free(out);
        return false;
    }
    bool ok = read_reply_calendar(ics, out, err);
    free(ics);
    if (!ok) imip_reply_free(out);
    return ok;
}

/* ------------------------------------------------ TNEF and reports */

/* The first part (depth-first) whose Content-Type starts with prefix;
 * *out points into s.  Nested multiparts are followed. */
static bool find_part(const char *s, size_t n, const char *prefix, int depth, mime_part_t *out)
{
    if (depth > 8) return false;
    mime_part_t p;
    split_part(s, n, &p);
    char *ctype = header_value(&p, "Content-Type");
    bool found = false;
    if (ctype_is(ctype, prefix)) {
        *out = p;
        found = true;
    } else if (ctype_is(ctype, "multipart/")) {
        char *boundary = header_param(ctype, "boundary");
        char *delim = boundary && *boundary ? xasprintf("--%s", boundary) : NULL;
        const char *end = p.body + p.body_len;
        const char *cur = delim ? find_delim(p.body, end, delim) : NULL;
        while (cur && !found) {
            cur += strlen(delim);
            if (cur + 2 <= end && cur[0] == '-' && cur[1] == '-') break;
            const char *nl = memchr(cur, '\n', (size_t)(end - cur));
            if (!nl) break;
            const char *next = find_delim(nl + 1, end, delim);
            found = find_part(nl + 1, (size_t)((next ? next : end) - (nl + 1)), prefix,
                              depth + 1, out);
            cur = next;
        }
        free(boundary);
        free(delim);
    }
    free(ctype);
    return found;
}

/*
 * TNEF.  Outlook set to "rich text" wraps its meeting response in
 * winmail.dat (MS-OXTNEF) instead of a text/calendar part.  libytnef can
 * read the container, but the answer lives in MAPI properties
 * (PidTagMessageClass IPM.Schedule.Meeting.Resp.*, the UID inside
 * PidLidGlobalObjectId's "vCal-Uid" blob, PidLidAppointmentSequence), the
 * sender may be an Exchange X.500 name rather than an address, and we
 * have no real Exchange samples to test the mapping against.  Debian's
 * libytnef (2.0) also prints its parse errors to stdout and that code
 * base has a record of memory-safety CVEs on crafted files; TNEF arrives
 * from any sender, so decoding it would need a sandboxed helper process,
 * not the daemon.  A wrong mapping would record a wrong answer, so the
 * reply is refused with a message that tells the agency to use its RSVP
 * link instead.
 */
bool imip_has_tnef(const char *raw, size_t len)
{
    mime_part_t p;
    return raw && find_part(raw, len, "application/ms-tnef", 0, &p);
}

void imip_dsn_free(imip_dsn_t *d)
{
    if (!d) return;
    free(d->verp_local);
    free(d->verp_domain);
    free(d->message_id);
    free(d->action);
    free(d->reason);
    memset(d, 0, sizeof *d);
}

/* "<local>+N@domain" in header value v: N, with local and domain. */
static bool verp_of(const char *v, imip_dsn_t *d)
{
    char *addr = bare_address(v);
    char *plus = addr ? strchr(addr, '+') : NULL;
    char *at = plus ? strchr(plus, '@') : NULL;
    char *end = NULL;
    long long id = plus && at ? strtoll(plus + 1, &end, 10) : 0;
    bool ok = id > 0 && end == at && plus > addr;
    if (ok) {
        d->verp_id = id;
        d->verp_local = xstrndup(addr, (size_t)(plus - addr));
        d->verp_domain = xstrdup(at + 1);
    }
    free(addr);
    return ok;
}

/* The per-recipient blocks of a message/delivery-status body: the first
 * failed one (else the first) gives action and reason. */
static void dsn_fields(const mime_part_t *ds, imip_dsn_t *d)
{
    char *body = decode_body(ds);
    const char *s = body, *end = body + strlen(body);
    bool first = true;            /* the per-message block comes first */
    while (s < end && !d->failed) {
        mime_part_t blk;
        split_part(s, (size_t)(end - s), &blk);
        char *action = header_value(&blk, "Action");
        if (!first && action && (!d->action || strcasecmp(action, "failed") == 0)) {
            char *st = header_value(&blk, "Status");
            char *rc = header_value(&blk, "Final-Recipient");
            char *dg = header_value(&blk, "Diagnostic-Code");
            const char *rcpt = rc && strchr(rc, ';') ? strchr(rc, ';') + 1 : rc;
            while (rcpt && *rcpt == ' ') rcpt++;
            free(d->action);
            free(d->reason);
            d->action = imip_header_sanitize(action);      /* UTF-8 for JSON */
            d->failed = strcasecmp(action, "failed") == 0;
            char *r = xasprintf("%s %s: %s", st ? st : "?", rcpt ? rcpt : "?", dg ? dg : action);
            d->reason = imip_header_sanitize(r);
            free(r); free(st); free(rc); free(dg);
        }
        free(action);
        first = false;
        if (blk.body_len == 0) break;
        s = blk.body;
    }
    free(body);
}

bool imip_parse_dsn(const char *raw, size_t len, imip_dsn_t *out)
{
    memset(out, 0, sizeof *out);
    mime_part_t top, ds, orig;
    if (!raw || !find_part(raw, len, "message/delivery-status", 0, &ds)) return false;
    split_part(raw, len, &top);
    static const char *const rcpt_headers[] = { "To", "Delivered-To", "X-Original-To", NULL };
    for (int i = 0; rcpt_headers[i] && !out->verp_id; i++) {
        char *v = header_value(&top, rcpt_headers[i]);
        if (v) verp_of(v, out);
        free(v);
    }
    dsn_fields(&ds, out);
    if (find_part(raw, len, "text/rfc822-headers", 0, &orig) ||
        find_part(raw, len, "message/rfc822", 0, &orig)) {
        mime_part_t inner;
        split_part(orig.body, orig.body_len, &inner);
        char *mid = header_value(&inner, "Message-ID");
        out->message_id = mid;            /* case kept: ids are case-sensitive */
    }
    return true;
}

/* ------------------------------------------------------- .ics feeds */

char *imip_feed_calendar(const imip_meeting_t *ms, const bool *cancelled,
                         size_t n, const char *name)
{
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "BEGIN:VCALENDAR\r\nPRODID:-//tsunagu//tsunagu 1.0//JA\r\n"
                    "VERSION:2.0\r\nCALSCALE:GREGORIAN\r\n");
    if (name) {
        char *n2 = imip_ical_escape_text(name);
        ical_line(&b, "X-WR-CALNAME:%s", n2);
        free(n2);
    }
    strbuf_puts(&b, vtimezone_tokyo);
    for (size_t i = 0; i < n; i++) {
        const imip_meeting_t *m = &ms[i];
        char st[20], en[20], stamp[20];
        ical_local(m->start, st);
        ical_local(m->end, en);
        ical_utc(m->dtstamp, stamp);
        char *uid = imip_header_sanitize(m->uid);
        char *sum = summary_of(m);
        char *esum = imip_ical_escape_text(sum);
        strbuf_puts(&b, "BEGIN:VEVENT\r\n");
        ical_line(&b, "UID:%s", uid);
        ical_line(&b, "SEQUENCE:%d", m->sequence);
        ical_line(&b, "DTSTAMP:%s", stamp);
        ical_line(&b, "DTSTART;TZID=Asia/Tokyo:%s", st);
        ical_line(&b, "DTEND;TZID=Asia/Tokyo:%s", en);
        ical_line(&b, "SUMMARY:%s", esum);
        ical_line(&b, "STATUS:%s", cancelled && cancelled[i] ? "CANCELLED" : "CONFIRMED");
        strbuf_puts(&b, "CLASS:CONFIDENTIAL\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n");
        free(uid); free(sum); free(esum);
    }
    strbuf_puts(&b, "END:VCALENDAR\r\n");
    return strbuf_detach(&b);
}
