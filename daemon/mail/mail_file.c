/* SPDX-License-Identifier: MIT */
/*
 * mail_file.c - "file" transport: append each message to one mbox-like
 * file (a "From " separator line, the message with LF line ends, lines
 * starting with "From " quoted as ">From ").  Writes are one write() under
 * an exclusive flock, never waited for (a locked file is a TEMPFAIL), and
 * fsync'd.  delivered() scans the file for the
 * Message-ID header, so a crash between append and the outbox's commit
 * never produces a second copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "mailer.h"
#include "util.h"

static int file_init(mailer_t *m, const mailer_config_t *cfg, char **err)
{
    if (!cfg->path || !*cfg->path) {
        *err = xstrdup("出力ファイル (MAIL_PATH) を指定してください");
        return -1;
    }
    int fd = open(cfg->path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0) {
        *err = xasprintf("出力ファイルを開けません: %s (%s)", cfg->path, strerror(errno));
        return -1;
    }
    close(fd);
    m->priv = xstrdup(cfg->path);
    return 0;
}

static char *mbox_entry(const char *from, const char *msg, size_t len)
{
    strbuf_t b;
    strbuf_init(&b);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    strbuf_printf(&b, "From %s %s\n", from, date);
    bool bol = true;
    for (size_t i = 0; i < len; i++) {
        if (bol && len - i >= 5 && memcmp(msg + i, "From ", 5) == 0) strbuf_putc(&b, '>');
        if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') continue;
        strbuf_putc(&b, msg[i]);
        bol = msg[i] == '\n';
    }
    if (!bol) strbuf_putc(&b, '\n');
    strbuf_putc(&b, '\n');
    return strbuf_detach(&b);
}

static int file_send(mailer_t *m, const char *from, const char *rcpt,
                     const char *msg, size_t len, const char *message_id,
                     mailer_done_cb done, void *arg)
{
    const char *path = m->priv;
    char *entry = mbox_entry(from, msg, len);
    size_t n = strlen(entry);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    /* LOCK_NB: this runs on the event loop, and a mail reader holding the
     * lock must not stall the daemon; the outbox retries a TEMPFAIL */
    bool ok = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
              write(fd, entry, n) == (ssize_t)n && fsync(fd) == 0;
    char *detail = ok ? xasprintf("file %s", path)
                 : errno == EWOULDBLOCK ? xasprintf("file: 他のプロセスがロック中です (locked by another process)")
                 : xasprintf("file: %s", strerror(errno));
    if (fd >= 0) close(fd);
    mailer_complete_later(m, done, arg, ok ? MAIL_SENT : MAIL_TEMPFAIL, detail);
    free(detail);
    free(entry);
    return 0;
}

static mailer_known_t file_delivered(mailer_t *m, const char *message_id)
{
    size_t len = 0;
    char *data = read_file(m->priv, &len);
    if (!data) return MAILER_UNKNOWN;
    char *needle = xasprintf("\nMessage-ID: %s\n", message_id);
    bool found = strstr(data, needle) != NULL;
    free(needle);
    free(data);
    return found ? MAILER_DELIVERED : MAILER_NOT_DELIVERED;
}

const mailer_backend_t mail_file_backend = {
    "file", file_init, file_send, file_delivered, NULL
};
