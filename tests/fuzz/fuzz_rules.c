/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rules.c - libFuzzer harness for the rules language (rules/): any
 * text a secretariat could save as a rule file goes through rules_parse.
 * A file that parses is then evaluated against case Y-01 of the Yamanami
 * fixture and explained, so the evaluator and the Japanese explanation
 * see every construct the parser accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fixture.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static case_t fuzz_case;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_load_city();
    fuzz_load_case("Y-01", &fuzz_case);
    return 0;
}

static void evaluate(const ruleset_t *rs)
{
    proposal_t p;
    rules_propose(rs, &fuzz_city, &fuzz_case, NULL, &p);
    json_t *j = rules_explain_json(&p);
    char *text = rules_explain_text(&p);
    char *msg = proposal_error_message(&p);
    json_decref(j);
    free(text);
    free(msg);
    proposal_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    ruleset_t *rs = rules_parse((const char *)data, size, "fuzz.rules", err, sizeof err);
    if (rs == NULL) {
        if (strncmp(err, "fuzz.rules:", 11) != 0)
            abort();                    /* errors must say file:line:col */
        return 0;
    }
    evaluate(rs);
    rules_free(rs);
    return 0;
}
