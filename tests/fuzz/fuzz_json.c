/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c - libFuzzer harness for the JSON body validators that do
 * not need the daemon: a case (rules/case.c), a slot query
 * (calendars/slots.c, against the Yamanami city) and an agencies.json
 * import (core/city.c).  The first byte picks the validator, the rest is
 * the body; an accepted case is also checked against the city and
 * written back out, as the API does.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_fixture.h"
#include "slots.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_load_city();
    return 0;
}

static void check_case(const json_t *doc)
{
    case_t c;
    char err[512];
    if (!case_from_json(doc, &c, err, sizeof err))
        return;
    case_check_city(&c, &fuzz_city, err, sizeof err);
    json_decref(case_to_json(&c));
    case_free(&c);
}

static void check_slot_query(const json_t *doc)
{
    slot_query_t q;
    slot_error_t err;
    slot_query_init(&q);
    slot_query_from_json(doc, &fuzz_city, &q, &err);
    slot_query_free(&q);
}

static void check_city(const json_t *doc)
{
    city_t c;
    char err[512];
    if (city_from_json(doc, NULL, &c, err, sizeof err))
        city_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return 0;
    switch (data[0] % 3) {
    case 0: check_case(doc); break;
    case 1: check_slot_query(doc); break;
    default: check_city(doc); break;
    }
    json_decref(doc);
    return 0;
}
