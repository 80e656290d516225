/* SPDX-License-Identifier: MIT */
/*
 * support_busy.h - test helpers for busy sets: load an expected/busy
 * JSON file ([[start, end], ...] as ISO-8601 strings) into an ivset and
 * describe the first difference between two sets for assertion messages.
 */
#ifndef TSUNAGU_SUPPORT_BUSY_H
#define TSUNAGU_SUPPORT_BUSY_H

#include <stdbool.h>

#include "interval.h"

/* true on success; out is normalized. */
bool support_load_busy_json(const char *path, ivset_t *out);
/* NULL when equal, else a malloc'd description of the first difference. */
char *support_busy_diff(const ivset_t *got, const ivset_t *want);

#endif
