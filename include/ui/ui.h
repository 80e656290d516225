/* SPDX-License-Identifier: MIT */
/*
 * ui.h - the web UI served by tsunagud itself (daemon/ui/).
 *
 * The assets (daemon/ui/assets/: one HTML shell, CSS, ES modules) are
 * compiled into the binary by daemon/ui/tools/ui_embed.c, which also
 * computes a build id from their contents.  ui_register adds two public
 * routes to the API's router:
 *   GET /                         the HTML shell (no-store, strict CSP)
 *   GET /assets/<build>/<name>    an asset, cached as immutable: a new
 *                                 build has new paths
 * Everything else the pages need comes from /v1 with the person's session
 * cookie; the UI hides what a role cannot do, the API enforces it.
 */
#ifndef TSUNAGU_UI_H
#define TSUNAGU_UI_H

#include <stddef.h>

#include "api.h"

typedef struct ui_asset {
    const char          *name;        /* file name, e.g. "app.js" */
    const char          *ctype;       /* Content-Type */
    const unsigned char *data;
    size_t               len;
} ui_asset_t;

/* Generated (build/gen/ui_assets.c): terminated by {NULL}. */
extern const ui_asset_t ui_assets[];
extern const char ui_build_id[];

const ui_asset_t *ui_asset_find(const char *name);
void ui_register(api_t *api);

#endif
