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

#include "config.h"
#include "log.h"
#include "util.h"

const config_key_t config_keys[] = {
    {"LISTEN", "127.0.0.1:8080", "address:port the HTTP API listens on"},
    {"DATABASE", "tsunagu.db", "SQLite database file (created if missing)"},
    {"ADMIN_TOKEN", NULL, "bearer token accepted as admin (empty = none)"},
    {"NOW", NULL, "ISO-8601 clock override for tests and demos"},
    {"SECRETS", NULL, "0600 file of per-feed credentials: \"feed_id user:password\""},
    {"MAX_FEED_BYTES", "10M", "largest feed body accepted (k/M/G suffixes)"},
    {"POLL_INTERVAL", "300", "seconds between polls of one feed (+-10% jitter)"},
    {"FETCH_TIMEOUT", "30", "seconds before one feed fetch is abandoned"},
    {"MAX_CONCURRENT_FETCHES", "16", "feed fetches in flight at once"},
    {"FILE_FEEDS_DIR", NULL, "folder local calendar files (file:// or /path) must be in (unset = anywhere)"},
    {"DRAIN_SECONDS", "10", "on SIGTERM, wait this long for in-flight work"},
    {"CHECKPOINT_INTERVAL", "30", "seconds between SQLite WAL checkpoints (0 = SQLite's automatic ones)"},
    {"MAX_BODY_BYTES", "8M", "largest HTTP request body accepted"},
    {"LOG_LEVEL", "info", "debug, info, warn or error"},
    {"SESSION_IDLE", "1800", "seconds without a request before a browser session ends"},
    {"SESSION_MAX", "28800", "seconds after login when a browser session ends in any case"},
    {"LOGIN_DELAY_MS", "1000", "milliseconds a failed login waits; doubles per recent failure (to 30 s)"},
    /* other modules: add keys here (and to contrib/tsunagud.conf.sample) */
    {"RULES", NULL, "lead-agency rule file (default: the shipped default.rules)"},
    {"CASES_DIR", NULL, "folder of case JSON files the meetings module reads"},
    {"MAIL_TRANSPORT", NULL, "smtp, maildir or file (default: smtp when SMTP_URL is set, else file)"},
    {"MAIL_PATH", NULL, "maildir folder or mbox file for MAIL_TRANSPORT maildir/file"},
    {"SMTP_URL", NULL, "smtp://host:port used to send iMIP invitations"},
    {"SMTP_USER", NULL, "SMTP user name"},
    {"SMTP_PASSWORD", NULL, "SMTP password"},
    {"SMTP_STARTTLS", NULL, "try, always (= require) or never (= no) [try]"},
    {"SMTP_INSECURE", NULL, "skip TLS certificate checks (tests only)"},
    {"SMTP_TIMEOUT", NULL, "seconds per SMTP delivery [60]"},
    {"SMTP_FROM", NULL, "envelope sender / From: of invitation mail"},
    {"SECRETARIAT_NAME", NULL, "organizer name in invitations"},
    {"PUBLIC_URL", NULL, "base URL used in per-attendee reply links"},
    {"LINK_SECRET", NULL, "HMAC key for signed reply links"},
    {"RSVP_TTL", NULL, "seconds a reply link stays valid after the meeting ends [86400]"},
    {"MONITOR_INTERVAL", NULL, "seconds between follow-up checks [60]"},
    {"OUTBOX_RETRY_SECONDS", NULL, "first retry delay of undelivered mail [30]"},
    {"OUTBOX_RETRY_MAX", NULL, "longest retry delay [3600]"},
    {"OUTBOX_MAX_AGE", NULL, "give up on a message after this many seconds [172800]"},
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
    if (!known_key(key))
        log_warn("%s:%d: unknown config key %s (kept)", path, lineno, key);
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
