/* SPDX-License-Identifier: MIT */
/*
 * rules_parse.c - the rule language (tsunagu.rules(5)): lexer and parser.
 *
 * The language is line-oriented so that municipal staff can edit it in any
 * text editor: one statement per line, `#` starts a comment, a `rule`
 * line opens a block that lasts until the next `rule` or top-level
 * statement.  Each line is tokenized on its own (words, "strings", commas
 * `,`/`、`, comparison operators) and dispatched on its first word.
 *
 * Errors stop at the first problem and read "file:line:col: message" with
 * 1-based line and column; columns count characters (code points), not
 * bytes, because the files are mostly Japanese.  Messages are Japanese
 * first with an English gloss.
 *
 * Everything a condition mentions is interned (rules_int.h) so that the
 * evaluator works on integers.  The parser never trusts its input: every
 * token is checked and every allocation is owned by the ruleset, which
 * rules_free() releases whether parsing succeeded or not.
 */
#include "rules_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"

const char *const rules_base_fields[] = {
    "高齢", "障害", "子ども", "困窮", "精神保健", "保護", "教育", "ひきこもり",
    "DV", "権利擁護", "地域", "就労", "住まい", "協働", NULL
};

static const char *const default_elig_label[ELIG_KINDS] = {
    "担当地区外", "主担当件数が上限", "本人の同意により除外", "支援会議の構成員でない"
};

#define MAX_LINE_BYTES 8192
#define MAX_POINTS     10000

/* ---- symbol table ------------------------------------------------------ */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void symtab_init(symtab_t *t)
{
    strvec_init(&t->names);
    t->cap = 64;
    t->slots = xmalloc(t->cap * sizeof *t->slots);
    for (size_t i = 0; i < t->cap; i++)
        t->slots[i] = -1;
}

void symtab_free(symtab_t *t)
{
    strvec_free(&t->names);
    free(t->slots);
    t->slots = NULL;
    t->cap = 0;
}

int symtab_find(const symtab_t *t, const char *s)
{
    if (!t->cap)
        return -1;
    for (size_t i = fnv1a(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        int k = t->slots[i];
        if (k < 0)
            return -1;
        if (strcmp(t->names.v[k], s) == 0)
            return k;
    }
}

static void symtab_grow(symtab_t *t)
{
    free(t->slots);
    t->cap *= 2;
    t->slots = xmalloc(t->cap * sizeof *t->slots);
    for (size_t i = 0; i < t->cap; i++)
        t->slots[i] = -1;
    for (size_t k = 0; k < t->names.n; k++) {
        size_t i = fnv1a(t->names.v[k]) & (t->cap - 1);
        while (t->slots[i] >= 0)
            i = (i + 1) & (t->cap - 1);
        t->slots[i] = (int)k;
    }
}

int symtab_intern(symtab_t *t, const char *s)
{
    int k = symtab_find(t, s);
    if (k >= 0)
        return k;
    if ((t->names.n + 1) * 2 > t->cap)
        symtab_grow(t);
    strvec_push(&t->names, s);
    k = (int)t->names.n - 1;
    size_t i = fnv1a(s) & (t->cap - 1);
    while (t->slots[i] >= 0)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = k;
    return k;
}

/* ---- tokens ------------------------------------------------------------ */

typedef enum tok_type { T_WORD, T_STRING, T_COMMA, T_OP } tok_type_t;

typedef struct tok {
    tok_type_t type;
    char      *text;
    int        col;
} tok_t;

static void idlist_push(idlist_t *l, int v);

typedef struct parser {
    ruleset_t  *rs;
    const char *file;
    int         line;
    char       *err;
    size_t      errlen;
    tok_t      *t;            /* tokens of the current line */
    size_t      nt, ct;
    rule_t     *cur;          /* open rule block or NULL */
    bool        have_policy, have_tiebreak;
    int         line_end_col;
    idlist_t    excluded;     /* exclude-field ids */
} parser_t;

static bool perr(parser_t *p, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool perr(parser_t *p, int col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->file, p->line, col, msg);
    return false;
}

static int col_of(const char *line, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static void tokens_clear(parser_t *p)
{
    for (size_t i = 0; i < p->nt; i++)
        free(p->t[i].text);
    p->nt = 0;
}

static void tok_push(parser_t *p, tok_type_t type, char *text, int col)
{
    if (p->nt == p->ct) {
        p->ct = p->ct ? p->ct * 2 : 16;
        p->t = xrealloc(p->t, p->ct * sizeof *p->t);
    }
    p->t[p->nt++] = (tok_t){ type, text, col };
}

static bool is_space_at(const char *s, size_t *adv)
{
    if (s[0] == ' ' || s[0] == '\t') { *adv = 1; return true; }
    if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 &&
        (unsigned char)s[2] == 0x80) { *adv = 3; return true; }   /* U+3000 */
    return false;
}

static bool is_comma_at(const char *s, size_t *adv)
{
    if (s[0] == ',') { *adv = 1; return true; }
    if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 &&
        (unsigned char)s[2] == 0x81) { *adv = 3; return true; }   /* 、 */
    return false;
}

