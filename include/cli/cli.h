/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the tsunagu command-line client: verbs, HTTP calls, output.
 *
 * Design
 * - Each area exports a verb table `const cli_verb_t cli_<area>_verbs[]`
 *   terminated by {NULL} from its own file (daemon/cli/cli_core.c,
 *   cli_slots.c, cli_rules.c, cli_meetings.c ...).  daemon/cli/cli.c lists
 *   those tables in ONE array (cli_verb_tables[]); add one line there.
 * - A verb gets argc/argv AFTER the verb name (argv[0] is the first
 *   argument) and returns the process exit code (0 ok, 1 API/user error,
 *   2 usage).  Verbs may be two words ("token create"): the name holds
 *   the space and the dispatcher matches the longest name.
 * - The CLI is not the daemon loop, so HTTP uses libcurl easy.
 *   TSUNAGU_URL (default http://127.0.0.1:8080) and TSUNAGU_TOKEN.
 * - Output: Japanese first.  cli_table prints aligned columns counting
 *   East Asian wide characters as two cells.  Errors go to stderr as
 *   "エラー: <message> (HTTP 404 not-found)".
 */
#ifndef TSUNAGU_CLI_H
#define TSUNAGU_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli {
    const char *url;        /* base URL without trailing slash */
    const char *token;      /* may be NULL */
    bool        json;       /* --json: print raw JSON responses */
} cli_t;

typedef struct cli_verb {
    const char *name;       /* "busy", "token create" */
    const char *args;       /* usage after the name: "ID --from T --to T" */
    const char *help;       /* one line, Japanese first */
    int (*run)(cli_t *c, int argc, char **argv);
} cli_verb_t;

extern const cli_verb_t cli_core_verbs[];   /* cli_core.c */
extern const cli_verb_t cli_rules_verbs[];  /* cli_rules.c */
extern const cli_verb_t cli_meetings_verbs[];  /* cli_meetings.c */
extern const cli_verb_t cli_demo_verbs[];   /* cli_demo.c */
extern const cli_verb_t cli_slots_verbs[];  /* cli_slots.c */
extern const cli_verb_t cli_cases_verbs[];  /* cli_cases.c */
extern const cli_verb_t cli_stats_verbs[];  /* cli_stats.c: stats, similar, rules impact */
extern const cli_verb_t cli_users_verbs[];  /* cli_users.c */

/* Entry point (main_tsunagu.c): parses global options, dispatches. */
int cli_main(int argc, char **argv);

/* HTTP: method "GET"/"POST"/"DELETE"...; body may be NULL (steals it).
 * Returns the HTTP status (0 on transport error, message printed) and
 * sets *out to the parsed JSON response (or NULL). */
long cli_call(cli_t *c, const char *method, const char *path, json_t *body,
              json_t **out);
/* Raw variants: body text in (may be NULL), raw response out (malloc'd). */
long cli_call_body(cli_t *c, const char *method, const char *path, const char *body,
                   char **body_out, size_t *len_out);
long cli_call_raw(cli_t *c, const char *method, const char *path,
                  char **body_out, size_t *len_out);
/* body: len bytes of any content sent as Content-Type ctype (e.g. a mail
 * as message/rfc822); the JSON answer in *out, as cli_call. */
long cli_call_bytes(cli_t *c, const char *method, const char *path, const char *body,
                    size_t len, const char *ctype, json_t **out);
/* Prints "エラー: ..." for a non-2xx response; returns 1. */
int  cli_fail(long status, json_t *resp);
/* URL-encode one path segment or query value (malloc'd). */
char *cli_escape(const char *s);
/* "<prefix>/<escaped id><suffix>" (malloc'd), e.g. ("/v1/feeds", id, "/refresh"). */
char *cli_id_path(const char *prefix, const char *id, const char *suffix);
/* cli_call on cli_id_path(prefix, id, suffix). */
long cli_call_id(cli_t *c, const char *method, const char *prefix, const char *id,
                 const char *suffix, json_t *body, json_t **out);
