/* SPDX-License-Identifier: MIT */
/*
 * cli_demo.c - `tsunagu demo-city SRC DST`: a copy of a fixture city whose
 * calendars are moved to the current week, so the demo (`make run`) shows
 * meaningful busy time whatever today's date is.
 *
 * The shift is a whole number of weeks (weekdays stay weekdays): the
 * Monday of the city's `now` is moved to the Monday of today.  Every
 * 8-digit date YYYYMMDD with a year >= 2000 in the .ics files (DTSTART,
 * DTEND, EXDATE, RDATE, RECURRENCE-ID, UNTIL, FREEBUSY periods...) is
 * shifted; VTIMEZONE rules (1970...) are left alone.  Lines are unfolded
 * first so a folded date cannot be missed.  In agencies.json the `now`
 * is shifted the same way and the `closed_days` lists are dropped, so the
 * 年末年始 default applies to whichever year the demo runs in.
 *
 * `tsunagu demo-mail FILE` prints what an invitation in the demo's maildir
 * says, for people who do not read raw MIME: the RFC 2047 headers decoded,
 * the Japanese text part decoded (base64 or quoted-printable), and the
 * key lines of the text/calendar part.  It exits 1 unless the mail holds a
 * text/calendar part whose iCalendar says METHOD:REQUEST, so the demo
 * fails loudly when no real invitation was delivered.  It reads only the
 * layout the daemon writes (imip.c: multipart/mixed { multipart/alternative
 * { text/plain, text/calendar }, application/ics }, nested multiparts
 * followed), not any mail.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "imip.h"
#include "timeutil.h"
#include "util.h"

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Unfold "CRLF + space" continuations. */
static char *unfold(const char *in)
{
    strbuf_t b;
    strbuf_init(&b);
    for (const char *p = in; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
            p += 2;
            continue;
        }
        if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t')) {
            p += 1;
            continue;
        }
        strbuf_putc(&b, *p);
    }
    return b.s ? strbuf_detach(&b) : xstrdup("");
}

char *cli_demo_shift_ics(const char *in, int64_t days)
{
    char *text = unfold(in);
    size_t n = strlen(text);
    for (size_t i = 0; i + 8 <= n; i++) {
        bool boundary_before = i == 0 || !(text[i - 1] >= '0' && text[i - 1] <= '9');
        bool boundary_after = i + 8 == n || !(text[i + 8] >= '0' && text[i + 8] <= '9');
        if (!boundary_before || !boundary_after || !digits(text + i, 8))
            continue;
        int y = atoi((char[5]){text[i], text[i + 1], text[i + 2], text[i + 3], 0});
        int m = atoi((char[3]){text[i + 4], text[i + 5], 0});
        int d = atoi((char[3]){text[i + 6], text[i + 7], 0});
        if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
            continue;
        civil_from_days(days_from_civil(y, m, d) + days, &y, &m, &d);
        char buf[9];
        snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
        memcpy(text + i, buf, 8);
        i += 7;
    }
    return text;
}

static int64_t monday_of(int64_t day)
{
    return day - (weekday_of_day(day) + 6) % 7;
}

static int shift_calendars(const char *src, const char *dst, int64_t days)
{
    char *sdir = xasprintf("%s/calendars", src), *ddir = xasprintf("%s/calendars", dst);
    mkdir(ddir, 0755);
    DIR *d = opendir(sdir);
    int count = 0;
    if (!d) {
        fprintf(stderr, "エラー: %s を開けません: %s\n", sdir, strerror(errno));
        count = -1;
    }
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".ics") != 0)
            continue;
        char *in = xasprintf("%s/%s", sdir, e->d_name), *out = xasprintf("%s/%s", ddir, e->d_name);
        char *text = read_file(in, NULL);
        char *shifted = text ? cli_demo_shift_ics(text, days) : NULL;
        FILE *f = shifted ? fopen(out, "w") : NULL;
        if (f) {
            fputs(shifted, f);
            fclose(f);
            count++;
        } else
            fprintf(stderr, "エラー: %s → %s: %s\n", in, out, strerror(errno));
        free(text);
        free(shifted);
        free(in);
        free(out);
    }
    if (d)
        closedir(d);
    free(sdir);
    free(ddir);
    return count;
}