static bool word_stop(const char *s)
{
    size_t adv;
    return !*s || is_space_at(s, &adv) || is_comma_at(s, &adv) || *s == '"' ||
           *s == '#' || *s == '<' || *s == '>' || *s == '=';
}

static bool lex_string(parser_t *p, const char *line, size_t *i)
{
    size_t start = *i;
    strbuf_t b;
    strbuf_init(&b);
    strbuf_puts(&b, "");
    for ((*i)++; line[*i] && line[*i] != '"'; (*i)++) {
        if (line[*i] == '\\' && (line[*i + 1] == '"' || line[*i + 1] == '\\'))
            (*i)++;
        strbuf_putc(&b, line[*i]);
    }
    if (!line[*i]) {
        strbuf_free(&b);
        return perr(p, col_of(line, start),
                    "文字列が閉じていません。行末までに \" が必要です (unterminated string)");
    }
    (*i)++;
    tok_push(p, T_STRING, strbuf_detach(&b), col_of(line, start));
    return true;
}

static bool lex_line(parser_t *p, const char *line)
{
    size_t i = 0, adv;
    tokens_clear(p);
    while (line[i]) {
        if (is_space_at(line + i, &adv)) { i += adv; continue; }
        if (line[i] == '#')
            break;
        int col = col_of(line, i);
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return perr(p, col, "制御文字 (0x%02x) は使えません (control character)",
                        (unsigned char)line[i]);
        if (is_comma_at(line + i, &adv)) {
            tok_push(p, T_COMMA, xstrdup(","), col);
            i += adv;
        } else if (line[i] == '"') {
            if (!lex_string(p, line, &i))
                return false;
        } else if (line[i] == '<' || line[i] == '>' || line[i] == '=') {
            size_t n = (line[i + 1] == '=' && line[i] != '=') ? 2 : 1;
            tok_push(p, T_OP, xstrndup(line + i, n), col);
            i += n;
        } else {
            size_t s = i;
            while (!word_stop(line + i) && !((unsigned char)line[i] < 0x20))
                i++;
            tok_push(p, T_WORD, xstrndup(line + s, i - s), col);
        }
    }
    p->line_end_col = col_of(line, i);
    return true;
}

/* ---- token cursor helpers ---------------------------------------------- */

typedef struct cursor {
    parser_t *p;
    size_t    i;
} cursor_t;

static tok_t *peek(cursor_t *c)
{
    return c->i < c->p->nt ? &c->p->t[c->i] : NULL;
}

static int here_col(cursor_t *c)
{
    tok_t *t = peek(c);
    return t ? t->col : c->p->line_end_col;
}

static bool peek_word(cursor_t *c, const char *w)
{
    tok_t *t = peek(c);
    return t && t->type == T_WORD && strcmp(t->text, w) == 0;
}

static bool expect_end(cursor_t *c)
{
    tok_t *t = peek(c);
    if (!t)
        return true;
    return perr(c->p, t->col, "余分な記述「%s」があります (unexpected text at end of statement)",
                t->text);
}

static bool expect_word(cursor_t *c, const char *what, tok_t **out)
{
    tok_t *t = peek(c);
    if (!t || t->type != T_WORD)
        return perr(c->p, here_col(c), "%s が必要です (expected %s)", what,
                    t ? "a word" : "more text");
    c->i++;
    *out = t;
    return true;
}

static bool expect_string(cursor_t *c, const char *what, tok_t **out)
{
    tok_t *t = peek(c);
    if (!t || t->type != T_STRING)
        return perr(c->p, here_col(c),
                    "%s を \"...\" で囲んで書いてください (expected a quoted string)", what);
    if (!t->text[0])
        return perr(c->p, t->col, "%s が空です (empty string)", what);
    c->i++;
    *out = t;
    return true;
}

