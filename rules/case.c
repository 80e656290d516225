/* SPDX-License-Identifier: MIT */
/*
 * case.c - the case (ケース) interchange format: parse, validate, serialize.
 *
 * A case is plain data: strings and string vectors copied out of the JSON
 * document so that the jansson tree can be dropped.  Validation is strict
 * about structure (types, required fields, exactly one 本人, relations from
 * the vocabulary, ages 0..130) and lenient about vocabulary that a
 * municipality may extend (features): unknown features are kept and
 * reported by case_feature_warnings() rather than refused.
 *
 * Every error names the field with a JSON-path-like prefix
 * ("members[2].age: ...") followed by a Japanese message.
 */
#include "case.h"

#include "ids.h"

#include <stdio.h>
#include <string.h>

/* Relations from 本人's point of view.  Documented in tsunagu.rules(5). */
static const char *const relations[] = {
    "本人",
    "妻", "夫", "配偶者", "内縁",
    "父", "母", "義父", "義母", "継父", "継母", "養父", "養母",
    "子", "長男", "長女", "次男", "次女", "三男", "三女", "息子", "娘",
    "養子", "継子", "子の配偶者",
    "祖父", "祖母", "曾祖父", "曾祖母",
    "孫", "曾孫",
    "兄", "姉", "弟", "妹", "きょうだい", "義兄", "義姉", "義弟", "義妹",
    "おじ", "おば", "伯父", "伯母", "叔父", "叔母", "甥", "姪", "いとこ",
    "親族", "同居人", "その他",
    NULL
};

static const char *const base_features[] = {
    /* DESIGN default policy vocabulary */
    "虐待", "ネグレクト", "児童虐待", "DV", "高齢者虐待", "要介護", "認知症",
    "身体障害", "知的障害", "発達障害", "精神疾患", "依存症", "自殺リスク",
    "ひきこもり", "8050", "生活困窮", "債務", "失業", "生活保護受給",
    "不登校", "ヤングケアラー", "ひとり親", "住居喪失", "判断能力低下",
    "成年後見",
    /* common extra words in case records */
    "障害者虐待", "要支援", "難病", "医療的ケア", "孤立", "ごみ屋敷",
    "介護者負担", "外国籍", "妊娠", "特定妊婦", "非行", "刑余者",
    NULL
};

const char *const *case_relations(void) { return relations; }
const char *const *case_base_features(void) { return base_features; }

bool case_relation_known(const char *rel)
{
    for (size_t i = 0; relations[i]; i++)
        if (strcmp(relations[i], rel) == 0)
            return true;
    return false;
}

static void member_free(case_member_t *m)
{
    free(m->relation);
    strvec_free(&m->features);
    strvec_free(&m->consent_excludes);
}

void case_free(case_t *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->title);
    free(c->district);
    free(c->meeting_type);
    free(c->first_contact);
    strvec_free(&c->involved);
    strvec_free(&c->features);
    for (size_t i = 0; i < c->nmembers; i++)
        member_free(&c->members[i]);
    free(c->members);
    memset(c, 0, sizeof *c);
}

/* ---- field helpers ----------------------------------------------------- */

typedef struct perr {
    char  *buf;
    size_t len;
} perr_t;

static bool fail(perr_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(perr_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (e->buf && e->len)
        vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
    return false;
}

static bool nonempty_utf8(const char *s)
{
    return s[0] != '\0' && utf8_valid(s, strlen(s));
}

/* Required (or optional) non-empty string; NULL/absent allowed when opt. */
static bool get_string(const json_t *obj, const char *key, const char *path,
                       bool optional, char **out, perr_t *e)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (optional)
            return true;
        return fail(e, "%s%s: 必須です (required)", path, key);
    }
    if (!json_is_string(v) || !nonempty_utf8(json_string_value(v)))
        return fail(e, "%s%s: 空でない文字列が必要です (expected a non-empty string)",
                    path, key);
    *out = xstrdup(json_string_value(v));
    return true;
}

static bool get_strings(const json_t *obj, const char *key, const char *path,
                        strvec_t *out, perr_t *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_array(v))
        return fail(e, "%s%s: 文字列の配列が必要です (expected an array of strings)",
                    path, key);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s) || !nonempty_utf8(json_string_value(s)))
            return fail(e, "%s%s[%zu]: 空でない文字列が必要です (expected a non-empty string)",
                        path, key, i);
        if (!strvec_contains(out, json_string_value(s)))
            strvec_push(out, json_string_value(s));
    }
    return true;
}

static bool get_bool(const json_t *obj, const char *key, const char *path,
                     bool optional, bool *out, perr_t *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = false;
        if (optional)
            return true;
        return fail(e, "%s%s: 必須です (required: true/false)", path, key);
    }
    if (!json_is_boolean(v))
        return fail(e, "%s%s: true か false が必要です (expected a boolean)", path, key);
    *out = json_is_true(v);
    return true;
}

