/* SPDX-License-Identifier: MIT */
/*
 * support_busy.c - load expected busy sets and compare them readably.
 *
 * The fixtures' expected/busy files were computed independently (python
 * icalendar + recurring-ical-events); tests compare tsunagu's output to
 * them interval by interval and print the first mismatch in local time.
 */
#include "support_busy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"
#include "util.h"

bool support_load_busy_json(const char *path, ivset_t *out)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!json_is_array(root)) {
        json_decref(root);
        return false;
    }
    bool ok = true;
    size_t i;
    json_t *pair;
    json_array_foreach(root, i, pair) {
        int64_t s, e;
        const char *a = json_string_value(json_array_get(pair, 0));
        const char *b = json_string_value(json_array_get(pair, 1));
        if (!a || !b || !tu_parse_iso8601(a, NULL, &s) || !tu_parse_iso8601(b, NULL, &e)) {
            ok = false;
            break;
        }
        ivset_push(out, s, e);
    }
    json_decref(root);
    ivset_normalize(out);
    return ok;
}

char *support_busy_diff(const ivset_t *got, const ivset_t *want)
{
    char a[TU_ISO_LEN], b[TU_ISO_LEN], c[TU_ISO_LEN], d[TU_ISO_LEN];
    const tz_t *tz = tz_default();
    size_t n = got->n < want->n ? got->n : want->n;
    for (size_t i = 0; i < n; i++) {
        if (got->v[i].start != want->v[i].start || got->v[i].end != want->v[i].end)
            return xasprintf("interval %zu: got [%s, %s) want [%s, %s) (got %zu, want %zu intervals)",
                             i, tu_format_iso8601(got->v[i].start, tz, a),
                             tu_format_iso8601(got->v[i].end, tz, b),
                             tu_format_iso8601(want->v[i].start, tz, c),
                             tu_format_iso8601(want->v[i].end, tz, d), got->n, want->n);
    }
    if (got->n != want->n) {
        const ivset_t *longer = got->n > want->n ? got : want;
        return xasprintf("got %zu intervals, want %zu; first extra in %s: [%s, %s)",
                         got->n, want->n, longer == got ? "got" : "want",
                         tu_format_iso8601(longer->v[n].start, tz, a),
                         tu_format_iso8601(longer->v[n].end, tz, b));
    }
    return NULL;
}
