/* SPDX-License-Identifier: MIT */
/*
 * config.c - "KEY = value" configuration with TSUNAGU_<KEY> overrides.
 *
 * config_keys[] below is the one list of known keys with defaults; it also
 * feeds `tsunagud --help`.  The file is read into a small key/value array;
 * lookups check the environment first (TSUNAGU_<KEY>), then the file, then
 * the table default.  Reading the environment at lookup time means a
 * SIGHUP reload sees changes to the file while env overrides keep winning.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "util.h"

const config_key_t config_keys[] = {
    {"LISTEN", "127.0.0.1:8080", "address:port the HTTP API listens on"},
    {"DATABASE", "tsunagu.db", "SQLite database file (created if missing)"},
    {"ADMIN_TOKEN", NULL, "bearer token accepted as admin, at least 32 characters (empty = none)"},
    {"NOW", NULL, "ISO-8601 clock override for tests and demos"},
    {"SECRETS", NULL, "0600 file of per-feed credentials: \"feed_id user:password\""},
    {"MAX_FEED_BYTES", "10M", "largest feed body accepted (k/M/G suffixes)"},
    {"POLL_INTERVAL", "300", "seconds between polls of one feed (+-10% jitter)"},
    {"FETCH_TIMEOUT", "30", "seconds before one feed fetch is abandoned"},
    {"MAX_CONCURRENT_FETCHES", "128", "feed fetches in flight at once (>= 2 x feeds x fetch seconds / POLL_INTERVAL)"},
    {"MAX_FETCHES_PER_HOST", "16", "feed fetches in flight to one server at once (0 = no limit)"},
    {"PARSE_WORKERS", "0", "threads that parse iCalendar feeds off the event loop (0 = one per CPU)"},
    {"REFRESH_MIN_INTERVAL", "60", "seconds a manual feed refresh must wait after the feed's last fetch (staff may ?force=1)"},
    {"FEED_ALLOW_HOSTS", NULL, "hosts (any port) a feed's redirects and CalDAV links may lead to besides the feed URL's own origin"},
    {"FEED_CA_FILE", NULL, "PEM bundle of the CAs https feeds are checked against instead of the system's (a city's internal CA)"},
    {"FILE_FEEDS_DIR", NULL, "folder local calendar files (file:// or /path) must be in (unset = anywhere)"},
    {"DRAIN_SECONDS", "10", "on SIGTERM, wait this long for in-flight work"},
    {"CHECKPOINT_INTERVAL", "30", "seconds between SQLite WAL checkpoints (0 = SQLite's automatic ones)"},
    {"CHECKPOINT_PAGES", "1000", "WAL pages (4 KiB) written between background checkpoints"},
    {"MAX_BODY_BYTES", "8M", "largest HTTP request body accepted"},
    {"MAX_CONNECTIONS", "1024", "HTTP connections open at once (kept below the descriptor limit)"},
    {"HEAD_TIMEOUT", "10", "seconds a request head may take; a body gets MAX_BODY_BYTES at 16 KiB/s more"},
    {"LOG_LEVEL", "info", "debug, info, warn or error"},
    {"SESSION_IDLE", "1800", "seconds without a request before a browser session ends"},
    {"SESSION_MAX", "28800", "seconds after login when a browser session ends in any case"},
    {"LOGIN_DELAY_MS", "1000", "milliseconds a failed login waits; doubles per recent failure (to 30 s)"},
    /* other modules: add keys here (and to contrib/tsunagud.conf.sample) */
    {"RULES", NULL, "lead-agency rule file (default: the shipped default.rules, in ./rules/ or next to the program)"},
    {"CASES_DIR", NULL, "folder of case JSON files the meetings module reads"},
    {"MAIL_TRANSPORT", NULL, "smtp, maildir or file (default: smtp when SMTP_URL is set, else file)"},
    {"MAIL_PATH", NULL, "maildir folder or mbox file for MAIL_TRANSPORT maildir/file"},
    {"SMTP_URL", NULL, "smtp://host:port used to send iMIP invitations"},
    {"SMTP_USER", NULL, "SMTP user name"},
    {"SMTP_PASSWORD", NULL, "SMTP password"},
    {"SMTP_STARTTLS", "try", "try, always (= require) or never (= no)"},
    {"SMTP_INSECURE", NULL, "skip TLS certificate checks (tests only)"},
    {"SMTP_TIMEOUT", "60", "seconds per SMTP delivery"},
    {"SMTP_FROM", NULL, "From: of invitation mail when REPLY_ADDRESS is unset (older setups)"},
    {"REPLY_ADDRESS", NULL, "dedicated reply mailbox piped into `tsunagu reply`: the ORGANIZER and From: of every invitation, never an attendee"},
    {"BOUNCE_ADDRESS", NULL, "envelope sender for bounces, sent as VERP local+<outbox id>@domain; pipe it into `tsunagu reply` too (unset = the From: address)"},
    {"HELO_NAME", NULL, "name sent in SMTP EHLO/HELO (default: the domain of REPLY_ADDRESS, else of SMTP_FROM)"},
    {"SECRETARIAT_NAME", NULL, "organizer name in invitations"},
    {"PUBLIC_URL", NULL, "base URL used in per-attendee reply links"},
    {"LINK_SECRET", NULL, "HMAC key for signed reply links, at least 32 characters"},
    {"RSVP_TTL", "86400", "seconds a reply link stays valid after the meeting ends"},
    {"MONITOR_INTERVAL", "60", "seconds between follow-up checks"},
    {"OUTBOX_RETRY_SECONDS", "30", "first retry delay of undelivered mail"},
    {"OUTBOX_RETRY_MAX", "3600", "longest retry delay"},
    {"OUTBOX_MAX_AGE", "172800", "give up on a message after this many seconds"},
    {NULL, NULL, NULL}
};

