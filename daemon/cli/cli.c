/* SPDX-License-Identifier: MIT */
/*
 * cli.c - the tsunagu client's dispatcher and shared helpers.
 *
 * cli_main reads TSUNAGU_URL / TSUNAGU_TOKEN (or --url / --token before
 * the verb), finds the verb with the longest matching name across every
 * table in cli_verb_tables[] ("token create" beats "token"), and runs it
 * with the remaining arguments.  HTTP goes through libcurl easy: this is a
 * one-shot client, not the daemon loop.  Tables are aligned by display
 * width so Japanese names line up in a terminal.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

/* ---- the one list of verb tables ----------------------------------------- */
static const cli_verb_t *const cli_verb_tables[] = {
    cli_core_verbs,
    cli_rules_verbs,
    cli_cases_verbs,
    cli_demo_verbs,
    cli_slots_verbs,
    cli_meetings_verbs,
    cli_stats_verbs,
    cli_users_verbs,
    /* cli_slots_verbs, cli_meetings_verbs ... */
    NULL
};

/* ---- HTTP ---------------------------------------------------------------- */
static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    strbuf_add(arg, p, sz * n);
    return sz * n;
}

long cli_call_raw(cli_t *c, const char *method, const char *path, char **body_out,
                  size_t *len_out)
{
    return cli_call_body(c, method, path, NULL, body_out, len_out);
}

static long http_call(cli_t *c, const char *method, const char *path, const char *body,
                      size_t len, const char *ctype, char **body_out, size_t *len_out);

long cli_call_body(cli_t *c, const char *method, const char *path, const char *body,
                   char **body_out, size_t *len_out)
{
    return http_call(c, method, path, body, body ? strlen(body) : 0, "application/json",
                     body_out, len_out);
}

long cli_call_bytes(cli_t *c, const char *method, const char *path, const char *body,
                    size_t len, const char *ctype, json_t **out)
{
    char *resp = NULL;
    long status = http_call(c, method, path, body, len, ctype, &resp, NULL);
    *out = resp && *resp ? json_loads(resp, 0, NULL) : NULL;
    if (c->json && status && *out && status < 300)
        cli_print_json(*out);
    free(resp);
    return status;
}

/* One request; body (len bytes, any content) sent as ctype when non-NULL. */
static long http_call(cli_t *c, const char *method, const char *path, const char *body,
                      size_t len, const char *ctype, char **body_out, size_t *len_out)
{
    CURL *h = curl_easy_init();
    strbuf_t resp;
    strbuf_init(&resp);
    char *url = xasprintf("%s%s", c->url, path);
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    if (c->token && *c->token) {
        auth = xasprintf("Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    char *ct = body ? xasprintf("Content-Type: %s", ctype) : NULL;
    if (ct)
        hdrs = curl_slist_append(hdrs, ct);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tsunagu-cli");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "エラー: tsunagud に接続できません (%s): %s\n"
                        "  TSUNAGU_URL を確認し、tsunagud が起動しているか確かめてください。\n",
                c->url, *errbuf ? errbuf : curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(auth);
    free(ct);
    free(url);
    if (len_out)
        *len_out = resp.len;
    *body_out = resp.s ? strbuf_detach(&resp) : xstrdup("");
    return status;
}

long cli_call(cli_t *c, const char *method, const char *path, json_t *body, json_t **out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *resp = NULL;
    long status = cli_call_body(c, method, path, text, &resp, NULL);
    free(text);
    *out = resp && *resp ? json_loads(resp, 0, NULL) : NULL;
    if (c->json && status && *out && status < 300) {
        cli_print_json(*out);
    }
    free(resp);
    return status;
}

int cli_fail(long status, json_t *resp)
{
    if (status == 0)
        return 1;   /* transport error already printed */
    const char *msg = json_string_value(json_object_get(resp, "message"));
    const char *code = json_string_value(json_object_get(resp, "error"));
    fprintf(stderr, "エラー: %s (HTTP %ld%s%s)\n", msg ? msg : "予期しない応答です", status,
            code ? " " : "", code ? code : "");
    if (status == 401)
        fprintf(stderr, "  TSUNAGU_TOKEN に有効なトークンを設定してください。\n");
    return 1;
}

char *cli_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = xstrdup(e);
    curl_free(e);
    return r;
}

char *cli_id_path(const char *prefix, const char *id, const char *suffix)
{
    char *e = cli_escape(id), *p = xasprintf("%s/%s%s", prefix, e, suffix);
    free(e);
    return p;
}

long cli_call_id(cli_t *c, const char *method, const char *prefix, const char *id,
                 const char *suffix, json_t *body, json_t **out)
{
    char *path = cli_id_path(prefix, id, suffix);
    long st = cli_call(c, method, path, body, out);
    free(path);
    return st;
}

int cli_call_show(cli_t *c, const char *method, const char *path, json_t *body, long want,
                  void (*show)(const json_t *resp))
{
    json_t *resp = NULL;
    long st = cli_call(c, method, path, body, &resp);
    int rc = 0;
    if (st != want)
        rc = cli_fail(st, resp);
    else if (!c->json)
        show(resp);
    json_decref(resp);
    return rc;
}

int cli_run_id_call(cli_t *c, int argc, char **argv, const cli_id_call_t *k)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id)
        return cli_usage(k->verb, k->args);
    char *path = cli_id_path(k->prefix, id, k->suffix);
    int rc = cli_call_show(c, k->method, path, NULL, k->want, k->show);
    free(path);
    return rc;
}