static int v_demo_city(cli_t *c, int argc, char **argv)
{
    const char *src = cli_arg(argc, argv, 0), *dst = cli_arg(argc, argv, 1);
    if (!src || !dst) {
        fprintf(stderr, "使い方 (usage): tsunagu demo-city SRC_DIR DST_DIR\n");
        return 2;
    }
    char *in = xasprintf("%s/agencies.json", src);
    json_error_t je;
    json_t *doc = json_load_file(in, 0, &je);
    if (!doc) {
        fprintf(stderr, "エラー: %s を読めません: %s\n", in, je.text);
        free(in);
        return 1;
    }
    free(in);
    const tz_t *tz = tz_default();
    int64_t ref;
    const char *now = json_string_value(json_object_get(doc, "now"));
    if (!now || !tu_parse_iso8601(now, tz, &ref))
        ref = tu_now();
    int64_t days = monday_of(tz_local_day(tz, tu_now(), NULL)) - monday_of(tz_local_day(tz, ref, NULL));
    char iso[TU_ISO_LEN];
    json_object_set_new(doc, "now", json_string(tu_format_iso8601(ref + days * 86400, tz, iso)));
    json_object_del(doc, "closed_days");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "agencies"), i, a)
        json_object_del(a, "closed_days");
    mkdir(dst, 0755);
    char *out = xasprintf("%s/agencies.json", dst);
    int rc = json_dump_file(doc, out, JSON_INDENT(2)) == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "エラー: %s に書けません\n", out);
    free(out);
    json_decref(doc);
    int n = rc ? -1 : shift_calendars(src, dst, days);
    if (n < 0)
        return 1;
    printf("デモ用の市を作りました: %s (カレンダー %d 件を %+lld 日ずらしました)\n", dst, n,
           (long long)days);
    return 0;
}

/* ---------------------------------------------------------- demo-mail */

/* Where the header block of s ends and the body begins (blank line). */
static const char *body_of(const char *s, size_t *hdr_len)
{
    const char *crlf = strstr(s, "\r\n\r\n"), *lf = strstr(s, "\n\n");
    const char *end = crlf && (!lf || crlf < lf) ? crlf : lf;
    *hdr_len = end ? (size_t)(end - s) : strlen(s);
    return end ? end + (end == crlf ? 4 : 2) : s + strlen(s);
}

/* The unfolded value of header `name` in the block hdr[0..n), or NULL. */
static char *header_get(const char *hdr, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = hdr; p < hdr + n;) {
        const char *eol = memchr(p, '\n', (size_t)(hdr + n - p));
        if (!eol)
            eol = hdr + n;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            strbuf_t v;
            strbuf_init(&v);
            const char *q = p + nl + 1;
            for (;;) {
                while (q < eol && (*q == ' ' || *q == '\t'))
                    q++;
                const char *e = eol > q && eol[-1] == '\r' ? eol - 1 : eol;
                if (v.len && e > q)
                    strbuf_putc(&v, ' ');
                strbuf_add(&v, q, (size_t)(e - q));
                if (eol >= hdr + n || (eol[1] != ' ' && eol[1] != '\t'))
                    break;
                q = eol + 1;
                eol = memchr(q, '\n', (size_t)(hdr + n - q));
                if (!eol)
                    eol = hdr + n;
            }
            return strbuf_detach(&v);
        }
        p = eol + 1;
    }
    return NULL;
}

/* RFC 2047: "=?UTF-8?B?...?=" and "=?UTF-8?Q?...?=" words decoded; the
 * white space between two adjacent encoded words dropped. */