/* WORD (, WORD)* */
static bool parse_list(cursor_t *c, const char *what, strvec_t *out, int *cols,
                       size_t maxcols)
{
    for (;;) {
        tok_t *t;
        if (!expect_word(c, what, &t))
            return false;
        if (cols && out->n < maxcols)
            cols[out->n] = t->col;
        strvec_push(out, t->text);
        tok_t *n = peek(c);
        if (!n || n->type != T_COMMA)
            return true;
        c->i++;
    }
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!*s || !(s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_points(cursor_t *c, int *out)
{
    tok_t *t;
    long v;
    if (!expect_word(c, "点数", &t))
        return false;
    if (!parse_int(t->text, -MAX_POINTS, MAX_POINTS, &v))
        return perr(c->p, t->col, "点数「%s」は -%d〜%d の整数で書いてください (points must be an integer)",
                    t->text, MAX_POINTS, MAX_POINTS);
    *out = (int)v;
    return true;
}

static bool field_known(cursor_t *c, tok_t *t, int *out)
{
    int f = symtab_find(&c->p->rs->fields, t->text);
    if (f >= 0) {
        *out = f;
        return true;
    }
    strbuf_t b;
    strbuf_init(&b);
    for (size_t i = 0; i < c->p->rs->fields.names.n; i++)
        strbuf_printf(&b, "%s%s", i ? " " : "", c->p->rs->fields.names.v[i]);
    perr(c->p, t->col, "未知の分野「%s」です。新しい分野は先に field 行で宣言してください (unknown field; known: %s)",
         t->text, b.s);
    strbuf_free(&b);
    return false;
}

/* ---- conditions -------------------------------------------------------- */

static void idlist_push(idlist_t *l, int v)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = v;
}

static bool parse_feature_list(cursor_t *c, idlist_t *ids)
{
    strvec_t words;
    strvec_init(&words);
    bool ok = parse_list(c, "課題(特徴)の名前", &words, NULL, 0);
    for (size_t i = 0; ok && i < words.n; i++)
        idlist_push(ids, symtab_intern(&c->p->rs->features, words.v[i]));
    strvec_free(&words);
    return ok;
}

static bool parse_age_int(cursor_t *c, tok_t *t, const char *s, long *v)
{
    if (parse_int(s, 0, 150, v) && s[0] != '+' && s[0] != '-')
        return true;
    return perr(c->p, t->col, "年齢「%s」は 0〜150 の整数で書いてください (bad age)", s);
}

/* age < N | <= N | > N | >= N | = N | N-M */
static bool parse_age(cursor_t *c, mfilter_t *f)
{
    tok_t *t = peek(c);
    long a, b;
    f->kind = MF_AGE;
    if (!t)
        return perr(c->p, here_col(c), "age の後に条件(例: < 18、65-74)が必要です (expected an age condition)");
    if (t->type == T_OP) {
        c->i++;
        tok_t *n;
        if (!expect_word(c, "年齢", &n) || !parse_age_int(c, n, n->text, &a))
            return false;
        const char *op = t->text;
        if (!strcmp(op, "<") && a == 0)
            return perr(c->p, n->col, "「age < 0」に当てはまる人はいません (empty age range)");
        f->lo = !strcmp(op, ">") ? (int)a + 1 : !strcmp(op, ">=") || !strcmp(op, "=") ? (int)a : 0;
        f->hi = !strcmp(op, "<") ? (int)a - 1 : !strcmp(op, "<=") || !strcmp(op, "=") ? (int)a : 1000;
        return true;
    }
    if (t->type != T_WORD)
        return perr(c->p, t->col, "age の後に条件(例: < 18、65-74)が必要です (expected an age condition)");
    c->i++;
    const char *dash = strchr(t->text, '-');
    if (!dash)
        return perr(c->p, t->col, "年齢の条件「%s」が読めません。「< 18」「>= 65」「40-64」の形で書いてください (bad age condition)",
                    t->text);
    char *lo = xstrndup(t->text, (size_t)(dash - t->text));
    bool ok = parse_age_int(c, t, lo, &a) && parse_age_int(c, t, dash + 1, &b);
    free(lo);
    if (!ok)
        return false;
    if (a > b)
        return perr(c->p, t->col, "年齢の範囲「%s」は下限が上限より大きくなっています (empty age range)",
                    t->text);
    f->lo = (int)a;
    f->hi = (int)b;
    return true;
}

static bool parse_relations(cursor_t *c, mfilter_t *f)
{
    int cols[64];
    f->kind = MF_RELATION;
    strvec_init(&f->words);
    if (!parse_list(c, "続柄", &f->words, cols, 64))
        return false;
    for (size_t i = 0; i < f->words.n; i++)
        if (!case_relation_known(f->words.v[i]))
            return perr(c->p, i < 64 ? cols[i] : here_col(c),
                        "未知の続柄「%s」です。本人から見た続柄(本人 父 母 子 祖父 祖母 孫 兄 姉 弟 妹 配偶者 同居人 その他 など)を使ってください (unknown relation)",
                        f->words.v[i]);
    return true;
}

static bool is_member_filter(cursor_t *c)
{
    return peek_word(c, "age") || peek_word(c, "relation") ||
           peek_word(c, "has") || peek_word(c, "lacks");
}

static bool parse_member(cursor_t *c, atom_t *a)
{
    a->kind = A_MEMBER;
    if (!is_member_filter(c)) {
        tok_t *t = peek(c);
        return perr(c->p, here_col(c), "member の後に age / relation / has / lacks が必要です%s%s%s (unknown member condition)",
                    t ? "(「" : "", t ? t->text : "", t ? "」は使えません)" : "");
    }
    while (is_member_filter(c)) {
        a->f = xrealloc(a->f, (a->nf + 1) * sizeof *a->f);
        mfilter_t *f = &a->f[a->nf++];
        memset(f, 0, sizeof *f);
        const char *kw = peek(c)->text;
        c->i++;
        bool ok;
        if (!strcmp(kw, "age"))
            ok = parse_age(c, f);
        else if (!strcmp(kw, "relation"))
            ok = parse_relations(c, f);
        else {
            f->kind = !strcmp(kw, "has") ? MF_HAS : MF_LACKS;
            ok = parse_feature_list(c, &f->ids);
        }
        if (!ok)
            return false;
    }
    tok_t *t = peek(c);
    if (t && !peek_word(c, "and"))
        return perr(c->p, t->col, "「%s」は member の条件として読めません。age / relation / has / lacks / and のいずれかです (unknown member condition)",
                    t->text);
    return true;
}

static bool parse_meeting_words(cursor_t *c, atom_t *a)
{
    int cols[8];
    strvec_init(&a->words);
    if (!parse_list(c, "会議の種類", &a->words, cols, 8))
        return false;
    for (size_t i = 0; i < a->words.n; i++)
        if (strcmp(a->words.v[i], CASE_MEETING_SUPPORT) && strcmp(a->words.v[i], CASE_MEETING_JUUSOU))
            return perr(c->p, i < 8 ? cols[i] : here_col(c),
                        "会議の種類は「支援会議」か「重層的支援会議」です (unknown meeting type \"%s\")",
                        a->words.v[i]);
    return true;
}

static bool parse_atom(cursor_t *c, atom_t *a)
{
    tok_t *t;
    if (!expect_word(c, "条件(household / member / urgent / meeting / district)", &t))
        return false;
    if (!strcmp(t->text, "household")) {
        tok_t *v;
        if (!expect_word(c, "has か lacks", &v))
            return false;
        if (strcmp(v->text, "has") && strcmp(v->text, "lacks"))
            return perr(c->p, v->col, "household の後は has か lacks です (got \"%s\")", v->text);
        a->kind = !strcmp(v->text, "has") ? A_HOUSEHOLD_HAS : A_HOUSEHOLD_LACKS;
        return parse_feature_list(c, &a->ids);
    }
    if (!strcmp(t->text, "member"))
        return parse_member(c, a);
    if (!strcmp(t->text, "urgent")) {
        a->kind = A_URGENT;
        return true;
    }
    if (!strcmp(t->text, "meeting")) {
        a->kind = A_MEETING;
        return parse_meeting_words(c, a);
    }
    if (!strcmp(t->text, "district")) {
        a->kind = A_DISTRICT;
        strvec_init(&a->words);
        return parse_list(c, "地区", &a->words, NULL, 0);
    }
    return perr(c->p, t->col, "未知の条件「%s」です。household / member / urgent / meeting / district のいずれかです (unknown condition)",
                t->text);
}

static bool parse_when(cursor_t *c, rule_t *r)
{
    r->when = xrealloc(r->when, (r->nwhen + 1) * sizeof *r->when);
    clause_t *cl = &r->when[r->nwhen++];
    memset(cl, 0, sizeof *cl);
    for (;;) {
        cl->atoms = xrealloc(cl->atoms, (cl->n + 1) * sizeof *cl->atoms);
        atom_t *a = &cl->atoms[cl->n++];
        memset(a, 0, sizeof *a);
        if (!parse_atom(c, a))
            return false;
        if (!peek(c))
            return true;
        if (!peek_word(c, "and"))
            return expect_end(c);
        c->i++;
        if (!peek(c))
            return perr(c->p, here_col(c), "and の後に条件が必要です (dangling \"and\")");
    }
}

/* ---- rule block statements --------------------------------------------- */

static bool parse_score(cursor_t *c, rule_t *r)
{
    tok_t *t;
    int f, pts;
    if (!expect_word(c, "分野", &t) || !field_known(c, t, &f) || !parse_points(c, &pts))
        return false;
    r->scores = xrealloc(r->scores, (r->nscores + 1) * sizeof *r->scores);
    r->scores[r->nscores++] = (score_t){ f, pts };
    return expect_end(c);
}

static bool parse_force(cursor_t *c, rule_t *r, int kwcol)
{
    tok_t *t, *kw, *n;
    int f;
    long prec;
    if (r->force_field >= 0)
        return perr(c->p, kwcol, "force は1つのルールに1回だけです (duplicate force)");
    if (!expect_word(c, "分野", &t) || !field_known(c, t, &f))
        return false;
    if (!expect_word(c, "precedence", &kw))
        return false;
    if (strcmp(kw->text, "precedence"))
        return perr(c->p, kw->col, "分野の後に「precedence 数字」が必要です (expected \"precedence\")");
    if (!expect_word(c, "優先順位の数字", &n))
        return false;
    if (!parse_int(n->text, 1, 1000, &prec) || n->text[0] == '+')
        return perr(c->p, n->col, "優先順位「%s」は 1〜1000 の整数です(1 が最優先) (bad precedence)",
                    n->text);
    ruleset_t *rs = c->p->rs;
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i].force_field >= 0 && rs->rules[i].precedence == prec)
            return perr(c->p, n->col, "優先順位 %ld はルール「%s」(%d行目)と重複しています (duplicate precedence)",
                        prec, rs->rules[i].id, rs->rules[i].line);
    r->force_field = f;
    r->precedence = (int)prec;
    return expect_end(c);
}

