/* SPDX-License-Identifier: MIT */
/*
 * sha256.h - a small self-contained SHA-256 (FIPS 180-4), used to store
 * API tokens hashed and to sign per-attendee links.
 */
#ifndef TSUNAGU_SHA256_H
#define TSUNAGU_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t len;
    uint8_t  buf[64];
    size_t   nbuf;
} sha256_ctx_t;

void sha256_init(sha256_ctx_t *c);
void sha256_update(sha256_ctx_t *c, const void *data, size_t n);
void sha256_final(sha256_ctx_t *c, uint8_t out[32]);
void sha256(const void *data, size_t n, uint8_t out[32]);
/* Lower-case hex digest into out (65 bytes incl. NUL). */
void sha256_hex(const void *data, size_t n, char out[65]);
/* HMAC-SHA256 (RFC 2104). */
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                 uint8_t out[32]);
/* Fill buf with n bytes from the OS RNG (getrandom); 0 or -1. */
int  random_bytes(void *buf, size_t n);

#endif
