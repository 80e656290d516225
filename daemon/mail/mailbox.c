/* SPDX-License-Identifier: MIT */
/*
 * mailbox.c - a strict recursive-descent reader of one RFC 5322 mailbox.
 *
 * The grammar, reduced to what tsunagu accepts (see mailbox.h):
 *
 *   mailbox      = [CFWS] (addr-spec / [phrase] "<" addr-spec ">") [CFWS] END
 *   addr-spec    = dot-atom "@" dot-atom          (CFWS allowed around each)
 *   phrase       = 1*(atom / quoted-string / ".") (obs-phrase allows ".")
 *   CFWS         = white space and (nested, quoted-pair aware) comments
 *
 * Every function takes the cursor by pointer and leaves it unchanged when
 * it fails, so the addr-spec form can be tried first and name-addr after.
 * The result is the addr-spec alone, lower-cased, as the rest of tsunagu
 * compares addresses.
 */
#include "mailbox.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool atext(unsigned char c)
{
    return isalnum(c) || c >= 0x80 || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

static bool comment(const char **pp)
{
    const char *p = *pp;
    if (*p != '(')
        return false;
    int depth = 0;
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0) {
            *pp = p + 1;
            return true;
        }
    }
    return false;   /* unterminated */
}

/* Skips CFWS; false on an unterminated comment. */
static bool cfws(const char **pp)
{
    for (;;) {
        while (**pp == ' ' || **pp == '\t' || **pp == '\r' || **pp == '\n')
            (*pp)++;
        if (**pp != '(')
            return true;
        if (!comment(pp))
            return false;
    }
}

static bool atom(const char **pp)
{
    const char *p = *pp;
    while (atext((unsigned char)*p))
        p++;
    if (p == *pp)
        return false;
    *pp = p;
    return true;
}

static bool quoted_string(const char **pp)
{
    const char *p = *pp;
    if (*p != '"')
        return false;
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    if (*p != '"')
        return false;
    *pp = p + 1;
    return true;
}

/* dot-atom-text: atom *("." atom), ASCII only (addresses stay ASCII). */
static bool dot_atom(const char **pp)
{
    const char *p = *pp;
    for (;;) {
        const char *s = p;
        while (*p && (unsigned char)*p < 0x80 && atext((unsigned char)*p))
            p++;
        if (p == s)
            return false;
        if (*p != '.')
            break;
        p++;
    }
    *pp = p;
    return true;
}

/* A dot-atom with CFWS around it; [*s, *e) is the atom. */
static bool spanned_atom(const char **pp, const char **s, const char **e)
{
    const char *p = *pp;
    if (!cfws(&p))
        return false;
    *s = p;
    if (!dot_atom(&p))
        return false;
    *e = p;
    if (!cfws(&p))
        return false;
    *pp = p;
    return true;
}

/* addr-spec with CFWS around its parts; *out = "local@domain" lower-cased. */
static bool addr_spec(const char **pp, char **out)
{
    const char *p = *pp, *ls, *le, *ds, *de;
    if (!spanned_atom(&p, &ls, &le) || *p != '@')
        return false;
    p++;
    if (!spanned_atom(&p, &ds, &de))
        return false;
    char *a = xasprintf("%.*s@%.*s", (int)(le - ls), ls, (int)(de - ds), ds);
    for (char *q = a; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    *out = a;
    *pp = p;
    return true;
}

static bool phrase(const char **pp)
{
    const char *p = *pp;
    int words = 0;
    for (;;) {
        if (!cfws(&p))
            return false;
        if (atom(&p) || quoted_string(&p))
            words++;
        else if (*p == '.' && words > 0)
            p++;
        else
            break;
    }
    if (words == 0)
        return false;
    *pp = p;
    return true;
}

static bool name_addr(const char **pp, char **out)
{
    const char *p = *pp;
    phrase(&p);                  /* optional display name */
    if (!cfws(&p) || *p != '<')
        return false;
    p++;
    char *a = NULL;
    if (!addr_spec(&p, &a))
        return false;
    if (*p != '>') {
        free(a);
        return false;
    }
    p++;
    if (!cfws(&p)) {
        free(a);
        return false;
    }
    *out = a;
    *pp = p;
    return true;
}

char *mailbox_parse(const char *value)
{
    if (!value)
        return NULL;
    char *a = NULL;
    const char *p = value;
    if (addr_spec(&p, &a) && *p == '\0')
        return a;
    free(a);
    a = NULL;
    p = value;
    if (name_addr(&p, &a) && *p == '\0')
        return a;
    free(a);
    return NULL;
}
