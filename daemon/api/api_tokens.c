/* SPDX-License-Identifier: MIT */
/*
 * api_tokens.c - bearer tokens: lookup for the router, and the admin
 * endpoints POST/GET /v1/tokens, DELETE /v1/tokens/{id}.
 *
 * A token is "tsu_" + 64 hex digits from getrandom; only its SHA-256 hex
 * is stored, so the plain token is shown exactly once, in the POST reply.
 * The ADMIN_TOKEN from the config is compared in constant time and is
 * never stored.  The tokens table is store_tokens.h's.
 *
 * Calendar subscription keys (issue 10, 自分の機関).  Outlook's 「インター
 * ネットから」 and Google Calendar's 「URLで追加」 cannot send a bearer
 * token or a password, so an agency subscribes to its meetings.ics
 * through a URL that carries its own secret:
 *
 *   GET    /v1/agencies/{id}/ics-key   {"issued", "created"}; never the key
 *   POST   /v1/agencies/{id}/ics-key   issue or re-issue (the old key stops
 *                                      working); the key and its URL, once
 *   DELETE /v1/agencies/{id}/ics-key   revoke
 *   GET    /v1/ics/{key}/meetings.ics  public: the key is the credential
 *                                      (api_meetings.c)
 *
 * The agency itself and staff may manage its key.  A key is "ics_" + 64
 * hex digits, stored hashed as a tokens row with the role "ics:<agency>";
 * api_role_parse refuses that role, so a key is read-only and opens
 * nothing but that one agency's meetings.ics (which holds case id, type,
 * time and status only).  The router logs its path as /v1/ics/….
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"
#include "sha256.h"
#include "store_tokens.h"
#include "timeutil.h"
#include "util.h"

bool api_role_parse(const char *s, api_auth_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return false;
    if (strcmp(s, "admin") == 0)
        out->role = API_ADMIN;
    else if (strcmp(s, "coordinator") == 0)
        out->role = API_COORDINATOR;
    else if (strcmp(s, "secretariat") == 0)
        out->role = API_SECRETARIAT;
    else if (strncmp(s, "agency:", 7) == 0 && s[7] && strlen(s + 7) < sizeof out->agency) {
        out->role = API_AGENCY;
        snprintf(out->agency, sizeof out->agency, "%s", s + 7);
    } else
        return false;
    return true;
}

const char *api_role_name(const api_auth_t *a, char *buf, size_t len)
{
    switch (a->role) {
    case API_ADMIN: snprintf(buf, len, "admin"); break;
    case API_COORDINATOR: snprintf(buf, len, "coordinator"); break;
    case API_SECRETARIAT: snprintf(buf, len, "secretariat"); break;
    case API_AGENCY: snprintf(buf, len, "agency:%s", a->agency); break;
    default: snprintf(buf, len, "none"); break;
    }
    return buf;
}

static bool const_time_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The role and label stored for a token (the store keeps its SHA-256
 * only): malloc'd, as store_token_find; false when there is none. */
static bool stored_token(tsunagud_t *d, const char *token, char **role, char **label)
{
    char hash[65];
    sha256_hex(token, strlen(token), hash);
    return store_token_find(d->store, hash, role, label);
}

bool api_token_lookup(tsunagud_t *d, const char *token, api_auth_t *auth)
{
    const char *admin = config_get(d->config, "ADMIN_TOKEN");
    if (admin && *admin && const_time_eq(token, admin)) {
        memset(auth, 0, sizeof *auth);
        auth->role = API_ADMIN;
        snprintf(auth->label, sizeof auth->label, "config");
        return true;
    }
    char *role, *label;
    if (!stored_token(d, token, &role, &label))
        return false;
    bool ok = false;
    if (api_role_parse(role, auth)) {
        snprintf(auth->label, sizeof auth->label, "%s", label);
        ok = true;
    }
    free(role);
    free(label);
    return ok;
}

