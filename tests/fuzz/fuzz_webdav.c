/* SPDX-License-Identifier: MIT */
/*
 * fuzz_webdav.c - libFuzzer harness for the WebDAV XML reader
 * (calendars/webdav.c): any body a CalDAV server could answer a
 * PROPFIND/REPORT with goes through dav_parse_multistatus, and every
 * href it returns through dav_resolve_href against a fixed base.
 */
#include <stdint.h>
#include <stdlib.h>

#include "webdav.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dav_multistatus_t ms = {0};
    char *err = NULL;
    if (dav_parse_multistatus((const char *)data, size, &ms, &err) != 0) {
        if (err == NULL)
            abort();                    /* a failure must say why */
        free(err);
        return 0;
    }
    for (size_t i = 0; i < ms.n; i++)
        free(dav_resolve_href("http://127.0.0.1:5232/user/cal/", ms.v[i].href));
    dav_multistatus_free(&ms);
    return 0;
}