static bool parse_reason(cursor_t *c, rule_t *r, int kwcol)
{
    tok_t *t;
    if (r->reason)
        return perr(c->p, kwcol, "reason は1つのルールに1回だけです (duplicate reason)");
    if (!expect_string(c, "理由", &t))
        return false;
    r->reason = xstrdup(t->text);
    return expect_end(c);
}

static bool close_rule(parser_t *p)
{
    rule_t *r = p->cur;
    if (!r)
        return true;
    p->cur = NULL;
    int saved = p->line;
    p->line = r->line;
    bool ok = true;
    if (!r->nwhen)
        ok = perr(p, 1, "ルール「%s」に when 行(条件)がありません (rule has no condition)", r->id);
    else if (!r->nscores && r->force_field < 0)
        ok = perr(p, 1, "ルール「%s」に score 行も force 行もありません (rule has no effect)", r->id);
    else if (!r->reason)
        ok = perr(p, 1, "ルール「%s」に reason 行(日本語の理由)がありません (rule has no reason)", r->id);
    p->line = saved;
    return ok;
}

static bool valid_rule_id(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static bool parse_rule_head(cursor_t *c)
{
    tok_t *t;
    ruleset_t *rs = c->p->rs;
    if (!close_rule(c->p) || !expect_word(c, "ルールID", &t))
        return false;
    if (!valid_rule_id(t->text) || strlen(t->text) > 64)
        return perr(c->p, t->col, "ルールID「%s」には半角英数字と - _ . だけが使えます(64文字まで) (bad rule id)",
                    t->text);
    for (size_t i = 0; i < rs->nrules; i++)
        if (!strcmp(rs->rules[i].id, t->text))
            return perr(c->p, t->col, "ルールID「%s」は %d行目ですでに使われています (duplicate rule id)",
                        t->text, rs->rules[i].line);
    rs->rules = xrealloc(rs->rules, (rs->nrules + 1) * sizeof *rs->rules);
    rule_t *r = &rs->rules[rs->nrules++];
    memset(r, 0, sizeof *r);
    r->id = xstrdup(t->text);
    r->line = c->p->line;
    r->force_field = -1;
    c->p->cur = r;
    return expect_end(c);
}

/* ---- top-level statements ---------------------------------------------- */

static bool parse_policy(cursor_t *c, int kwcol)
{
    tok_t *t;
    if (c->p->have_policy)
        return perr(c->p, kwcol, "policy は1回だけ書けます (duplicate policy)");
    if (!expect_string(c, "方針の名前", &t))
        return false;
    c->p->have_policy = true;
    free(c->p->rs->policy);
    c->p->rs->policy = xstrdup(t->text);
    return expect_end(c);
}

static bool parse_field_decl(cursor_t *c)
{
    strvec_t w;
    strvec_init(&w);
    bool ok = parse_list(c, "分野の名前", &w, NULL, 0) && expect_end(c);
    for (size_t i = 0; ok && i < w.n; i++)
        symtab_intern(&c->p->rs->fields, w.v[i]);
    strvec_free(&w);
    return ok;
}

static bool parse_feature_decl(cursor_t *c)
{
    strvec_t w;
    strvec_init(&w);
    bool ok = parse_list(c, "課題の名前", &w, NULL, 0) && expect_end(c);
    for (size_t i = 0; ok && i < w.n; i++) {
        symtab_intern(&c->p->rs->features, w.v[i]);
        if (!strvec_contains(&c->p->rs->declared_features, w.v[i]))
            strvec_push(&c->p->rs->declared_features, w.v[i]);
    }
    strvec_free(&w);
    return ok;
}

static bool parse_exclude_field(cursor_t *c)
{
    for (;;) {
        tok_t *t;
        int f;
        if (!expect_word(c, "分野", &t) || !field_known(c, t, &f))
            return false;
        idlist_push(&c->p->excluded, f);
        if (!peek(c) || peek(c)->type != T_COMMA)
            return expect_end(c);
        c->i++;
    }
}

static bool parse_bonus(cursor_t *c)
{
    tok_t *t, *s = NULL;
    int pts;
    ruleset_t *rs = c->p->rs;
    if (!expect_word(c, "involved か first-contact", &t))
        return false;
    bool inv = !strcmp(t->text, "involved");
    if (!inv && strcmp(t->text, "first-contact"))
        return perr(c->p, t->col, "未知の加点「%s」です。involved(関与機関)か first-contact(端緒機関)です (unknown bonus)",
                    t->text);
    if (!parse_points(c, &pts))
        return false;
    if (peek(c) && !expect_string(c, "理由", &s))
        return false;
    *(inv ? &rs->bonus_involved : &rs->bonus_first) = pts;
    char **reason = inv ? &rs->bonus_involved_reason : &rs->bonus_first_reason;
    free(*reason);
    *reason = xstrdup(s ? s->text : inv ? "関与機関" : "端緒機関");
    return expect_end(c);
}

static bool parse_eligible(cursor_t *c)
{
    static const char *const names[ELIG_KINDS] = {
        "district", "capacity", "consent", "support-meeting"
    };
    tok_t *t, *s = NULL;
    if (!expect_word(c, "適格性の種類", &t))
        return false;
    int k = -1;
    for (int i = 0; i < ELIG_KINDS; i++)
        if (!strcmp(t->text, names[i]))
            k = i;
    if (k < 0)
        return perr(c->p, t->col, "未知の適格性「%s」です。district / capacity / consent / support-meeting のいずれかです (unknown eligibility check)",
                    t->text);
    if (peek(c) && !expect_string(c, "除外理由", &s))
        return false;
    c->p->rs->elig_enabled |= 1u << k;
    if (s) {
        free(c->p->rs->elig_label[k]);
        c->p->rs->elig_label[k] = xstrdup(s->text);
    }
    return expect_end(c);
}

static bool parse_tb_step(cursor_t *c, tb_kind_t *k, bool *seen)
{
    tok_t *t;
    if (!expect_word(c, "同点の決め方", &t))
        return false;
    if (!strcmp(t->text, "lead-cases"))
        *k = TBK_LEAD_CASES;
    else if (!strcmp(t->text, "free-minutes"))
        *k = TBK_FREE_MINUTES;
    else if (!strcmp(t->text, "id"))
        *k = TBK_ID;
    else
        return perr(c->p, t->col, "未知の同点の決め方「%s」です。lead-cases / free-minutes / id のいずれかです (unknown tie-break step)",
                    t->text);
    if (seen[*k])
        return perr(c->p, t->col, "同点の決め方「%s」が2回あります (duplicate tie-break step)", t->text);
    seen[*k] = true;
    if (*k == TBK_FREE_MINUTES && peek(c) && peek(c)->type == T_WORD) {
        long d;
        tok_t *n = peek(c);
        if (!parse_int(n->text, 1, 60, &d) || n->text[0] == '+')
            return perr(c->p, n->col, "free-minutes の日数「%s」は 1〜60 の整数です (bad number of business days)",
                        n->text);
        c->p->rs->free_days = (int)d;
        c->i++;
    }
    return true;
}

static bool parse_tiebreak(cursor_t *c, int kwcol)
{
    bool seen[3] = { false, false, false };
    ruleset_t *rs = c->p->rs;
    if (c->p->have_tiebreak)
        return perr(c->p, kwcol, "tiebreak は1回だけ書けます (duplicate tiebreak)");
    c->p->have_tiebreak = true;
    rs->nsteps = 0;
    for (;;) {
        int col = here_col(c);
        if (!parse_tb_step(c, &rs->steps[rs->nsteps], seen))
            return false;
        rs->nsteps++;
        if (!peek(c)) {
            if (rs->steps[rs->nsteps - 1] != TBK_ID)
                return perr(c->p, col, "同点の決め方の最後は id にしてください(必ず1つに決まるように) (tiebreak must end with id)");
            return true;
        }
        if (peek(c)->type != T_COMMA)
            return expect_end(c);
        if (rs->steps[rs->nsteps - 1] == TBK_ID)
            return perr(c->p, here_col(c), "id の後に同点の決め方は書けません (id must be last)");
        c->i++;
    }
}

static bool in_rule_only(parser_t *p, const char *kw, int col)
{
    if (p->cur)
        return true;
    return perr(p, col, "「%s」は rule 行の後(ルールの中)に書いてください (\"%s\" outside a rule)", kw, kw);
}

static bool parse_statement(parser_t *p)
{
    cursor_t c = { p, 1 };
    tok_t *kw = &p->t[0];
    const char *k = kw->text;
    if (kw->type != T_WORD)
        return perr(p, kw->col, "行の先頭にはキーワード(rule, when, score など)が必要です (expected a keyword)");
    if (!strcmp(k, "when") || !strcmp(k, "score") || !strcmp(k, "force") || !strcmp(k, "reason")) {
        if (!in_rule_only(p, k, kw->col))
            return false;
        if (!strcmp(k, "when"))
            return parse_when(&c, p->cur);
        if (!strcmp(k, "score"))
            return parse_score(&c, p->cur);
        if (!strcmp(k, "force"))
            return parse_force(&c, p->cur, kw->col);
        return parse_reason(&c, p->cur, kw->col);
    }
    if (!strcmp(k, "rule"))
        return parse_rule_head(&c);
    if (!close_rule(p))
        return false;
    if (!strcmp(k, "policy"))
        return parse_policy(&c, kw->col);
    if (!strcmp(k, "field"))
        return parse_field_decl(&c);
    if (!strcmp(k, "feature"))
        return parse_feature_decl(&c);
    if (!strcmp(k, "exclude-field"))
        return parse_exclude_field(&c);
    if (!strcmp(k, "bonus"))
        return parse_bonus(&c);
    if (!strcmp(k, "eligible"))
        return parse_eligible(&c);
    if (!strcmp(k, "tiebreak"))
        return parse_tiebreak(&c, kw->col);
    return perr(p, kw->col, "未知のキーワード「%s」です。policy field feature exclude-field bonus eligible tiebreak rule when score force reason が使えます (unknown keyword)",
                k);
}

/* ---- driver ------------------------------------------------------------ */

/* Offset of the first byte that does not start a valid UTF-8 sequence. */
static size_t utf8_first_bad(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n || !utf8_valid(s + i, len))
            return i;
        i += len;
    }
    return n;
}