/* One call whose answer must be want: then show(resp) prints it (unless
 * --json, which cli_call printed raw); else cli_fail.  Returns 0 or 1. */
int  cli_call_show(cli_t *c, const char *method, const char *path, json_t *body, long want,
                   void (*show)(const json_t *resp));
/* A verb "VERB ID" that is one such call: METHOD <prefix>/<ID><suffix>
 * answered with want, printed by show; usage from verb and args. */
typedef struct cli_id_call {
    const char *verb, *args;
    const char *method, *prefix, *suffix;
    long        want;
    void      (*show)(const json_t *resp);
} cli_id_call_t;
int  cli_run_id_call(cli_t *c, int argc, char **argv, const cli_id_call_t *k);
/* A verb "VERB ID" that is DELETE <prefix>/<ID>, answered 204: prints
 * before, the ID and after on one line (else cli_fail).  0 or 1. */
int  cli_run_id_delete(cli_t *c, int argc, char **argv, const char *verb, const char *args,
                       const char *prefix, const char *before, const char *after);
/* Send a local file's text as the body, as is (so the daemon's 400 names
 * any faulty field).  Returns the HTTP status, or -1 when the file cannot
 * be read ("エラー: ... を読めません" printed).  *raw gets the response
 * text (malloc'd, NULL on -1), *resp its JSON or NULL. */
long cli_send_file(cli_t *c, const char *method, const char *path, const char *file,
                   char **raw, json_t **resp);
/* Prints "使い方 (usage): tsunagu VERB ARGS" to stderr; returns 2. */
int  cli_usage(const char *verb, const char *args);
/* The string member key of o, or "" when absent. */
const char *cli_jstr(const json_t *o, const char *key);
/* "--name value" or "--name=value"; returns value or NULL. */
const char *cli_opt(int argc, char **argv, const char *name);
/* true if the boolean flag (e.g. "--json", "--feed") is present. */
bool cli_flag(int argc, char **argv, const char *name);
/* true when a calendar url without "://" that `tsunagu import` would
 * resolve as a file next to agencies.json looks like a misspelt URL
 * instead: a ':' before the first '/', "//" right after a word like
 * http, or "www." first ("http//host/x.ics", "https:/host",
 * "www.city.jp/cal.ics"); "calendars//x.ics" is a file. */
bool cli_url_typo(const char *url);
/* The first word of argv that looks like an option ("--name" or
 * "--name=value") but is not one of v's: the "--name" words of v->args,
 * plus --json.  A value after an option that takes one ("--case ID" in
 * args) is skipped, so "--location --x" is fine.  NULL when all are known:
 * `tsunagu feeds --faling` must not print every feed as if it were the
 * failing ones. */
const char *cli_unknown_option(const cli_verb_t *v, int argc, char **argv);
/* Positional argument n (0-based), skipping options: "--x value" pairs,
 * "--x=value", and the boolean flags --json --feed --all --yes --force. */
const char *cli_arg(int argc, char **argv, int n);

/* Tables: set headers, add rows (ncols strings each), print. */
typedef struct cli_table cli_table_t;
cli_table_t *cli_table_new(size_t ncols, const char *const *headers);
void cli_table_row(cli_table_t *t, const char *const *cells);
void cli_table_print(cli_table_t *t);     /* prints and frees */
/* A table with one row per element of arr, added by row(t, i, item)
 * (with cli_table_row); printed and freed.  When arr is empty and none
 * is not NULL, prints the line none instead. */
typedef void (*cli_row_fn)(cli_table_t *t, size_t i, const json_t *item);
void cli_table_each(size_t ncols, const char *const *headers, const json_t *arr, cli_row_fn row,
                    const char *none);
/* Display width of UTF-8 text (wide characters count 2). */
size_t cli_text_width(const char *s);
/* demo-city helper: iCalendar text with every date (year >= 2000)
 * moved by days, lines unfolded first (malloc'd). */
char *cli_demo_shift_ics(const char *ics, int64_t days);
/* Print JSON pretty (for --json). */
void cli_print_json(const json_t *j);

#endif
