/* SPDX-License-Identifier: MIT */
/*
 * support_proc.h - generic helpers for tests that run real servers on
 * loopback: pick a free port, spawn a process with its output logged,
 * wait until it accepts connections, stop it, and make temp dirs/files.
 *
 * Everything here is for test binaries only (linked from tests/support).
 * Functions report failure by return value and never abort, so a test can
 * assert on them with a useful message.
 */
#ifndef TSUNAGU_SUPPORT_PROC_H
#define TSUNAGU_SUPPORT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int support_free_port(void);

/* Spawn argv[0] (looked up on PATH when it has no slash) with argv.
 * env: NULL or a NULL-terminated list of "KEY=VALUE" added to (or
 * overriding) the current environment.  cwd: NULL or the working dir.
 * log_path: NULL (inherit) or a file that receives stdout and stderr
 * (appended).  Returns the child's pid, or -1 on failure. */
pid_t support_spawn(const char *const argv[], const char *const env[],
                    const char *cwd, const char *log_path);

/* Wait until 127.0.0.1:port accepts a TCP connection.  When pid > 0,
 * gives up early if that child exits.  true on success. */
bool support_wait_port(int port, int timeout_ms, pid_t pid);

/* SIGTERM, then SIGKILL after timeout_ms; reaps the child.  Returns the
 * wait status (as from waitpid) or -1 if it was not our child. */
int support_stop(pid_t pid, int timeout_ms);

/* true if the child is still running (does not reap a live one). */
bool support_alive(pid_t pid);

/* Sleep ms milliseconds (resumed after signals). */
void support_sleep_ms(int ms);

/* CPU seconds (user + system, all threads) the process has used so far,
 * from /proc/<pid>/stat in clock ticks; 0 when it cannot be read. */
double support_cpu_s(pid_t pid);

/* Make a fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX.
 * Returns a malloc'd path or NULL. */
char *support_mkdtemp(const char *prefix);

/* Remove a directory tree (like rm -rf).  0 on success. */
int support_rmtree(const char *path);

/* Write (create/truncate) a file with mode 0600; len (size_t)-1 means
 * strlen(data).  0 on success, -1 on error. */
int support_write_file(const char *path, const char *data, size_t len);

/* Join dir and name into a malloc'd "dir/name". */
char *support_path(const char *dir, const char *name);

/* Read a whole log file for a failure message (malloc'd, "" if none). */
char *support_read_log(const char *path);

/* Print headline and then the whole log file to stderr (setup failures). */
void support_print_log(const char *headline, const char *path);

#endif