/* prefix (4 characters: "tsu_", "ics_") + 64 hex digits from getrandom */
static void new_token(char out[69], const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[32];
    if (random_bytes(raw, sizeof raw) != 0) {
        log_error("tokens: getrandom failed");
        abort();
    }
    memcpy(out, prefix, 4);
    for (int i = 0; i < 32; i++) {
        out[4 + 2 * i] = hex[raw[i] >> 4];
        out[5 + 2 * i] = hex[raw[i] & 15];
    }
    out[68] = '\0';
}

static void h_token_create(api_req_t *r)
{
    json_t *body = api_json_body(r, 0);
    if (!body)
        return;
    const char *role = json_string_value(json_object_get(body, "role"));
    json_t *jlabel = json_object_get(body, "label");
    api_auth_t parsed;
    if (!api_role_parse(role, &parsed)) {
        api_reply_error(r, 400, "bad-request",
                        "role: admin, coordinator, secretariat, agency:<ID> のいずれかを指定してください "
                        "(bad role)");
    } else if (jlabel && !json_is_string(jlabel)) {
        api_reply_error(r, 400, "bad-request", "label: 文字列が必要です (expected a string)");
    } else if (parsed.role == API_AGENCY &&
               !store_agency_exists(r->d->store, parsed.agency)) {
        api_reply_error(r, 400, "bad-request",
                        "role: 機関ID %s は登録されていません。登録済みの機関IDは tsunagu agencies "
                        "で確認できます (unknown agency: %s)", parsed.agency, parsed.agency);
    } else {
        char token[69], hash[65];
        new_token(token, "tsu_");
        sha256_hex(token, strlen(token), hash);
        const char *label = json_string_value(jlabel);
        int64_t now = tu_now();
        int64_t id = store_token_insert(r->d->store, hash, role, label, now);
        if (id <= 0) {
            api_reply_error(r, 500, "store", "トークンを保存できません (store error)");
        } else {
            char iso[TU_ISO_LEN];
            log_info("tokens: created #%lld role=%s label=%s", (long long)id, role, label ? label : "");
            api_reply_json(r, 201, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)id,
                                             "token", token, "role", role, "label",
                                             label ? label : "", "created",
                                             tu_format_iso8601(now, api_zone(r), iso)));
        }
    }
    json_decref(body);
}

static void h_token_list(api_req_t *r)
{
    store_token_t *rows;
    size_t n;
    if (!store_tokens_list(r->d->store, &rows, &n)) {
        api_reply_error(r, 500, "store", "一覧を取得できません (store error)");
        return;
    }
    json_t *arr = json_array();
    const tz_t *zone = api_zone(r);
    for (size_t i = 0; i < n; i++) {
        char iso[TU_ISO_LEN];
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}",
            "id", (json_int_t)rows[i].id, "role", rows[i].role, "label", rows[i].label,
            "created", tu_format_iso8601(rows[i].created, zone, iso)));
    }
    store_tokens_free(rows, n);
    api_reply_json(r, 200, json_pack("{s:o}", "tokens", arr));
}

static void h_token_revoke(api_req_t *r)
{
    const char *ids = api_param(r, "id");
    int64_t id;
    if (!api_param_int64(r, "id", &id))
        return;
    int rc = store_token_delete(r->d->store, id);
    if (rc < 0)
        api_reply_error(r, 500, "store", "削除できません (store error)");
    else if (rc == 0)
        api_404(r, "トークン", ids);
    else {
        log_info("tokens: revoked #%lld", (long long)id);
        api_reply_no_content(r);
    }
}

/* ---- calendar subscription keys ------------------------------------------ */

#define ICS_ROLE_PREFIX "ics:"

/* The {id} agency, known and the caller's own (or the caller is staff);
 * replies 404/403 and returns NULL otherwise. */
static const char *ics_key_agency(api_req_t *r)
{
    const char *id = api_param(r, "id");
    if (!store_agency_exists(r->d->store, id)) {
        api_404(r, "機関", id);
        return NULL;
    }
    if (!api_may_see_agency(r, id)) {
        api_reply_error(r, 403, "forbidden", "他の機関の情報は見られません: %s (another agency)", id);
        return NULL;
    }
    return id;
}

