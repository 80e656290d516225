/* SPDX-License-Identifier: MIT */
/*
 * support_proc.c - process and file helpers for integration tests.
 *
 * Servers under test (radicale, xandikos, aiosmtpd, the python HTTP
 * misbehaver, tsunagud itself) are spawned with fork/exec into their own
 * process group, with stdout+stderr appended to a log file so a failing
 * test can show why.  Exec failure is reported back to the parent through
 * a close-on-exec pipe, so support_spawn returns -1 instead of leaving a
 * zombie that never listens.  Children get PR_SET_PDEATHSIG, so a test
 * killed by its timeout does not leave servers running.  Stopping sends SIGTERM to the group, waits,
 * then SIGKILLs and always reaps.
 */
#include "support_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void support_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int support_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* Child side of support_spawn: never returns. */
static void exec_child(const char *const argv[], const char *const env[],
                       const char *cwd, const char *log_path, int errfd,
                       pid_t parent)
{
    setpgid(0, 0);
    /* die with the test: a killed or crashed test leaves no server behind */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    for (size_t i = 0; env && env[i]; i++) {
        char *kv = strdup(env[i]);
        char *eq = kv ? strchr(kv, '=') : NULL;
        if (eq) {
            *eq = '\0';
            setenv(kv, eq + 1, 1);
        }
        free(kv);
    }
    if (cwd && chdir(cwd) != 0)
        goto fail;
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0)
            goto fail;
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        if (devnull > STDERR_FILENO)
            close(devnull);
    }
    signal(SIGPIPE, SIG_DFL);
    size_t argc = 0;                        /* execvp wants char *const[]: copy */
    while (argv[argc])
        argc++;
    char **av = calloc(argc + 1, sizeof *av);
    for (size_t i = 0; av && i < argc; i++)
        av[i] = strdup(argv[i]);
    if (av)
        execvp(av[0], av);
fail:;
    int e = errno;
    if (write(errfd, &e, sizeof e) < 0) {
        /* nothing more we can do */
    }
    _exit(127);
}

pid_t support_spawn(const char *const argv[], const char *const env[],
                    const char *cwd, const char *log_path)
{
    int pfd[2];
    if (!argv || !argv[0] || pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        exec_child(argv, env, cwd, log_path, pfd[1], parent);
    }
    close(pfd[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(pfd[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n == (ssize_t)sizeof child_errno) {     /* exec failed */
        waitpid(pid, NULL, 0);
        errno = child_errno;
        return -1;
    }
    return pid;
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

bool support_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    return r == 0;
}

bool support_wait_port(int port, int timeout_ms, pid_t pid)
{
    long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (port_accepts(port))
            return true;
        if (pid > 0 && !support_alive(pid))
            return false;
        support_sleep_ms(50);
    }
    return port_accepts(port);
}

int support_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
        return st;
    if (r < 0)
        return -1;
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            kill(-pid, SIGKILL);   /* stragglers left in the group */
            return st;
        }
        support_sleep_ms(20);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    if (waitpid(pid, &st, 0) == pid)
        return st;
    return -1;
}

char *support_mkdtemp(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    size_t n = strlen(tmp) + strlen(prefix ? prefix : "t") + 16;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/%s-XXXXXX", tmp, prefix ? prefix : "t");
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

int support_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *child = support_path(path, de->d_name);
        if (!child || support_rmtree(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

int support_write_file(const char *path, const char *data, size_t len)
{
    if (len == (size_t)-1)
        len = strlen(data);
    /* 0600: test configs hold ADMIN_TOKEN / LINK_SECRET, and tsunagud
     * refuses a config with secrets that others can read */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return -1;
    }
    if (fchmod(fd, 0600) != 0) {
        fclose(f);
        return -1;
    }
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int rc = (w == len) ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

char *support_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *support_read_log(const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return strdup("");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf ? buf : strdup("");
}

void support_print_log(const char *headline, const char *path)
{
    char *text = support_read_log(path);
    fprintf(stderr, "%s\n%s\n", headline, text ? text : "");
    free(text);
}

double support_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
