/* SPDX-License-Identifier: MIT */
/*
 * store_ckpt.h - WAL checkpoints off the event loop (issue 14: a
 * checkpoint on the loop stalled it for up to 1.8 s at 100,000 feeds).
 *
 * A checkpointer is a thread with its own connection to the store's file.
 * It runs a PASSIVE checkpoint (never waits for readers or writers, so
 * the loop's commits go on appending to the WAL meanwhile) each time the
 * loop's commits have added `pages` frames to the WAL since the last
 * request - counted by sqlite3_wal_hook on the loop's connection, which
 * also replaces SQLite's automatic checkpoint - or when store_ckpt_kick
 * asks (the daemon's CHECKPOINT_INTERVAL timer).  Frequent small
 * checkpoints keep each one short and the WAL small; the store's
 * journal_size_limit (store.c) trims the file after a burst.  The loop
 * thread itself never copies a page.
 *
 * The exit still truncates the WAL from the loop (store_checkpoint with
 * truncate) after store_ckpt_stop has joined the thread.
 */
#ifndef TSUNAGU_STORE_CKPT_H
#define TSUNAGU_STORE_CKPT_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

typedef struct store_ckpt store_ckpt_t;

typedef struct store_ckpt_stats {
    long   runs;              /* checkpoints run */
    long   frames_copied;     /* sum of frames backfilled by them */
    double max_ms, sum_ms;    /* time spent in the checkpoint call (on the thread) */
} store_ckpt_stats_t;

/* Start checkpointing st's database every `pages` WAL frames (>= 1).
 * NULL with err on failure; NULL with err "" for a database without a
 * file (":memory:"), which has no WAL. */
store_ckpt_t *store_ckpt_start(store_t *st, int pages, char *err, size_t errlen);
void store_ckpt_set_pages(store_ckpt_t *c, int pages);
void store_ckpt_kick(store_ckpt_t *c);              /* checkpoint soon */
void store_ckpt_stats(store_ckpt_t *c, store_ckpt_stats_t *out);
/* Remove the hook and join the thread (a checkpoint running finishes
 * first).  NULL is fine. */
void store_ckpt_stop(store_ckpt_t *c);

#endif
