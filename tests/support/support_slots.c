/* SPDX-License-Identifier: MIT */
/*
 * support_slots.c - load a fixture city's slot queries for tests.
 *
 * The unit tests of the engine and of its store side run the same query
 * files (tests/data/<city>/queries) against a city they loaded; this
 * reads and parses one and reports failure by return value.  Nothing
 * here calls cmocka: tests/support is also linked into the benchmarks.
 */
#include "support_slots.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

bool support_load_query(const char *city_dir, const char *name, const city_t *city,
                        slot_query_t *q, slot_error_t *err)
{
    char *path = xasprintf("%s/queries/%s.json", city_dir, name);
    size_t len;
    char *text = read_file(path, &len);
    bool ok = false;
    if (!text) {
        snprintf(err->code, sizeof err->code, "no-file");
        snprintf(err->message, sizeof err->message, "cannot read %s", path);
    } else {
        ok = slot_query_parse(text, len, city, q, err);
    }
    free(text);
    free(path);
    return ok;
}