static bool parse_age(const json_t *m, const char *path, case_member_t *out,
                      perr_t *e)
{
    json_t *v = json_object_get(m, "age");
    if (!v || json_is_null(v)) {
        out->has_age = false;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 130)
        return fail(e, "%sage: 0〜130 の整数が必要です (expected an integer 0..130)", path);
    out->has_age = true;
    out->age = (int)json_integer_value(v);
    return true;
}

static bool parse_member(const json_t *m, size_t i, case_member_t *out,
                         perr_t *e)
{
    char path[48];
    snprintf(path, sizeof path, "members[%zu].", i);
    if (!json_is_object(m))
        return fail(e, "members[%zu]: オブジェクトが必要です (expected an object)", i);
    if (!get_string(m, "relation", path, false, &out->relation, e))
        return false;
    if (!case_relation_known(out->relation)) {
        strbuf_t b;
        strbuf_init(&b);
        for (size_t k = 0; relations[k]; k++)
            strbuf_printf(&b, "%s%s", k ? " " : "", relations[k]);
        fail(e, "%srelation: 未知の続柄「%s」です。本人から見た続柄を使ってください (unknown relation; known: %s)",
             path, out->relation, b.s);
        strbuf_free(&b);
        return false;
    }
    return parse_age(m, path, out, e) &&
           get_strings(m, "features", path, &out->features, e) &&
           get_bool(m, "consent", path, false, &out->consent, e) &&
           get_strings(m, "consent_excludes", path, &out->consent_excludes, e);
}

static bool parse_members(const json_t *root, case_t *c, perr_t *e)
{
    json_t *ms = json_object_get(root, "members");
    if (!ms || !json_is_array(ms) || json_array_size(ms) == 0)
        return fail(e, "members: 世帯員の配列(1人以上)が必要です (expected a non-empty array)");
    c->members = xcalloc(json_array_size(ms), sizeof *c->members);
    size_t nself = 0, i;
    json_t *m;
    json_array_foreach(ms, i, m) {
        c->nmembers = i + 1;
        if (!parse_member(m, i, &c->members[i], e))
            return false;
        if (strcmp(c->members[i].relation, CASE_RELATION_SELF) == 0 && ++nself > 1)
            return fail(e, "members[%zu].relation: 本人は1人だけです (exactly one 本人)", i);
    }
    if (nself == 0)
        return fail(e, "members: 続柄「本人」の世帯員が必要です (exactly one member with relation 本人)");
    return true;
}

static bool parse_meeting_type(const json_t *root, case_t *c, perr_t *e)
{
    if (!get_string(root, "meeting_type", "", false, &c->meeting_type, e))
        return false;
    if (strcmp(c->meeting_type, CASE_MEETING_SUPPORT) != 0 &&
        strcmp(c->meeting_type, CASE_MEETING_JUUSOU) != 0)
        return fail(e, "meeting_type: 「支援会議」か「重層的支援会議」が必要です (got \"%s\")",
                    c->meeting_type);
    return true;
}

static bool parse_case(const json_t *root, case_t *c, perr_t *e)
{
    if (!json_is_object(root))
        return fail(e, "case: JSON オブジェクトが必要です (expected an object)");
    if (!get_string(root, "id", "", false, &c->id, e))
        return false;
    if (c->id && !ids_valid(c->id))
        return fail(e, "id: " IDS_RULE_TEXT);
    if (!get_string(root, "title", "", true, &c->title, e) ||
        !get_string(root, "district", "", false, &c->district, e) ||
        !parse_meeting_type(root, c, e) ||
        !get_string(root, "first_contact", "", true, &c->first_contact, e) ||
        !get_strings(root, "involved", "", &c->involved, e) ||
        !get_bool(root, "urgent", "", true, &c->urgent, e) ||
        !get_strings(root, "features", "", &c->features, e))
        return false;
    return parse_members(root, c, e);
}

bool case_from_json(const json_t *root, case_t *out, char *err, size_t errlen)
{
    perr_t e = { err, errlen };
    memset(out, 0, sizeof *out);
    if (!parse_case(root, out, &e)) {
        case_free(out);
        return false;
    }
    return true;
}

bool case_load_file(const char *path, case_t *out, char *err, size_t errlen)
{
    json_error_t je;
    memset(out, 0, sizeof *out);
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: JSON の構文エラー: %s", path, je.line,
                 je.column, je.text);
        return false;
    }
    bool ok = case_from_json(root, out, err, errlen);
    json_decref(root);
    return ok;
}