static char *decode_words(const char *v)
{
    strbuf_t b;
    strbuf_init(&b);
    bool last_encoded = false;
    const char *p = v;
    while (*p) {
        const char *q1 = NULL, *q2 = NULL, *end = NULL;
        if (p[0] == '=' && p[1] == '?' && (q1 = strchr(p + 2, '?')) && q1[1] && q1[2] == '?' &&
            (end = strstr(q1 + 3, "?="))) {
            q2 = q1 + 3;
            char enc = (char)toupper((unsigned char)q1[1]);
            size_t n, k = (size_t)(end - q2);
            char *dec = NULL;
            if (enc == 'B')
                dec = imip_base64_decode(q2, k, &n);
            else {
                char *t = xstrndup(q2, k);
                for (char *c = t; *c; c++)
                    if (*c == '_')
                        *c = ' ';
                dec = imip_qp_decode(t, k, &n);
                free(t);
            }
            strbuf_add(&b, dec, n);
            free(dec);
            p = end + 2;
            last_encoded = true;
            continue;
        }
        if (last_encoded && (*p == ' ' || *p == '\t')) {
            const char *w = p;
            while (*w == ' ' || *w == '\t')
                w++;
            if (w[0] == '=' && w[1] == '?') {
                p = w;
                continue;
            }
        }
        strbuf_putc(&b, *p++);
        last_encoded = false;
    }
    return strbuf_detach(&b);
}

/* The boundary="..." parameter of a multipart Content-Type, or NULL. */
static char *boundary_of(const char *ctype)
{
    const char *p = ctype ? strcasestr(ctype, "boundary=") : NULL;
    if (!p)
        return NULL;
    p += strlen("boundary=");
    if (*p == '"') {
        const char *e = strchr(p + 1, '"');
        return e ? xstrndup(p + 1, (size_t)(e - p - 1)) : NULL;
    }
    size_t n = strcspn(p, "; \t\r\n");
    return n ? xstrndup(p, n) : NULL;
}

