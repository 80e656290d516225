/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imip_reply.c - libFuzzer harness for the iMIP reply reader
 * (daemon/mail/imip.c): any mail an agency's client could send back goes
 * through imip_parse_reply (MIME walk, base64/quoted-printable, libical).
 */
#include <stdint.h>
#include <stdlib.h>

#include "imip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imip_reply_t reply = {0};
    char *err = NULL;
    if (!imip_parse_reply((const char *)data, size, &reply, &err)) {
        if (err == NULL)
            abort();                    /* a refusal must say why */
        free(err);
        return 0;
    }
    if (reply.uid == NULL || reply.attendee == NULL)
        abort();                        /* an accepted reply names both */
    imip_reply_free(&reply);
    return 0;
}
