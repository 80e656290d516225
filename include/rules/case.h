/* SPDX-License-Identifier: MIT */
/*
 * case.h - a case (ケース): the household, its members, consent and the
 * agencies already involved, in the interchange format of DESIGN
 * (cases/Y-01.json and friends).
 *
 * Parsing validates every field and names the offending one on error, e.g.
 * "members[1].relation: 未知の続柄「従兄」(known: 本人, 妻, ...)".
 * Relations are stated from 本人's point of view and must come from the
 * documented vocabulary (case_relations()); exactly one member is 本人.
 *
 * Features (課題) are free text so that a municipality can add its own; an
 * unknown feature is kept, and case_feature_warnings() reports it with the
 * list of known features so that typos are caught.  The known-feature
 * vocabulary is case_base_features() plus whatever the loaded rule set
 * mentions (rules_known_features() in rules.h).
 */
#ifndef TSUNAGU_CASE_H
#define TSUNAGU_CASE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "city.h"
#include "util.h"

#define CASE_MEETING_SUPPORT  "支援会議"        /* 社会福祉法106条の6, no consent */
#define CASE_MEETING_JUUSOU   "重層的支援会議"  /* needs 本人's consent */
#define CASE_RELATION_SELF    "本人"

typedef struct case_member {
    char    *relation;          /* from the vocabulary, 本人's point of view */
    bool     has_age;           /* age may be null (unknown) */
    int      age;               /* 0..130 */
    strvec_t features;
    bool     consent;
    strvec_t consent_excludes;  /* agency ids this member excludes */
} case_member_t;

typedef struct case_rec {
    char          *id;
    char          *title;        /* may be NULL */
    char          *district;
    char          *meeting_type; /* 支援会議 | 重層的支援会議 */
    char          *first_contact;/* agency id or NULL */
    strvec_t       involved;     /* agency ids */
    bool           urgent;
    strvec_t       features;     /* household features */
    case_member_t *members;
    size_t         nmembers;
} case_t;

/* Parse a case document.  On error returns false, writes a message that
 * names the field into err and leaves out zeroed (nothing to free). */
bool case_from_json(const json_t *root, case_t *out, char *err, size_t errlen);
bool case_load_file(const char *path, case_t *out, char *err, size_t errlen);
void case_free(case_t *c);
json_t *case_to_json(const case_t *c);

/* The member with relation 本人 (validated to exist exactly once). */
const case_member_t *case_self(const case_t *c);

/* DESIGN "Meetings and consent": every meeting type except 支援会議
 * (statutory, 社会福祉法106条の6) is consent-based. */
bool case_type_needs_consent(const char *meeting_type);
/* Under a consent-based type: may `agency` learn of the case?  true when
 * 本人 consented and did not exclude it.  Always true under 支援会議. */
bool case_shares_with(const case_t *c, const char *meeting_type, const char *agency);
/* 本人 excluded `agency` (whatever the meeting type). */
bool case_excludes(const case_t *c, const char *agency);

/* Cross-check against the registry: district known, every agency id in
 * first_contact / involved / consent_excludes exists.  false + err. */
bool case_check_city(const case_t *c, const city_t *city, char *err,
                     size_t errlen);

/* The relation vocabulary (NULL-terminated) and a membership test. */
const char *const *case_relations(void);
bool case_relation_known(const char *rel);

/* Base known features (NULL-terminated): the vocabulary of DESIGN's
 * default policy plus common extra words; rule sets add their own. */
const char *const *case_base_features(void);

/* For every feature of the case that is not in known (household and
 * members), push a Japanese warning naming the field and listing the known
 * features, e.g. "members[0].features[1]: 未知の課題「認知賞」...".
 * Returns the number of warnings added. */
size_t case_feature_warnings(const case_t *c, const strvec_t *known,
                             strvec_t *warnings);

#endif
