/* SPDX-License-Identifier: MIT */
/*
 * log.c - one-line logs to stderr.
 *
 * Each event is formatted into a local buffer with the real UTC wall
 * clock, a level word and the message; control characters (newlines from
 * error texts) become spaces, and the whole line goes out in one write so
 * lines from a child and the daemon never interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static log_level_t min_level = LOG_INFO;
static int level_from_env = -1;

void log_set_level(log_level_t lvl)
{
    min_level = lvl;
    level_from_env = 1;
}

static void init_level(void)
{
    if (level_from_env >= 0)
        return;
    const char *e = getenv("TSUNAGU_LOG_LEVEL");
    if (e && strcmp(e, "debug") == 0)
        min_level = LOG_DEBUG;
    else if (e && strcmp(e, "warn") == 0)
        min_level = LOG_WARN;
    else if (e && strcmp(e, "error") == 0)
        min_level = LOG_ERROR;
    level_from_env = 1;
}

static const char *level_word(log_level_t lvl)
{
    switch (lvl) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO:  return "info ";
    case LOG_WARN:  return "warn ";
    default:        return "error";
    }
}

void log_msg(log_level_t lvl, const char *fmt, ...)
{
    init_level();
    if (lvl < min_level)
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_word(lvl));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