typedef struct kv {
    char *key, *value;
} kv_t;

struct config {
    kv_t  *v;
    size_t n;
};

static const config_key_t *known_key(const char *key)
{
    for (const config_key_t *k = config_keys; k->key; k++)
        if (strcasecmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* Levenshtein distance of two short upper-case keys (0..64 chars). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + (toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]));
            size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known key closest to an unknown one, or NULL when none is close
 * enough to be a likely misspelling (at most 1 edit in 4 characters). */
static const char *nearest_key(const char *key)
{
    const char *best = NULL;
    size_t best_d = (strlen(key) + 3) / 4 + 1;
    for (const config_key_t *k = config_keys; k->key; k++) {
        size_t d = edit_distance(key, k->key);
        if (d < best_d) {
            best_d = d;
            best = k->key;
        }
    }
    return best;
}

void config_unknown_message(const char *key, char *out, size_t outlen)
{
    const char *near = nearest_key(key);
    if (near)
        snprintf(out, outlen, "%s は不明な設定です。%s ですか? (unknown config key)", key, near);
    else
        snprintf(out, outlen, "%s は不明な設定です (unknown config key; see tsunagud --help)", key);
}

/* TSUNAGU_* variables that are not daemon keys: the CLI's and the
 * tests' own.  A prefix ending in '_' matches a family. */
static const char *const reserved_env[] = {
    "URL", "TOKEN", "DEMO_", "ITEST_", "TEST_", "UNDER_VALGRIND", NULL
};

static bool reserved_env_name(const char *name)
{
    for (const char *const *r = reserved_env; *r; r++) {
        size_t n = strlen(*r);
        if ((*r)[n - 1] == '_' ? strncmp(name, *r, n) == 0 : strcmp(name, *r) == 0)
            return true;
    }
    return false;
}

extern char **environ;

bool config_check_env(char *err, size_t errlen)
{
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "TSUNAGU_", 8) != 0)
            continue;
        char name[128];
        size_t n = strcspn(*e + 8, "=");
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, *e + 8, n);
        name[n] = '\0';
        const config_key_t *k = known_key(name);
        if ((k && strcmp(k->key, name) == 0) || reserved_env_name(name))
            continue;               /* getenv is case-sensitive: exact only */
        char what[256];
        config_unknown_message(name, what, sizeof what);
        snprintf(err, errlen, "環境変数 TSUNAGU_%s: %s", name, what);
        return false;
    }
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void config_set(config_t *c, const char *key, const char *value)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0) {
            free(c->v[i].value);
            c->v[i].value = xstrdup(value);
            return;
        }
    c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n].key = xstrdup(key);
    c->v[c->n].value = xstrdup(value);
    c->n++;
}