static bool check_bytes(parser_t *p, const char *line, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\0')
            return perr(p, col_of(line, i), "NUL 文字が含まれています。テキストファイルではありません (NUL byte)");
    if (n > MAX_LINE_BYTES)
        return perr(p, 1, "行が長すぎます(%d バイトまで) (line too long)", MAX_LINE_BYTES);
    if (!utf8_valid(line, n))
        return perr(p, col_of(line, utf8_first_bad(line, n)),
                    "UTF-8 として読めない文字があります。UTF-8 で保存してください (invalid UTF-8)");
    return true;
}

static bool parse_text(parser_t *p, const char *text, size_t len)
{
    size_t pos = 0;
    p->line = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        size_t n = e - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        p->line++;
        if (p->line == 1 && n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
            pos += 3;    /* UTF-8 BOM */
            n -= 3;
        }
        if (!check_bytes(p, text + pos, n))
            return false;
        char *line = xstrndup(text + pos, n);
        bool ok = lex_line(p, line) && (p->nt == 0 || parse_statement(p));
        free(line);
        if (!ok)
            return false;
        pos = e + 1;
    }
    if (!close_rule(p))
        return false;
    if (p->rs->nrules == 0) {
        p->line = p->line ? p->line : 1;
        return perr(p, 1, "ルール(rule 行)が1つもありません (no rules)");
    }
    return true;
}