const case_member_t *case_self(const case_t *c)
{
    for (size_t i = 0; i < c->nmembers; i++)
        if (strcmp(c->members[i].relation, CASE_RELATION_SELF) == 0)
            return &c->members[i];
    return NULL;
}

bool case_type_needs_consent(const char *meeting_type)
{
    return !meeting_type || strcmp(meeting_type, CASE_MEETING_SUPPORT) != 0;
}

bool case_excludes(const case_t *c, const char *agency)
{
    const case_member_t *self = case_self(c);
    return self && agency && strvec_contains(&self->consent_excludes, agency);
}

bool case_shares_with(const case_t *c, const char *meeting_type, const char *agency)
{
    if (!case_type_needs_consent(meeting_type))
        return true;
    const case_member_t *self = case_self(c);
    return self && self->consent && !case_excludes(c, agency);
}

/* ---- serialization ----------------------------------------------------- */

static json_t *strvec_json(const strvec_t *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *member_json(const case_member_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "relation", json_string(m->relation));
    json_object_set_new(o, "age", m->has_age ? json_integer(m->age) : json_null());
    json_object_set_new(o, "features", strvec_json(&m->features));
    json_object_set_new(o, "consent", json_boolean(m->consent));
    json_object_set_new(o, "consent_excludes", strvec_json(&m->consent_excludes));
    return o;
}

json_t *case_to_json(const case_t *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "title", opt_string(c->title));
    json_object_set_new(o, "district", json_string(c->district));
    json_object_set_new(o, "meeting_type", json_string(c->meeting_type));
    json_object_set_new(o, "first_contact", opt_string(c->first_contact));
    json_object_set_new(o, "involved", strvec_json(&c->involved));
    json_object_set_new(o, "urgent", json_boolean(c->urgent));
    json_object_set_new(o, "features", strvec_json(&c->features));
    json_t *ms = json_array();
    for (size_t i = 0; i < c->nmembers; i++)
        json_array_append_new(ms, member_json(&c->members[i]));
    json_object_set_new(o, "members", ms);
    return o;
}

/* ---- cross-checks ------------------------------------------------------ */

static bool agency_ref_ok(const city_t *city, const char *id, const char *field,
                          perr_t *e)
{
    if (city_agency(city, id))
        return true;
    return fail(e, "%s: 未登録の機関「%s」です (unknown agency id)", field, id);
}

bool case_check_city(const case_t *c, const city_t *city, char *err,
                     size_t errlen)
{
    perr_t e = { err, errlen };
    char field[96];
    if (city->districts.n && !strvec_contains(&city->districts, c->district))
        return fail(&e, "district: 未知の地区「%s」です (unknown district)", c->district);
    if (c->first_contact && !agency_ref_ok(city, c->first_contact, "first_contact", &e))
        return false;
    for (size_t i = 0; i < c->involved.n; i++) {
        snprintf(field, sizeof field, "involved[%zu]", i);
        if (!agency_ref_ok(city, c->involved.v[i], field, &e))
            return false;
    }
    for (size_t m = 0; m < c->nmembers; m++)
        for (size_t i = 0; i < c->members[m].consent_excludes.n; i++) {
            snprintf(field, sizeof field, "members[%zu].consent_excludes[%zu]", m, i);
            if (!agency_ref_ok(city, c->members[m].consent_excludes.v[i], field, &e))
                return false;
        }
    return true;
}

/* ---- feature warnings -------------------------------------------------- */

static void warn_unknown(const strvec_t *feats, const char *path,
                         const strvec_t *known, const char *known_list,
                         strvec_t *warnings, size_t *count)
{
    for (size_t i = 0; i < feats->n; i++) {
        if (strvec_contains(known, feats->v[i]))
            continue;
        char *w = xasprintf("%sfeatures[%zu]: 未知の課題「%s」です。誤字でなければそのまま保存します"
                            " (unknown feature kept; known: %s)",
                            path, i, feats->v[i], known_list);
        strvec_push(warnings, w);
        free(w);
        (*count)++;
    }
}

size_t case_feature_warnings(const case_t *c, const strvec_t *known,
                             strvec_t *warnings)
{
    strbuf_t list;
    strbuf_init(&list);
    for (size_t i = 0; i < known->n; i++)
        strbuf_printf(&list, "%s%s", i ? " " : "", known->v[i]);
    size_t count = 0;
    warn_unknown(&c->features, "", known, list.s ? list.s : "", warnings, &count);
    for (size_t m = 0; m < c->nmembers; m++) {
        char path[48];
        snprintf(path, sizeof path, "members[%zu].", m);
        warn_unknown(&c->members[m].features, path, known, list.s ? list.s : "",
                     warnings, &count);
    }
    strbuf_free(&list);
    return count;
}
