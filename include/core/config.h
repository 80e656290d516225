/* SPDX-License-Identifier: MIT */
/*
 * config.h - tsunagud configuration: "KEY = value" lines, env overrides.
 *
 * The file (-c FILE) holds one `KEY = value` per line; '#' starts a
 * comment line; keys are case-insensitive (stored upper-case); values are
 * trimmed and may be wrapped in double quotes.  Every key can be
 * overridden by the environment variable TSUNAGU_<KEY>, which wins.
 *
 * Known keys and their defaults live in ONE table in daemon/core/config.c
 * (config_keys[]); adding a key is adding one line there (and to
 * contrib/tsunagud.conf.sample, README and the man page).  An unknown key
 * in the file, or an unknown TSUNAGU_* variable, is refused with the
 * nearest known key (「SMTP_URl は不明な設定です。SMTP_URL ですか?」):
 * a misspelt key must never silently fall back to its default.
 */
#ifndef TSUNAGU_CONFIG_H
#define TSUNAGU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config config_t;

typedef struct config_key {
    const char *key;          /* upper-case, without TSUNAGU_ */
    const char *def;          /* default value or NULL */
    const char *help;         /* one line for docs/--help */
} config_key_t;

extern const config_key_t config_keys[];   /* terminated by {NULL} */

/* path may be NULL (env + defaults only).  NULL + err on a bad file. */
config_t *config_load(const char *path, char *err, size_t errlen);
void      config_free(config_t *c);

/* Value after env override, else file, else table default, else NULL. */
const char *config_get(const config_t *c, const char *key);
/* Same with a caller default for keys not in the table. */
const char *config_str(const config_t *c, const char *key, const char *def);
/* Integer value; def when unset; false+err via *ok when not a number. */
long        config_int(const config_t *c, const char *key, long def, bool *ok);
/* Same with the table's default (the one place defaults are written). */
long        config_num(const config_t *c, const char *key, bool *ok);
/* false + a Japanese message naming the variable when the environment
 * holds a TSUNAGU_* variable that is neither a key nor one of the CLI's
 * and tests' own (TSUNAGU_URL, TSUNAGU_TOKEN, TSUNAGU_DEMO_*, ...). */
bool        config_check_env(char *err, size_t errlen);
/* "KEY は不明な設定です。NEAR ですか?" for an unknown key. */
void        config_unknown_message(const char *key, char *out, size_t outlen);
bool        config_bool(const config_t *c, const char *key, bool def);
/* Byte sizes accept suffixes k, M, G ("10M"). */
long long   config_size(const config_t *c, const char *key, long long def);

/* ADMIN_TOKEN and LINK_SECRET: each, when set (file or env), is at least
 * CONFIG_SECRET_MIN_LEN characters, and a config file (path, may be NULL)
 * holding one (or SMTP_PASSWORD) must not be readable by group or others.  false + a
 * Japanese err naming the key otherwise; tsunagud refuses to start and a
 * SIGHUP reload keeps the old config. */
#define CONFIG_SECRET_MIN_LEN 32
bool        config_check_secrets(const config_t *c, const char *path, char *err, size_t errlen);

#endif