static bool parse_line(config_t *c, char *line, int lineno, const char *path,
                       char *err, size_t errlen)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
        return true;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s:%d: 「KEY = value」の形式ではありません (expected KEY = value)",
                 path, lineno);
        return false;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
        val[vl - 1] = '\0';
        val++;
    }
    if (*key == '\0') {
        snprintf(err, errlen, "%s:%d: キーが空です (empty key)", path, lineno);
        return false;
    }
    for (char *p = key; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_') {
            snprintf(err, errlen, "%s:%d: キー名が不正です: %s (bad key)", path, lineno, key);
            return false;
        }
        *p = (char)toupper((unsigned char)*p);
    }
    if (!known_key(key)) {
        char what[256];
        config_unknown_message(key, what, sizeof what);
        snprintf(err, errlen, "%s:%d: %s", path, lineno, what);
        return false;
    }
    config_set(c, key, val);
    return true;
}

config_t *config_load(const char *path, char *err, size_t errlen)
{
    config_t *c = xcalloc(1, sizeof *c);
    if (!path)
        return c;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: 設定ファイルを開けません (cannot open): %s", path,
                 strerror(errno));
        config_free(c);
        return NULL;
    }
    char line[4096];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        ok = parse_line(c, line, lineno, path, err, errlen);
    }
    fclose(f);
    if (!ok) {
        config_free(c);
        return NULL;
    }
    return c;
}

void config_free(config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].value);
    }
    free(c->v);
    free(c);
}

const char *config_str(const config_t *c, const char *key, const char *def)
{
    char env[160];
    snprintf(env, sizeof env, "TSUNAGU_%s", key);
    const char *e = getenv(env);
    if (e)
        return e;
    if (c)
        for (size_t i = 0; i < c->n; i++)
            if (strcasecmp(c->v[i].key, key) == 0)
                return c->v[i].value;
    return def;
}

const char *config_get(const config_t *c, const char *key)
{
    const config_key_t *k = known_key(key);
    return config_str(c, key, k ? k->def : NULL);
}

long config_num(const config_t *c, const char *key, bool *ok)
{
    const config_key_t *k = known_key(key);
    long def = k && k->def ? strtol(k->def, NULL, 10) : 0;
    return config_int(c, key, def, ok);
}

long config_int(const config_t *c, const char *key, long def, bool *ok)
{
    const char *v = config_get(c, key);
    if (ok)
        *ok = true;
    if (!v || !*v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *trim(end) != '\0') {
        if (ok)
            *ok = false;
        return def;
    }
    return n;
}

bool config_bool(const config_t *c, const char *key, bool def)
{
    const char *v = config_get(c, key);
    if (!v || !*v)
        return def;
    return strcasecmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
           strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0;
}

long long config_size(const config_t *c, const char *key, long long def)
{
    const char *v = config_get(c, key);
    if (!v || !*v)
        return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (n < 0)
        return def;
    switch (toupper((unsigned char)*end)) {
    case 'K': n *= 1024; end++; break;
    case 'M': n *= 1024 * 1024; end++; break;
    case 'G': n *= 1024LL * 1024 * 1024; end++; break;
    default: break;
    }
    if ((*end == 'B' || *end == 'b'))
        end++;
    return *end ? def : n;
}

/* ---- secrets ------------------------------------------------------------- */

/* Secrets with a minimum length; a config file holding any of these or
 * SMTP_PASSWORD must be private. */
static const char *const secret_keys[] = { "ADMIN_TOKEN", "LINK_SECRET", NULL };
static const char *const private_keys[] = { "ADMIN_TOKEN", "LINK_SECRET", "SMTP_PASSWORD", NULL };

static bool in_file(const config_t *c, const char *key)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (strcasecmp(c->v[i].key, key) == 0 && c->v[i].value[0])
            return true;
    return false;
}

bool config_check_secrets(const config_t *c, const char *path, char *err, size_t errlen)
{
    for (const char *const *k = secret_keys; *k; k++) {
        const char *v = config_get(c, *k);
        if (v && *v && strlen(v) < CONFIG_SECRET_MIN_LEN) {
            snprintf(err, errlen, "%s は%d文字以上にしてください。いまは%zu文字です "
                     "(secret too short; e.g. `openssl rand -hex 32`)", *k,
                     CONFIG_SECRET_MIN_LEN, strlen(v));
            return false;
        }
    }
    for (const char *const *k = private_keys; path && *k; k++) {
        if (!in_file(c, *k))
            continue;
        struct stat st;
        if (stat(path, &st) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return false;
        }
        if (st.st_mode & 077) {
            snprintf(err, errlen, "%s: %s を含む設定ファイルは他人が読めない権限 (0600) にしてください "
                     "(config file holding a secret is group/world accessible, mode %03o)",
                     path, *k, (unsigned)(st.st_mode & 0777));
            return false;
        }
    }
    return true;
}
