/* SPDX-License-Identifier: MIT */
/*
 * city_import.h - POST /v1/import's write, in steps on the event loop.
 *
 * Choice (issue 14): the import runs in steps, not as a 202 job.  The
 * JSON parse, validation and url resolution run on the parse pool; the
 * write (store_import_t) then runs on the loop IMPORT_STEP_MS at a time,
 * one commit per step, at background priority, so /healthz and every
 * other request are served between steps.  The request is answered when
 * the last step has committed: 200 always means committed, 400 means
 * nothing was written.  A client that gave up waiting asks GET
 * /v1/import (city_import_status_json) how the last import ended.
 * One import at a time: city_import_start refuses a second one while a
 * first is running, and the API answers that with 409.
 */
#ifndef TSUNAGU_CITY_IMPORT_H
#define TSUNAGU_CITY_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "store.h"

#define IMPORT_STEP_MS 20.0     /* budget of one step on the loop (the bound is 50 ms) */

typedef struct city_import_result {
    int         status;          /* 200 committed, 400 refused (nothing written), 500 store error */
    const char *error;           /* Japanese first; NULL on 200 */
    const char *city;            /* the city's name on 200 */
    size_t      agencies, feeds;
    double      seconds;         /* from start to the last commit */
    int         steps;
    const strvec_t *url_changed; /* calendars already stored whose kind or url changed:
                                  * their busy data was dropped and is fetched again */
} city_import_result_t;

typedef void (*city_import_done_fn)(const city_import_result_t *res, void *arg);

/* Run imp (ownership taken on success) in steps; done is called once on
 * the loop when it ends.  On 200 the daemon's city is the new one and the
 * feed scheduler is resyncing.  false (imp untouched, done never called)
 * while another import is running. */
bool city_import_start(tsunagud_t *d, store_import_t *imp, city_import_done_fn done, void *arg);
bool city_import_running(void);
/* Shutdown (the drain ran out): end a running import as failed (500 to
 * its request, "failed" in the status); what it wrote stays. */
void city_import_stop(void);

/* {"state": "none"|"running"|"done"|"refused"|"failed", "started": iso,
 *  "finished": iso, "done_rows", "total_rows", "agencies", "feeds",
 *  "seconds", "steps", "max_step_ms", "max_step_cpu_ms", "error"}: the running or last
 * import (new reference). */
json_t *city_import_status_json(void);

#endif
