/* SPDX-License-Identifier: MIT */
/*
 * feed_guard.c - where a feed fetch may go (issue 8 item 4: a feed server
 * must not turn tsunagud into a port scanner).
 *
 * One origin rule for every hop: an HTTP redirect (feed_backend.c follows
 * them itself, CURLOPT_FOLLOWLOCATION is off) and every URL CalDAV
 * discovery or a saved state points to must pass feed_dav_url_refusal()
 * before anything is sent there:
 *   - never https down to http;
 *   - with credentials (secrets file or user info in the URL) only the
 *     feed URL's own origin, so the password goes nowhere else;
 *   - otherwise the feed URL's origin (scheme, host, port) too, unless
 *     the target host is listed in FEED_ALLOW_HOSTS (any port).
 * Private addresses are not refused as such: municipal CalDAV servers
 * live on them.  What is refused is a change of origin.
 *
 * And one socket rule: feed_guard_open_socket (CURLOPT_OPENSOCKETFUNCTION)
 * sees the address libcurl is about to connect to, after name resolution,
 * and refuses the daemon's own listener - whatever name or redirect led
 * there; feed_guard_prereq (CURLOPT_PREREQFUNCTION) checks the connected
 * peer again before each request is sent, which also covers a connection
 * reused from libcurl's pool.  An unspecified listener address (0.0.0.0, ::) covers every
 * local address: a target is local when a datagram socket can bind it.
 */
#include "feed_backend.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* "scheme://host:port" of url, lower case, the default port filled in;
 * *has_user set when the URL carries user info, *host_out (malloc'd) the
 * host.  NULL if unparsable. */
static char *url_origin(const char *url, bool *has_user, char **host_out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        out = xasprintf("%s://%s:%s", scheme, host, port);
        for (char *c = out; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (host_out)
            *host_out = xstrdup(host);
    }
    if (has_user)
        *has_user = u && curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user && *user;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return out;
}

bool feed_guard_host_allowed(const char *allow_hosts, const char *host)
{
    if (!allow_hosts || !host || !*host)
        return false;
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {   /* [::1] as written in URLs */
        host++;
        hl -= 2;
    }
    for (const char *p = allow_hosts; *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n && n == hl && strncasecmp(p, host, n) == 0)
            return true;
        p += n;
    }
    return false;
}

char *feed_dav_url_refusal(const feed_job_t *job, const char *url)
{
    bool user_in_url = false;
    char *host = NULL;
    char *mine = url_origin(job->url, &user_in_url, NULL), *theirs = url_origin(url, NULL, &host);
    char *why = NULL;
    if (!mine || !theirs)
        why = xstrdup("サーバーが示した URL を解釈できません (bad URL from the server)");
    else if (strncmp(mine, "https:", 6) == 0 && strncmp(theirs, "https:", 6) != 0)
        why = xasprintf("https から http へ切り替えないため中止しました: %s "
                        "(refusing to downgrade https to http)", theirs);
    else if ((job->userpwd || user_in_url) && strcmp(mine, theirs) != 0)
        why = xasprintf("認証情報を別のホストへ送らないため中止しました: サーバーが %s を示しましたが、"
                        "フィードの URL は %s です (refusing to send credentials to another origin)",
                        theirs, mine);
    else if (strcmp(mine, theirs) != 0 && !feed_guard_host_allowed(job->allow_hosts, host))
        why = xasprintf("別のホストへの転送を拒否しました: サーバーが %s を示しましたが、フィードの URL は "
                        "%s です。必要なら FEED_ALLOW_HOSTS にホストを加えてください "
                        "(refusing to leave the feed's origin)", theirs, mine);
    free(mine);
    free(theirs);
    free(host);
    return why;
}

static bool unspecified(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return false;
}

static int port_of(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return -1;
}

static bool same_address(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* A local address of this host: one a socket can be bound to. */
static bool local_address(const struct sockaddr *a)
{
    struct sockaddr_storage ss;
    socklen_t len = a->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                            : sizeof(struct sockaddr_in6);
    memcpy(&ss, a, len);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
    int fd = socket(a->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

bool feed_guard_is_self(const struct sockaddr *self, const struct sockaddr *target)
{
    if (!self || !target || (target->sa_family != AF_INET && target->sa_family != AF_INET6))
        return false;
    if (port_of(self) != port_of(target))
        return false;
    if (unspecified(self))          /* 0.0.0.0 / :: listen on every local address */
        return local_address(target);
    return self->sa_family == target->sa_family && same_address(self, target);
}

curl_socket_t feed_guard_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    feed_job_t *job = arg;
    if (job->has_self && feed_guard_is_self((const struct sockaddr *)&job->self, &a->addr)) {
        job->self_refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int feed_guard_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    feed_job_t *job = arg;
    if (!job->has_self)
        return CURL_PREREQFUNC_OK;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, primary_ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)primary_port);
    } else if (inet_pton(AF_INET6, primary_ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)primary_port);
    } else {
        return CURL_PREREQFUNC_OK;
    }
    if (!feed_guard_is_self((const struct sockaddr *)&job->self, (const struct sockaddr *)&ss))
        return CURL_PREREQFUNC_OK;
    job->self_refused = true;
    return CURL_PREREQFUNC_ABORT;
}