/* A part's body decoded per its Content-Transfer-Encoding, CRLF -> LF. */
static char *decode_part(const char *hdr, size_t hn, const char *body, size_t bn)
{
    char *cte = header_get(hdr, hn, "Content-Transfer-Encoding");
    size_t n;
    char *raw = cte && !strcasecmp(cte, "base64")           ? imip_base64_decode(body, bn, &n)
              : cte && !strcasecmp(cte, "quoted-printable") ? imip_qp_decode(body, bn, &n)
                                                             : xstrndup(body, bn);
    free(cte);
    char *w = raw;
    for (const char *r = raw; *r; r++)
        if (!(r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    *w = '\0';
    return raw;
}

static void print_indented(const char *text, const char *prefix)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        printf("%s%.*s\n", prefix, (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* The METHOD line and the VEVENT's key lines (unfolded), indented. */
static void print_ical_lines(const char *ical)
{
    static const char *const keys[] = {"UID:", "SEQUENCE:", "DTSTART", "DTEND", "SUMMARY",
                                       "ORGANIZER", "ATTENDEE", NULL};
    char *text = unfold(ical);
    bool in_event = false;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (!strncmp(p, "BEGIN:VEVENT", 12) || !strncmp(p, "END:VEVENT", 10))
            in_event = p[0] == 'B';
        bool show = !strncmp(p, "METHOD:", 7);
        for (size_t k = 0; in_event && keys[k]; k++)
            show |= !strncmp(p, keys[k], strlen(keys[k]));
        if (show)
            printf("    %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
    free(text);
}

static bool has_method_request(const char *ical)
{
    char *text = unfold(ical);
    bool found = false;
    for (const char *p = text; *p && !found;) {
        size_t n = strcspn(p, "\r\n");
        found = n == strlen("METHOD:REQUEST") && !strncmp(p, "METHOD:REQUEST", n);
        p += n;
        p += strspn(p, "\r\n");
    }
    free(text);
    return found;
}

static bool show_multipart(const char *body, const char *ctype, int depth);

/* Print one part (a multipart: each of its parts); true when it is, or
 * holds, a text/calendar REQUEST. */
static bool show_part(const char *part, size_t len, int depth)
{
    char *copy = xstrndup(part, len);
    size_t hn;
    const char *body = body_of(copy, &hn);
    char *ctype = header_get(copy, hn, "Content-Type");
    char *text = decode_part(copy, hn, body, strlen(body));
    bool request = false;
    if (ctype && !strncasecmp(ctype, "multipart/", 10) && depth < 4) {
        request = show_multipart(body, ctype, depth + 1);
    } else if (ctype && !strncasecmp(ctype, "text/plain", 10)) {
        printf("本文 (text part, %s):\n", ctype);
        print_indented(text, "  | ");
    } else if (ctype && !strncasecmp(ctype, "text/calendar", 13)) {
        request = has_method_request(text);
        printf("予定表 (calendar part, %s): %s\n", ctype,
               request ? "METHOD:REQUEST あり (invitation)" : "METHOD:REQUEST なし");
        print_ical_lines(text);
    } else
        printf("その他のパート (other part): %s\n", ctype ? ctype : "(Content-Type なし)");
    free(ctype);
    free(text);
    free(copy);
    return request;
}

static bool boundary_of_is_set(const char *ctype)
{
    char *b = boundary_of(ctype);
    bool set = b != NULL;
    free(b);
    return set;
}

/* Each part between "--boundary" lines of a multipart body. */
static bool show_multipart(const char *body, const char *ctype, int depth)
{
    char *boundary = boundary_of(ctype);
    if (!boundary) return false;
    char *delim = xasprintf("--%s", boundary);
    bool request = false;
    const char *p = strstr(body, delim);
    while (p) {
        p += strlen(delim);
        if (p[0] == '-' && p[1] == '-')
            break;                                   /* closing delimiter */
        p += strspn(p, "\r\n");
        const char *next = strstr(p, delim);
        request |= show_part(p, next ? (size_t)(next - p) : strlen(p), depth);
        p = next;
    }
    free(delim);
    free(boundary);
    return request;
}

static void print_header(const char *hdr, size_t n, const char *name, const char *label)
{
    char *v = header_get(hdr, n, name);
    char *d = v ? decode_words(v) : NULL;
    printf("%s %s\n", label, d ? d : "-");
    free(v);
    free(d);
}

static int v_demo_mail(cli_t *c, int argc, char **argv)
{
    const char *path = cli_arg(argc, argv, 0);
    if (!path) {
        fprintf(stderr, "使い方 (usage): tsunagu demo-mail MAIL_FILE\n");
        return 2;
    }
    size_t len;
    char *raw = read_file(path, &len);
    if (!raw) {
        fprintf(stderr, "エラー: %s を読めません: %s\n", path, strerror(errno));
        return 1;
    }
    size_t hn;
    const char *body = body_of(raw, &hn);
    print_header(raw, hn, "Subject", "件名 (Subject):");
    print_header(raw, hn, "From", "差出人 (From):");
    print_header(raw, hn, "To", "宛先 (To):");
    print_header(raw, hn, "Message-ID", "Message-ID:");
    char *ctype = header_get(raw, hn, "Content-Type");
    bool request = ctype && boundary_of_is_set(ctype) ? show_multipart(body, ctype, 0)
                                                      : show_part(raw, len, 0);
    free(ctype);
    free(raw);
    if (!request) {
        fprintf(stderr, "エラー: %s に text/calendar (METHOD:REQUEST) の招待がありません\n", path);
        return 1;
    }
    return 0;
}

const cli_verb_t cli_demo_verbs[] = {
    {"demo-city", "SRC_DIR DST_DIR",
     "デモ用に市のカレンダーを今週の日付へずらして複製する (demo city for today)", v_demo_city},
    {"demo-mail", "MAIL_FILE",
     "招待メールの件名・本文・予定表を読める形で表示する (summarise an invitation)", v_demo_mail},
    {NULL, NULL, NULL, NULL}
};