int cli_run_id_delete(cli_t *c, int argc, char **argv, const char *verb, const char *args,
                      const char *prefix, const char *before, const char *after)
{
    const char *id = cli_arg(argc, argv, 0);
    if (!id)
        return cli_usage(verb, args);
    json_t *resp = NULL;
    long st = cli_call_id(c, "DELETE", prefix, id, "", NULL, &resp);
    int rc = st == 204 ? 0 : cli_fail(st, resp);
    if (st == 204)
        printf("%s%s%s\n", before, id, after);
    json_decref(resp);
    return rc;
}

long cli_send_file(cli_t *c, const char *method, const char *path, const char *file,
                   char **raw, json_t **resp)
{
    *raw = NULL;
    *resp = NULL;
    char *text = read_file(file, NULL);
    if (!text) {
        fprintf(stderr, "エラー: %s を読めません (cannot read file)\n", file);
        return -1;
    }
    long st = cli_call_body(c, method, path, text, raw, NULL);
    free(text);
    *resp = *raw && **raw ? json_loads(*raw, 0, NULL) : NULL;
    return st;
}

int cli_usage(const char *verb, const char *args)
{
    fprintf(stderr, "使い方 (usage): tsunagu %s %s\n", verb, args);
    return 2;
}

const char *cli_jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- arguments ----------------------------------------------------------- */
static bool is_bool_flag(const char *a)
{
    return strcmp(a, "--json") == 0 || strcmp(a, "--feed") == 0 || strcmp(a, "--all") == 0 ||
           strcmp(a, "--yes") == 0 || strcmp(a, "--force") == 0;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    }
    return NULL;
}

bool cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* Where "--name" (n bytes, then '=', ' ', ']', '|' or the end) is an
 * option word of args; sets *takes_value when a value word follows it
 * ("--case ID", "[--from 日時]"; not "[--failing]", "[--csv [--table").
 * NULL when args does not name it. */
static const char *option_in_args(const char *args, const char *name, size_t n, bool *takes_value)
{
    for (const char *p = args; p && (p = strstr(p, "--")); p += 2) {
        if (strncmp(p, name, n) || (p > args && p[-1] != ' ' && p[-1] != '[' && p[-1] != '|'))
            continue;
        char after = p[n];
        if (after && after != ' ' && after != ']' && after != '|')
            continue;
        *takes_value = after == ' ' && p[n + 1] && p[n + 1] != '[' && p[n + 1] != '-';
        return p;
    }
    return NULL;
}

const char *cli_unknown_option(const cli_verb_t *v, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2])
            continue;
        size_t n = strcspn(a, "=");
        bool takes_value = false;
        if (n == 6 && !strncmp(a, "--json", 6))
            continue;
        if (!option_in_args(v->args, a, n, &takes_value))
            return a;
        if (takes_value && !a[n])
            i++;
    }
    return NULL;
}

const char *cli_arg(int argc, char **argv, int n)
{
    int seen = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (!is_bool_flag(argv[i]) && !strchr(argv[i], '='))
                i++;
            continue;
        }
        if (seen++ == n)
            return argv[i];
    }
    return NULL;
}

/* ---- output -------------------------------------------------------------- */
static bool is_wide(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int extra;
        if (*p < 0x80) { cp = *p; extra = 0; }
        else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; extra = 1; }
        else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; extra = 2; }
        else { cp = *p & 0x07; extra = 3; }
        p++;
        for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
            cp = (cp << 6) | (*p & 0x3F);
        w += is_wide(cp) ? 2 : 1;
    }
    return w;
}

struct cli_table {
    size_t  ncols, nrows;
    char  **cells;          /* (nrows + 1) * ncols, row 0 = headers */
};

cli_table_t *cli_table_new(size_t ncols, const char *const *headers)
{
    cli_table_t *t = xcalloc(1, sizeof *t);
    t->ncols = ncols;
    cli_table_row(t, headers);
    return t;
}

void cli_table_row(cli_table_t *t, const char *const *cells)
{
    t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = xstrdup(cells[i] ? cells[i] : "");
    t->nrows++;
}

void cli_table_each(size_t ncols, const char *const *headers, const json_t *arr, cli_row_fn row,
                    const char *none)
{
    if (none && !json_array_size(arr)) {
        printf("%s\n", none);
        return;
    }
    cli_table_t *t = cli_table_new(ncols, headers);
    size_t i;
    const json_t *item;
    json_array_foreach(arr, i, item)
        row(t, i, item);
    cli_table_print(t);
}

