/* SPDX-License-Identifier: MIT */
/*
 * mail_maildir.c - maildir transport for the demo and tests.
 *
 * Delivery follows the maildir protocol: write tmp/<name>, fsync, then
 * rename into new/<name>.  The name is derived from the Message-ID, so
 * delivering the same message twice (after a crash) replaces the file
 * instead of adding a second copy, and delivered() can tell exactly
 * whether a message arrived (in new/ or already moved to cur/).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailer.h"
#include "util.h"

static int ensure_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    return -1;
}

static int maildir_init(mailer_t *m, const mailer_config_t *cfg, char **err)
{
    if (!cfg->path || !*cfg->path) {
        *err = xstrdup("maildir の場所 (MAIL_PATH) を指定してください");
        return -1;
    }
    const char *subs[] = { "", "/tmp", "/new", "/cur" };
    for (size_t i = 0; i < 4; i++) {
        char *p = xasprintf("%s%s", cfg->path, subs[i]);
        int rc = ensure_dir(p);
        free(p);
        if (rc != 0) {
            *err = xasprintf("maildir を作成できません: %s (%s)", cfg->path, strerror(errno));
            return -1;
        }
    }
    m->priv = xstrdup(cfg->path);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int maildir_send(mailer_t *m, const char *from, const char *rcpt,
                        const char *msg, size_t len, const char *message_id,
                        mailer_done_cb done, void *arg)
{
    const char *dir = m->priv;
    char tok[17];
    mailer_id_token(message_id, tok);
    char *tmp = xasprintf("%s/tmp/%s.%ld.tsunagu", dir, tok, (long)getpid());
    char *fin = xasprintf("%s/new/%s.tsunagu", dir, tok);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = fd >= 0 && write_all(fd, msg, len) == 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    ok = ok && rename(tmp, fin) == 0;
    char *detail = ok ? xasprintf("maildir %s", fin)
                      : xasprintf("maildir: %s", strerror(errno));
    if (!ok) unlink(tmp);
    mailer_complete_later(m, done, arg, ok ? MAIL_SENT : MAIL_TEMPFAIL, detail);
    free(detail);
    free(tmp);
    free(fin);
    return 0;
}

static mailer_known_t maildir_delivered(mailer_t *m, const char *message_id)
{
    const char *dir = m->priv;
    char tok[17];
    mailer_id_token(message_id, tok);
    char *fin = xasprintf("%s/new/%s.tsunagu", dir, tok);
    struct stat sb;
    bool found = stat(fin, &sb) == 0;
    free(fin);
    if (found) return MAILER_DELIVERED;
    char *cur = xasprintf("%s/cur", dir);
    DIR *d = opendir(cur);
    free(cur);
    if (!d) return MAILER_UNKNOWN;
    for (struct dirent *e; (e = readdir(d)) && !found;)
        found = strncmp(e->d_name, tok, 16) == 0;
    closedir(d);
    return found ? MAILER_DELIVERED : MAILER_NOT_DELIVERED;
}

const mailer_backend_t mail_maildir_backend = {
    "maildir", maildir_init, maildir_send, maildir_delivered, NULL
};