static void ruleset_defaults(ruleset_t *rs)
{
    symtab_init(&rs->fields);
    symtab_init(&rs->features);
    strvec_init(&rs->declared_features);
    for (size_t i = 0; rules_base_fields[i]; i++)
        symtab_intern(&rs->fields, rules_base_fields[i]);
    rs->policy = xstrdup("");
    rs->bonus_involved_reason = xstrdup("関与機関");
    rs->bonus_first_reason = xstrdup("端緒機関");
    rs->elig_enabled = ELIG_CONSENT | ELIG_MEETING;   /* statutory, always on */
    for (int i = 0; i < ELIG_KINDS; i++)
        rs->elig_label[i] = xstrdup(default_elig_label[i]);
    rs->steps[0] = TBK_LEAD_CASES;
    rs->steps[1] = TBK_FREE_MINUTES;
    rs->steps[2] = TBK_ID;
    rs->nsteps = 3;
    rs->free_days = 10;
}

ruleset_t *rules_parse(const char *text, size_t len, const char *filename,
                       char *err, size_t errlen)
{
    ruleset_t *rs = xcalloc(1, sizeof *rs);
    ruleset_defaults(rs);
    rs->filename = xstrdup(filename ? filename : "<rules>");
    parser_t p = { .rs = rs, .file = rs->filename, .err = err, .errlen = errlen };
    bool ok = parse_text(&p, text, len);
    tokens_clear(&p);
    free(p.t);
    if (!ok) {
        free(p.excluded.v);
        rules_free(rs);
        return NULL;
    }
    rs->field_excluded = xcalloc(rs->fields.names.n + 1, sizeof(bool));
    for (size_t i = 0; i < p.excluded.n; i++)
        rs->field_excluded[p.excluded.v[i]] = true;
    free(p.excluded.v);
    rs->source = xstrndup(text, len);
    sha256_hex(text, len, rs->hash);
    return rs;
}

