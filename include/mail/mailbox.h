/* SPDX-License-Identifier: MIT */
/*
 * mailbox.h - one RFC 5322 mailbox (section 3.4), the only way tsunagu
 * reads a From: header.
 *
 * Accepted: addr-spec ("a@b.example") or name-addr ("名前 <a@b.example>",
 * "\"Q, S\" <a@b.example>", encoded words, raw UTF-8 in the display
 * name per RFC 6532), with comments and folding white space where RFC
 * 5322 allows CFWS.  Refused: a list ("a@x, b@y"), anything after the
 * mailbox ("<a@x> evil@y"), a group, an empty or unterminated value,
 * quoted local parts and domain literals (never a municipal address).
 */
#ifndef TSUNAGU_MAILBOX_H
#define TSUNAGU_MAILBOX_H

#include <stdbool.h>

/* The addr-spec of exactly one mailbox, lower-cased (malloc'd), or NULL. */
char *mailbox_parse(const char *value);

#endif
