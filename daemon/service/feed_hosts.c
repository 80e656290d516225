/* SPDX-License-Identifier: MIT */
/*
 * feed_hosts.c - per-host caps and dead-host backoff for the feed
 * scheduler (see feed_hosts.h).  Hosts live in a strmap keyed by their
 * "scheme://host:port" string; they are few (one per calendar server) and
 * kept until the scheduler is freed.
 */
#include "feed_hosts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void feed_hosts_init(feed_hosts_t *h)
{
    strmap_init(&h->by_key);
}

void feed_hosts_free(feed_hosts_t *h)
{
    for (size_t i = 0; i < h->by_key.cap; i++) {
        feed_host_t *host = h->by_key.slots[i].val;
        if (h->by_key.slots[i].key && host) {
            free(host->key);
            free(host);
        }
    }
    strmap_free(&h->by_key);
}

static const char *default_port(const char *scheme, size_t n)
{
    if (n == 5 && strncmp(scheme, "https", 5) == 0)
        return "443";
    return "80";
}

char *feed_host_key(const char *url)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep || sep == url || (sep - url == 4 && strncasecmp(url, "file", 4) == 0))
        return NULL;
    const char *host = sep + 3, *end = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;                        /* drop credentials */
    if (host == end)
        return NULL;
    const char *colon = memrchr(host, ':', (size_t)(end - host));
    if (colon && memchr(colon, ']', (size_t)(end - colon)))
        colon = NULL;                         /* "[::1]" without a port */
    char *key = colon ? xasprintf("%.*s://%.*s", (int)(sep - url), url, (int)(end - host), host)
                      : xasprintf("%.*s://%.*s:%s", (int)(sep - url), url, (int)(end - host), host,
                                  default_port(url, (size_t)(sep - url)));
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return key;
}

feed_host_t *feed_hosts_get(feed_hosts_t *h, const char *url)
{
    char *key = feed_host_key(url);
    if (!key)
        return NULL;
    feed_host_t *host = strmap_get(&h->by_key, key);
    if (host) {
        free(key);
        return host;
    }
    host = xcalloc(1, sizeof *host);
    host->key = key;
    strmap_put(&h->by_key, host->key, host);
    return host;
}

feed_admit_t feed_host_admit(const feed_host_t *host, int cap, int64_t now)
{
    if (!host)
        return FEED_ADMIT_GO;
    if (host->net_failures >= FEED_HOST_DEAD_AFTER) {
        if (now < host->dead_until)
            return FEED_ADMIT_DEAD;
        return host->in_flight ? FEED_ADMIT_BUSY : FEED_ADMIT_GO;   /* one probe */
    }
    return cap > 0 && host->in_flight >= cap ? FEED_ADMIT_BUSY : FEED_ADMIT_GO;
}

void feed_host_started(feed_host_t *host)
{
    if (host)
        host->in_flight++;
}

void feed_host_finished(feed_host_t *host, bool answered, int64_t now)
{
    if (!host)
        return;
    if (host->in_flight > 0)
        host->in_flight--;
    if (answered) {
        host->net_failures = 0;
        host->dead_until = 0;
        return;
    }
    if (host->net_failures >= FEED_HOST_DEAD_AFTER && now < host->dead_until)
        return;               /* a fetch begun before the backoff: no escalation */
    host->net_failures++;
    if (host->net_failures < FEED_HOST_DEAD_AFTER)
        return;
    int64_t backoff = FEED_HOST_BACKOFF_MIN;
    for (int i = FEED_HOST_DEAD_AFTER; i < host->net_failures && backoff < FEED_HOST_BACKOFF_MAX; i++)
        backoff *= 2;
    host->dead_until = now + (backoff > FEED_HOST_BACKOFF_MAX ? FEED_HOST_BACKOFF_MAX : backoff);
}

int feed_hosts_dead(const feed_hosts_t *h, int64_t now)
{
    int n = 0;
    for (size_t i = 0; i < h->by_key.cap; i++) {
        const feed_host_t *host = h->by_key.slots[i].val;
        if (h->by_key.slots[i].key && host && host->net_failures >= FEED_HOST_DEAD_AFTER &&
            now < host->dead_until)
            n++;
    }
    return n;
}
