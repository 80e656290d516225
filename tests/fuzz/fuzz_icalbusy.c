/* SPDX-License-Identifier: MIT */
/*
 * fuzz_icalbusy.c - libFuzzer harness for the iCalendar ingest
 * (calendars/icalbusy.c): any bytes a feed could serve go through
 * icalbusy_parse_ex over a fixed 60-day window in Asia/Tokyo.  The
 * result must be either an error string or a normalized busy set.
 * icalbusy_parse_ex is the no-charset case of icalbusy_parse_text, so
 * bytes that are not UTF-8 also go through the CP932 decoding
 * (ical_charset.c) the feeds use; the seed corpus has a Shift_JIS file.
 *
 * libical keeps its temporary strings in a per-thread ring that it frees
 * only when the ring wraps, so most inputs end with more allocations than
 * frees.  libFuzzer then re-runs the input and scans the whole heap for
 * leaks, at 0.3 s a scan, until it gives up on leak detection after 1,000
 * scans.  Freeing the ring after each input keeps the books balanced, the
 * fuzzer fast, and leak detection on for the whole run.
 */
#include <stdint.h>
#include <libical/ical.h>
#include <stdlib.h>

#include "icalbusy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icalbusy_opts_t opts = {
        .default_tz = tz_default(),
        .from = 1796083200,             /* 2026-12-01T00:00Z */
        .to = 1796083200 + 60 * 86400,
    };
    ivset_t busy;
    strvec_t warnings = {0};
    icalbusy_coverage_t cover;
    char *err = NULL;
    ivset_init(&busy);
    int rc = icalbusy_parse_ex((const char *)data, size, &opts, &busy,
                               &warnings, &cover, &err);
    if (rc != 0 && err == NULL)
        abort();                        /* a failure must say why */
    for (size_t i = 1; rc == 0 && i < busy.n; i++)
        if (busy.v[i].start <= busy.v[i - 1].end)
            abort();                    /* the set must be normalized */
    free(err);
    ivset_free(&busy);
    strvec_free(&warnings);
    icalmemory_free_ring();
    return 0;
}