ruleset_t *rules_load_file(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s:0:0: ファイルを読めません: %s (cannot read file)", path,
                 strerror(errno));
        return NULL;
    }
    ruleset_t *rs = rules_parse(text, len, path, err, errlen);
    free(text);
    return rs;
}

char *rules_default_path(const char *exe)
{
    if (access(RULES_DEFAULT_RELATIVE, R_OK) == 0)
        return xstrdup(RULES_DEFAULT_RELATIVE);
    char self[4096];
    if (!exe) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            return xstrdup(RULES_DEFAULT_RELATIVE);
        self[n] = '\0';
        exe = self;
    }
    const char *slash = strrchr(exe, '/');
    if (!slash)
        return xstrdup(RULES_DEFAULT_RELATIVE);
    static const char *const beside[] = {"/../" RULES_DEFAULT_RELATIVE,
                                         "/../share/tsunagu/" RULES_DEFAULT_RELATIVE};
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char *p = xasprintf("%.*s%s", (int)(slash - exe), exe, beside[i]);
        char *real = access(p, R_OK) == 0 ? realpath(p, NULL) : NULL;
        free(p);
        if (real)
            return real;
    }
    return xstrdup(RULES_DEFAULT_RELATIVE);
}

/* ---- freeing and accessors --------------------------------------------- */

