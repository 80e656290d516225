/* SPDX-License-Identifier: MIT */
/*
 * fuzz_fixture.h - what several harnesses share: the Yamanami city and a
 * few of its cases, loaded once from tests/data (run from the project
 * root, as `make fuzz` does).  Header-only so each harness stays one file.
 */
#ifndef TSUNAGU_FUZZ_FIXTURE_H
#define TSUNAGU_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "case.h"
#include "city.h"

#define FUZZ_DATA "tests/data/yamanami/"

static city_t fuzz_city;

static void fuzz_load_city(void)
{
    char err[512];
    if (!city_load_file(FUZZ_DATA "agencies.json", &fuzz_city, err, sizeof err)) {
        fprintf(stderr, "fuzz: %s (run from the project root)\n", err);
        exit(2);
    }
}

static void fuzz_load_case(const char *id, case_t *out)
{
    char path[256], err[512];
    snprintf(path, sizeof path, FUZZ_DATA "cases/%s.json", id);
    if (!case_load_file(path, out, err, sizeof err)) {
        fprintf(stderr, "fuzz: %s\n", err);
        exit(2);
    }
}

#endif