static void h_ics_key_get(api_req_t *r)
{
    const char *id = ics_key_agency(r);
    if (!id)
        return;
    char *role = xasprintf(ICS_ROLE_PREFIX "%s", id);
    int64_t created = 0;
    int rc = store_token_role_created(r->d->store, role, &created);
    free(role);
    if (rc < 0) {
        api_reply_error(r, 500, "store", "購読用アドレスの状態を取得できません (store error)");
        return;
    }
    api_reply_json(r, 200, json_pack("{s:s, s:b, s:o}", "agency", id, "issued", rc == 1,
                                     "created", rc == 1 ? api_time_json(created, api_zone(r), true)
                                                        : json_null()));
}

static void h_ics_key_issue(api_req_t *r)
{
    const char *id = ics_key_agency(r);
    if (!id)
        return;
    char key[69], hash[65];
    new_token(key, "ics_");
    sha256_hex(key, strlen(key), hash);
    char *role = xasprintf(ICS_ROLE_PREFIX "%s", id), *actor = api_actor(r);
    int64_t now = tu_now();
    int64_t row = store_token_replace_role(r->d->store, hash, role, actor, now);
    if (row <= 0) {
        api_reply_error(r, 500, "store", "購読用アドレスを発行できません (store error)");
    } else {
        log_info("tokens: calendar subscription key for %s issued by %s (#%lld)", id, actor,
                 (long long)row);
        char *path = xasprintf("/v1/ics/%s/meetings.ics", key);
        const char *base = config_get(r->d->config, "PUBLIC_URL");
        char *url = NULL;
        if (base && *base) {
            size_t bl = strlen(base);
            while (bl && base[bl - 1] == '/')
                bl--;
            url = xasprintf("%.*s%s", (int)bl, base, path);
        }
        api_reply_json(r, 201, json_pack("{s:s, s:s, s:s, s:o, s:o}", "agency", id, "key", key,
                                         "path", path, "url", url ? json_string(url) : json_null(),
                                         "created", api_time_json(now, api_zone(r), true)));
        free(url);
        free(path);
    }
    free(actor);
    free(role);
}

static void h_ics_key_revoke(api_req_t *r)
{
    const char *id = ics_key_agency(r);
    if (!id)
        return;
    char *role = xasprintf(ICS_ROLE_PREFIX "%s", id);
    int n = store_token_delete_role(r->d->store, role);
    free(role);
    if (n < 0) {
        api_reply_error(r, 500, "store", "購読用アドレスを停止できません (store error)");
        return;
    }
    if (n > 0) {
        char *actor = api_actor(r);
        log_info("tokens: calendar subscription key for %s revoked by %s", id, actor);
        free(actor);
    }
    api_reply_no_content(r);
}

bool api_ics_key_lookup(tsunagud_t *d, const char *key, char *agency, size_t len)
{
    if (!key || strncmp(key, "ics_", 4) != 0 || strlen(key) != 68)
        return false;
    char *role, *label;
    if (!stored_token(d, key, &role, &label))
        return false;
    bool ok = strncmp(role, ICS_ROLE_PREFIX, strlen(ICS_ROLE_PREFIX)) == 0 &&
              strlen(role + strlen(ICS_ROLE_PREFIX)) < len;
    if (ok)
        snprintf(agency, len, "%s", role + strlen(ICS_ROLE_PREFIX));
    free(role);
    free(label);
    return ok;
}

void api_tokens_register(api_t *api)
{
    api_route(api, "POST", "/v1/tokens", API_ADMIN, API_DATA_NONE, h_token_create);
    api_route(api, "GET", "/v1/tokens", API_ADMIN, API_DATA_NONE, h_token_list);
    api_route(api, "DELETE", "/v1/tokens/{id}", API_ADMIN, API_DATA_NONE, h_token_revoke);
    api_route(api, "GET", "/v1/agencies/{id}/ics-key", API_ANY, API_DATA_NONE, h_ics_key_get);
    api_route(api, "POST", "/v1/agencies/{id}/ics-key", API_ANY, API_DATA_NONE, h_ics_key_issue);
    api_route(api, "DELETE", "/v1/agencies/{id}/ics-key", API_ANY, API_DATA_NONE, h_ics_key_revoke);
}
