/* SPDX-License-Identifier: MIT */
/*
 * rules_int.h - internal representation of a parsed rule set, shared by
 * rules_parse.c, rules_eval.c and rules_explain.c (not a public header).
 *
 * Everything a condition mentions is interned at parse time: features and
 * fields become small integers (symtab_t), so evaluation compares ints and
 * tests bits instead of comparing strings.
 */
#ifndef TSUNAGU_RULES_INT_H
#define TSUNAGU_RULES_INT_H

#include "rules.h"

/* String -> dense index (open addressing, FNV-1a).  Names live in `names`. */
typedef struct symtab {
    strvec_t names;
    int     *slots;          /* -1 empty, else index into names */
    size_t   cap;            /* power of two */
} symtab_t;

void symtab_init(symtab_t *t);
void symtab_free(symtab_t *t);
int  symtab_find(const symtab_t *t, const char *s);    /* -1 if absent */
int  symtab_intern(symtab_t *t, const char *s);

typedef struct idlist {
    int   *v;
    size_t n;
} idlist_t;

typedef enum mfilter_kind { MF_AGE, MF_RELATION, MF_HAS, MF_LACKS } mfilter_kind_t;

typedef struct mfilter {
    mfilter_kind_t kind;
    int            lo, hi;       /* MF_AGE: lo <= age <= hi */
    idlist_t       ids;          /* MF_HAS/MF_LACKS: feature ids */
    strvec_t       words;        /* MF_RELATION */
} mfilter_t;

typedef enum atom_kind {
    A_HOUSEHOLD_HAS, A_HOUSEHOLD_LACKS, A_MEMBER, A_URGENT, A_MEETING,
    A_DISTRICT
} atom_kind_t;

typedef struct atom {
    atom_kind_t kind;
    idlist_t    ids;             /* household feature ids */
    strvec_t    words;           /* meeting types / districts */
    mfilter_t  *f;               /* A_MEMBER: all must hold for one member */
    size_t      nf;
} atom_t;

typedef struct clause {          /* atoms joined by `and` */
    atom_t *atoms;
    size_t  n;
} clause_t;

typedef struct score {
    int field, points;
} score_t;

typedef struct rule {
    char     *id;
    char     *reason;
    int       line;
    clause_t *when;              /* `when` lines: any one may match */
    size_t    nwhen;
    score_t  *scores;
    size_t    nscores;
    int       force_field;       /* -1 when not forced */
    int       precedence;        /* 1 = strongest */
} rule_t;

typedef enum tb_kind { TBK_LEAD_CASES, TBK_FREE_MINUTES, TBK_ID } tb_kind_t;

struct ruleset {
    char     *filename, *source, *policy;
    char      hash[65];
    symtab_t  fields;            /* field names; index = field id */
    bool     *field_excluded;    /* exclude-field (sized fields.names.n) */
    symtab_t  features;          /* interned features */
    strvec_t  declared_features; /* `feature` lines, for the vocabulary */
    rule_t   *rules;
    size_t    nrules;
    int       bonus_involved, bonus_first;
    char     *bonus_involved_reason, *bonus_first_reason;
    unsigned  elig_enabled;      /* ELIG_* bits */
    char     *elig_label[ELIG_KINDS];
    tb_kind_t steps[3];
    size_t    nsteps;
    int       free_days;
};

/* Base fields (DESIGN glossary), NULL-terminated. */
extern const char *const rules_base_fields[];

#endif
