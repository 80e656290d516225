/* SPDX-License-Identifier: MIT */
/*
 * support_slots.h - test helpers for the slot engine's inputs: a fixture
 * city's slot query (CITY_DIR/queries/NAME.json) read and parsed against
 * the loaded city.
 */
#ifndef TSUNAGU_SUPPORT_SLOTS_H
#define TSUNAGU_SUPPORT_SLOTS_H

#include <stdbool.h>

#include "city.h"
#include "slots.h"

/* Read city_dir/queries/NAME.json and parse it with slot_query_parse.
 * false with err filled when the file cannot be read (code "no-file") or
 * the query is refused (the parser's code and message). */
bool support_load_query(const char *city_dir, const char *name, const city_t *city,
                        slot_query_t *q, slot_error_t *err);

#endif
