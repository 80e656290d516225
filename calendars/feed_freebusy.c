/* SPDX-License-Identifier: MIT */
/*
 * feed_freebusy.c - the "freebusy" feed kind: a published VFREEBUSY
 * document (http(s) or local file).
 *
 * Fetching, conditional requests and local files are exactly those of the
 * ics kind, so this backend delegates to feed_ics_start() and only adds
 * one check: the document must contain a VFREEBUSY component, so that a
 * misconfigured URL pointing at something else fails loudly instead of
 * silently reporting an agency as always free.  FREEBUSY periods (all
 * FBTYPEs but FREE) become busy time in icalbusy.c.
 */
#include "feed_backend.h"

static int freebusy_start(feed_job_t *job)
{
    return feed_ics_start(job, true);
}

const feed_backend_t feed_backend_freebusy = {
    .kind = FEED_FREEBUSY,
    .name = "freebusy",
    .start = freebusy_start,
    .cleanup = feed_ics_cleanup,
};