static void atom_free(atom_t *a)
{
    free(a->ids.v);
    strvec_free(&a->words);
    for (size_t i = 0; i < a->nf; i++) {
        free(a->f[i].ids.v);
        strvec_free(&a->f[i].words);
    }
    free(a->f);
}

static void rule_free(rule_t *r)
{
    for (size_t w = 0; w < r->nwhen; w++) {
        for (size_t i = 0; i < r->when[w].n; i++)
            atom_free(&r->when[w].atoms[i]);
        free(r->when[w].atoms);
    }
    free(r->when);
    free(r->scores);
    free(r->id);
    free(r->reason);
}

void rules_free(ruleset_t *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        rule_free(&rs->rules[i]);
    free(rs->rules);
    symtab_free(&rs->fields);
    symtab_free(&rs->features);
    strvec_free(&rs->declared_features);
    free(rs->field_excluded);
    free(rs->filename);
    free(rs->source);
    free(rs->policy);
    free(rs->bonus_involved_reason);
    free(rs->bonus_first_reason);
    for (int i = 0; i < ELIG_KINDS; i++)
        free(rs->elig_label[i]);
    free(rs);
}

const char *rules_hash(const ruleset_t *rs) { return rs->hash; }
const char *rules_policy(const ruleset_t *rs) { return rs->policy; }
const char *rules_source(const ruleset_t *rs) { return rs->source; }
const char *rules_filename(const ruleset_t *rs) { return rs->filename; }
size_t rules_count(const ruleset_t *rs) { return rs->nrules; }
const char *rules_rule_id(const ruleset_t *rs, size_t i) { return rs->rules[i].id; }
const char *rules_rule_reason(const ruleset_t *rs, size_t i) { return rs->rules[i].reason; }

const char *rules_field_name(const ruleset_t *rs, int field)
{
    if (field < 0 || (size_t)field >= rs->fields.names.n)
        return "";
    return rs->fields.names.v[field];
}

const char *rules_elig_label(const ruleset_t *rs, unsigned bit)
{
    for (int i = 0; i < ELIG_KINDS; i++)
        if (bit == (1u << i))
            return rs->elig_label[i];
    return "";
}

void rules_known_features(const ruleset_t *rs, strvec_t *out)
{
    const char *const *base = case_base_features();
    for (size_t i = 0; base[i]; i++)
        if (!strvec_contains(out, base[i]))
            strvec_push(out, base[i]);
    for (size_t i = 0; i < rs->features.names.n; i++)
        if (!strvec_contains(out, rs->features.names.v[i]))
            strvec_push(out, rs->features.names.v[i]);
}
