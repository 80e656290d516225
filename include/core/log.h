/* SPDX-License-Identifier: MIT */
/*
 * log.h - one-line logs to stderr: "2026-12-01T00:00:00Z info  message".
 *
 * The timestamp is the real wall clock (not tu_now(), which may be
 * overridden for tests).  Newlines inside messages are replaced by spaces
 * so every event stays one line.  log_set_level filters (default info;
 * TSUNAGU_LOG_LEVEL=debug enables debug).
 */
#ifndef TSUNAGU_LOG_H
#define TSUNAGU_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_set_level(log_level_t lvl);
void log_msg(log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
