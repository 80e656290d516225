/* SPDX-License-Identifier: MIT */
/*
 * ui.c - serves the web UI: the HTML shell at / and the embedded assets
 * at /assets/<build>/<name> (see ui.h).
 *
 * Headers: the shell is no-store (it is the entry to case data) and has
 * a CSP that allows only this origin's scripts, styles and connections
 * (no inline script or style, no framing); assets are immutable for a
 * year, since their path changes with every build.  The router's own
 * defaults add nosniff, Referrer-Policy: no-referrer and X-Frame-Options.
 */
#include <string.h>

#include "ui.h"

#define UI_CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
               "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "    \
               "frame-ancestors 'none'"

const ui_asset_t *ui_asset_find(const char *name)
{
    for (const ui_asset_t *a = ui_assets; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

static void add_header(api_req_t *r, const char *k, const char *v)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), k, v);
}

static void h_shell(api_req_t *r)
{
    const ui_asset_t *a = ui_asset_find("index.html");
    add_header(r, "Content-Security-Policy", UI_CSP);
    api_reply_text(r, 200, a->ctype, (const char *)a->data, a->len);
}

static void h_asset(api_req_t *r)
{
    const ui_asset_t *a = ui_asset_find(api_param(r, "name"));
    if (strcmp(api_param(r, "build"), ui_build_id) || !a || !strcmp(a->name, "index.html")) {
        api_404(r, "ファイル", api_param(r, "name"));
        return;
    }
    add_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    add_header(r, "Content-Security-Policy", UI_CSP);
    api_reply_text(r, 200, a->ctype, (const char *)a->data, a->len);
}

void ui_register(api_t *api)
{
    api_route(api, "GET", "/", API_PUBLIC, API_DATA_NONE, h_shell);
    api_route(api, "HEAD", "/", API_PUBLIC, API_DATA_NONE, h_shell);
    api_route(api, "GET", "/assets/{build}/{name}", API_PUBLIC, API_DATA_NONE, h_asset);
    api_route(api, "HEAD", "/assets/{build}/{name}", API_PUBLIC, API_DATA_NONE, h_asset);
}