void cli_table_print(cli_table_t *t)
{
    size_t *w = xcalloc(t->ncols, sizeof *w);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = cli_text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, stdout);
            if (c + 1 < t->ncols)
                for (size_t pad = cli_text_width(cell); pad < w[c] + 2; pad++)
                    putchar(' ');
        }
        putchar('\n');
        if (r == 0) {
            size_t total = 0;
            for (size_t c = 0; c < t->ncols; c++)
                total += w[c] + (c + 1 < t->ncols ? 2 : 0);
            for (size_t i = 0; i < total; i++)
                putchar('-');
            putchar('\n');
        }
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(w);
    free(t);
}

void cli_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s)
        puts(s);
    free(s);
}

/* ---- dispatch ------------------------------------------------------------ */
/* The verb list: "VERB ARGS" then the description at column USAGE_COL;
 * a longer "VERB ARGS" (meeting book, stats, ...) has the description on
 * the next line, so the list reads at 80-120 columns instead of every
 * line being as wide as the widest. */
#define USAGE_COL 40
static void usage(FILE *out)
{
    fprintf(out, "使い方 (usage): tsunagu [--url URL] [--token TOKEN] VERB [ARGS] [--json]\n"
                 "環境変数: TSUNAGU_URL (既定 http://127.0.0.1:8080), TSUNAGU_TOKEN\n"
                 "各コマンドの使い方: tsunagu VERB --help\n\n");
    const char *head = "コマンド (verb)";
    fputs(head, out);
    for (size_t w = cli_text_width(head); w < USAGE_COL; w++)
        fputc(' ', out);
    fputs("説明\n", out);
    for (int i = 0; i < USAGE_COL + 40; i++)
        fputc('-', out);
    fputc('\n', out);
    for (size_t i = 0; cli_verb_tables[i]; i++)
        for (const cli_verb_t *v = cli_verb_tables[i]; v->name; v++) {
            char *left = xasprintf("%s %s", v->name, v->args ? v->args : "");
            size_t w = cli_text_width(left);
            fputs(left, out);
            if (w + 2 > USAGE_COL) {
                fputc('\n', out);
                w = 0;
            }
            for (; w < USAGE_COL; w++)
                fputc(' ', out);
            fprintf(out, "%s\n", v->help);
            free(left);
        }
}

/* Number of leading argv words that spell name ("token create" = 2), or 0. */
static int match_words(const char *name, int argc, char **argv)
{
    int used = 0;
    const char *p = name;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (used >= argc || strlen(argv[used]) != n || strncmp(argv[used], p, n) != 0)
            return 0;
        used++;
        p += n;
        while (*p == ' ')
            p++;
    }
    return used;
}

static const cli_verb_t *find_verb(int argc, char **argv, int *used)
{
    const cli_verb_t *best = NULL;
    *used = 0;
    for (size_t i = 0; cli_verb_tables[i]; i++)
        for (const cli_verb_t *v = cli_verb_tables[i]; v->name; v++) {
            int u = match_words(v->name, argc, argv);
            if (u > *used) {
                *used = u;
                best = v;
            }
        }
    return best;
}

int cli_main(int argc, char **argv)
{
    cli_t c = {getenv("TSUNAGU_URL"), getenv("TSUNAGU_TOKEN"), false};
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            c.url = argv[++i];
        else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            c.token = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            c.json = true;
        else
            break;
    }
    if (i >= argc || strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0 ||
        strcmp(argv[i], "-h") == 0) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    char *url = xstrdup(c.url && *c.url ? c.url : "http://127.0.0.1:8080");
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        url[--ul] = '\0';
    c.url = url;
    int used;
    const cli_verb_t *v = find_verb(argc - i, argv + i, &used);
    if (!v) {
        fprintf(stderr, "エラー: 知らないコマンドです: %s (unknown verb)\n\n", argv[i]);
        usage(stderr);
        free(url);
        return 2;
    }
    int sub_argc = argc - i - used;
    char **sub_argv = argv + i + used;
    if (sub_argc > 0 && (!strcmp(sub_argv[0], "--help") || !strcmp(sub_argv[0], "-h"))) {
        printf("使い方 (usage): tsunagu %s %s\n  %s\n", v->name, v->args ? v->args : "", v->help);
        free(url);
        return 0;
    }
    const char *bad = cli_unknown_option(v, sub_argc, sub_argv);
    if (bad) {
        bool global = !strncmp(bad, "--url", 5) || !strncmp(bad, "--token", 7);
        fprintf(stderr, "エラー: %s では使えないオプションです: %s%s (unknown option)\n", v->name, bad,
                global ? "。--url と --token はコマンドの前に書いてください" : "");
        free(url);
        return cli_usage(v->name, v->args ? v->args : "");
    }
    if (cli_flag(sub_argc, sub_argv, "--json"))
        c.json = true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = v->run(&c, sub_argc, sub_argv);
    curl_global_cleanup();
    free(url);
    return rc;
}
