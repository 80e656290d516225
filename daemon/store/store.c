/* SPDX-License-Identifier: MIT */
/*
 * store.c - the SQLite store: open, migrate, statement cache, transactions.
 *
 * store_open sets WAL, foreign keys and a busy timeout, then applies every
 * entry of store_migrations[] (store_migrations.c) whose version is not
 * yet recorded in schema_migrations, each in its own transaction.
 * Prepared statements are cached in an array, found by their SQL text
 * through a hash map (an import of 100,000 feeds prepares 300,000 times).  The city
 * import/load lives in store_city.c.  The daemon turns SQLite's automatic
 * WAL checkpoint off (it would run inside whichever commit crosses the
 * threshold, fsync included, e.g. a feed's) and checkpoints on a thread
 * of its own instead (store_ckpt.c); journal_size_limit trims the WAL.  FILE_FEEDS_DIR (the
 * folder local calendar files must live in) is kept here so the import
 * (store_city.c) and the feed scheduler apply the same rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"
#include "util.h"

/* After a checkpoint has copied everything back, the next writer restarts
 * the WAL and trims the file to this size (bytes), so a burst (an import
 * of 100,000 feeds wrote 64 MB) does not leave a large file behind. */
#define STORE_JOURNAL_SIZE_LIMIT "16777216"

typedef struct cached_stmt {
    char         *sql;
    sqlite3_stmt *stmt;
} cached_stmt_t;

struct store {
    sqlite3       *db;
    cached_stmt_t *cache;
    size_t         ncache, capcache;
    strmap_t       by_sql;            /* SQL text -> its statement */
    bool           in_tx;
    char          *file_feeds_dir;    /* realpath of FILE_FEEDS_DIR, NULL = any */
};

sqlite3 *store_db(store_t *st) { return st->db; }
const char *store_errmsg(store_t *st) { return sqlite3_errmsg(st->db); }
bool store_in_tx(store_t *st) { return st->in_tx; }

int store_exec(store_t *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store: %s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

sqlite3_stmt *store_prepare(store_t *st, const char *sql)
{
    sqlite3_stmt *s = strmap_get(&st->by_sql, sql);
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        log_error("store: prepare failed: %s: %.120s", sqlite3_errmsg(st->db), sql);
        return NULL;
    }
    if (st->ncache == st->capcache) {
        st->capcache = st->capcache ? st->capcache * 2 : 32;
        st->cache = xrealloc(st->cache, st->capcache * sizeof *st->cache);
    }
    st->cache[st->ncache].sql = xstrdup(sql);
    st->cache[st->ncache].stmt = s;
    strmap_put(&st->by_sql, st->cache[st->ncache].sql, s);
    st->ncache++;
    return s;
}

void store_done(sqlite3_stmt *stmt)
{
    if (stmt)
        sqlite3_reset(stmt);
}

int store_begin(store_t *st)
{
    if (st->in_tx) {
        log_error("store: nested transaction refused");
        return -1;
    }
    if (store_exec(st, "BEGIN IMMEDIATE") != 0)
        return -1;
    st->in_tx = true;
    return 0;
}

int store_commit(store_t *st)
{
    if (!st->in_tx)
        return -1;
    if (store_exec(st, "COMMIT") != 0) {
        store_rollback(st);
        return -1;
    }
    st->in_tx = false;
    return 0;
}

int store_rollback(store_t *st)
{
    if (!st->in_tx)
        return 0;
    st->in_tx = false;
    /* reset every cached statement so none holds the transaction open */
    for (size_t i = 0; i < st->ncache; i++)
        sqlite3_reset(st->cache[i].stmt);
    return sqlite3_get_autocommit(st->db) ? 0 : store_exec(st, "ROLLBACK");
}

void store_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, idx);
}

const char *store_col_text(sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return NULL;
    return (const char *)sqlite3_column_text(s, col);
}

json_t *store_col_string(sqlite3_stmt *s, int col)
{
    const char *t = store_col_text(s, col);
    return t ? json_string(t) : json_null();
}

json_t *store_col_json(sqlite3_stmt *s, int col)
{
    const char *t = store_col_text(s, col);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    return j ? j : json_null();
}

void store_bind_json(sqlite3_stmt *s, int idx, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    sqlite3_bind_text(s, idx, text, -1, free);
}

/* Step s once and finish it: the step's result code (SQLITE_MISUSE for a
 * NULL statement). */
static int step_once(sqlite3_stmt *s)
{
    if (!s)
        return SQLITE_MISUSE;
    int rc = sqlite3_step(s);
    store_done(s);
    return rc;
}

bool store_run(sqlite3_stmt *s)
{
    return step_once(s) == SQLITE_DONE;
}

static json_t *col_value(sqlite3_stmt *s, int col, char kind)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return json_null();
    if (kind == 'i')
        return json_integer(sqlite3_column_int64(s, col));
    if (kind == 'b')
        return json_boolean(sqlite3_column_int64(s, col) != 0);
    if (kind == 't') {
        char buf[TU_ISO_LEN];
        return json_string(tu_format_iso8601(sqlite3_column_int64(s, col), tz_default(), buf));
    }
    return json_string(store_col_text(s, col));
}

json_t *store_rows_json(sqlite3_stmt *s, const char *kinds, const char *const names[])
{
    if (!s)
        return NULL;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; kinds[i]; i++) {
            json_t *v = col_value(s, i, kinds[i]);
            json_object_set_new(o, names[i], v ? v : json_null());
        }
        json_array_append_new(arr, o);
    }
    store_done(s);
    return arr;
}

int64_t *store_col_ids(sqlite3_stmt *s, size_t *n)
{
    *n = 0;
    if (!s)
        return NULL;
    int64_t *ids = NULL;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        ids = xgrow(ids, *n, &cap, sizeof *ids);
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    }
    store_done(s);
    return ids;
}

sqlite3_stmt *store_stmtv(store_t *st, const char *sql, const store_arg_t *args, size_t n)
{
    sqlite3_stmt *s = store_prepare(st, sql);
    for (size_t k = 0; s && k < n; k++) {
        int idx = (int)k + 1;
        const store_arg_t *a = &args[k];
        if (a->kind == 'i')
            sqlite3_bind_int64(s, idx, a->i);
        else if (a->kind == 'r')
            sqlite3_bind_double(s, idx, a->r);
        else if (a->kind == 't')
            store_bind_text(s, idx, a->t);
        else if (a->kind == 'j' && a->j)
            store_bind_json(s, idx, a->j);
        else if (a->kind == 'b')
            sqlite3_bind_blob(s, idx, a->t, (int)a->len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, idx);
    }
    return s;
}

bool store_exists(sqlite3_stmt *s)
{
    return step_once(s) == SQLITE_ROW;
}

bool store_step_row(sqlite3_stmt *s)
{
    return s && sqlite3_step(s) == SQLITE_ROW;
}

int64_t store_int(sqlite3_stmt *s, int64_t dflt)
{
    if (!s)
        return dflt;
    int64_t v = dflt;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    store_done(s);
    return v;
}

char *store_text(sqlite3_stmt *s)
{
    if (!s)
        return NULL;
    char *v = sqlite3_step(s) == SQLITE_ROW ? xstrdup(store_col_text(s, 0)) : NULL;
    store_done(s);
    return v;
}

bool store_run_one(store_t *st, sqlite3_stmt *s)
{
    return store_run(s) && sqlite3_changes(store_db(st)) == 1;
}

bool store_row_exists(store_t *st, const char *sql, const char *key)
{
    return store_exists(store_stmt(st, sql, STORE_TEXT(key)));
}

bool store_has_migration(store_t *st, int version)
{
    return store_exists(store_stmt(st, "SELECT 1 FROM schema_migrations WHERE version = ?",
                                   STORE_INT(version)));
}

int store_schema_version(store_t *st)
{
    return (int)store_int(store_prepare(st, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"), -1);
}

static int apply_migration(store_t *st, const store_migration_t *m, char *err, size_t errlen)
{
    if (store_begin(st) != 0)
        goto fail;
    if (store_exec(st, m->sql) != 0)
        goto fail;
    if (!store_run(store_stmt(st,
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
            STORE_INT(m->version), STORE_TEXT(m->name), STORE_INT(tu_now()))) ||
        store_commit(st) != 0)
        goto fail;
    log_info("store: applied migration %d (%s)", m->version, m->name);
    return 0;
fail:
    snprintf(err, errlen, "migration %d (%s) failed: %s", m->version, m->name,
             sqlite3_errmsg(st->db));
    store_rollback(st);
    return -1;
}

static int migrate(store_t *st, char *err, size_t errlen)
{
    if (store_exec(st, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY, name TEXT,"
                       " applied_at INTEGER NOT NULL)") != 0) {
        snprintf(err, errlen, "cannot create schema_migrations: %s", sqlite3_errmsg(st->db));
        return -1;
    }
    int prev = 0;
    for (const store_migration_t *m = store_migrations; m->version; m++) {
        if (m->version <= prev) {
            snprintf(err, errlen, "store_migrations[] out of order at version %d", m->version);
            return -1;
        }
        prev = m->version;
        if (!store_has_migration(st, m->version) && apply_migration(st, m, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The database at path cannot be created for e (ENOENT, EACCES, EROFS):
 * its folder, named, is missing or not writable.  Always false. */
static bool folder_error(const char *path, int e, char *err, size_t errlen)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = '\0';
    else
        snprintf(dir, strlen(dir) + 1, ".");
    if (e == ENOENT)
        snprintf(err, errlen, "%s: データベースを作れません。フォルダ %s がありません。先に作ってください "
                 "(mkdir -p %s) (no such directory)", path, dir, dir);
    else
        snprintf(err, errlen, "%s: データベースを作れません。フォルダ %s に書き込めません。"
                 "DATABASE の場所と権限を確認してください (%s)", path, dir, strerror(e));
    free(dir);
    return false;
}

/* The database holds case records (personal data) and token hashes, so a
 * new one is created private (0600) whatever the umask; SQLite gives its
 * -wal and -shm files the database file's mode.  An existing file keeps
 * the mode its operator chose. */
/* Creates a missing database file 0600.  false (err set, in Japanese with
 * what to do) when its folder is missing or not writable: SQLite would only
 * say "unable to open database file". */
static bool create_private(const char *path, char *err, size_t errlen)
{
    if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return true;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    if (errno != ENOENT && errno != EACCES && errno != EROFS)
        return true;                        /* EEXIST and the rest: SQLite says */
    return folder_error(path, errno, err, errlen);
}

bool store_lock_database(const char *path, int *fd_out, char *err, size_t errlen)
{
    *fd_out = -1;
    if (!*path || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return true;
    char *lock = xasprintf("%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == EACCES || e == EROFS)
            folder_error(path, e, err, errlen);   /* the lock sits beside the database */
        else
            snprintf(err, errlen, "%s: ロックファイルを作れません: %s (cannot create lock file)",
                     lock, strerror(e));
        free(lock);
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "%s: このデータベースは別の tsunagud (pid %s) が使っています。"
                     "同じデータベースで2つ動かすと、カレンダーの取得と招待メールが二重になります。"
                     "動いている方を止めるか、DATABASE を確認してください (database in use by another tsunagud)",
                     path, *pid ? pid : "?");
        else
            snprintf(err, errlen, "%s: ロックできません: %s (cannot lock)", lock, strerror(e));
        close(fd);
        free(lock);
        return false;
    }
    free(lock);
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        log_warn("%s.lock: プロセス番号を書き込めません (cannot write the pid): %s", path,
                 strerror(errno));
    *fd_out = fd;
    return true;
}

store_t *store_open(const char *path, char *err, size_t errlen)
{
    if (!create_private(path, err, errlen))
        return NULL;
    store_t *st = xcalloc(1, sizeof *st);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: データベースを開けません (cannot open database): %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (store_exec(st, "PRAGMA journal_mode=WAL") != 0 ||
        store_exec(st, "PRAGMA foreign_keys=ON") != 0 ||
        store_exec(st, "PRAGMA synchronous=NORMAL") != 0 ||
        store_exec(st, "PRAGMA journal_size_limit=" STORE_JOURNAL_SIZE_LIMIT) != 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
        store_close(st);
        return NULL;
    }
    if (migrate(st, err, errlen) != 0) {
        store_close(st);
        return NULL;
    }
    return st;
}

bool store_feed_data_changed(store_t *st, const char *feed_id)
{
    return store_run(store_prepare(st, "UPDATE data_version SET v = v + 1 WHERE id = 1")) &&
           store_run(store_stmt(st, "UPDATE feeds SET data_version ="
                                    " (SELECT v FROM data_version WHERE id = 1) WHERE id = ?",
                                STORE_TEXT(feed_id)));
}

/* ---- FILE_FEEDS_DIR --------------------------------------------------- */

bool store_set_file_feeds_dir(store_t *st, const char *dir, char *err, size_t errlen)
{
    char *real = NULL;
    if (dir && *dir) {
        struct stat sb;
        real = realpath(dir, NULL);
        if (!real || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "FILE_FEEDS_DIR: フォルダがありません: %s (not a directory)", dir);
            free(real);
            return false;
        }
    }
    free(st->file_feeds_dir);
    st->file_feeds_dir = real;
    return true;
}

const char *store_file_feeds_dir(store_t *st) { return st->file_feeds_dir; }

/* realpath of path, or of its folder plus the last name when the file
 * does not exist yet; NULL when neither resolves. */
static char *resolve_local(const char *path)
{
    char *real = realpath(path, NULL);
    if (real || !*path)
        return real;
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1] || !strcmp(slash + 1, "..") || !strcmp(slash + 1, "."))
        return NULL;
    char *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    char *rdir = realpath(dir, NULL);
    free(dir);
    char *out = rdir ? xasprintf("%s/%s", strcmp(rdir, "/") ? rdir : "", slash + 1) : NULL;
    free(rdir);
    return out;
}

bool store_local_url_allowed(store_t *st, const char *url)
{
    char *path = st->file_feeds_dir && url ? feed_local_path(url) : NULL;
    if (!path)
        return true;                  /* unrestricted, or not a local file */
    char *real = resolve_local(path);
    size_t n = strlen(st->file_feeds_dir);
    bool inside = real && strncmp(real, st->file_feeds_dir, n) == 0 &&
                  (real[n] == '/' || !strcmp(st->file_feeds_dir, "/")) && real[n + (n > 1)];
    free(real);
    free(path);
    return inside;
}

int store_set_autocheckpoint(store_t *st, int pages)
{
    return sqlite3_wal_autocheckpoint(st->db, pages) == SQLITE_OK ? 0 : -1;
}

int store_checkpoint(store_t *st, bool truncate, int *wal_frames, int *done_frames)
{
    int nlog = -1, nckpt = -1;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE
                                                              : SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
    if (wal_frames)
        *wal_frames = nlog;
    if (done_frames)
        *done_frames = nckpt;
    if (rc != SQLITE_OK) {
        log_warn("store: %s WAL checkpoint: %s", truncate ? "TRUNCATE" : "PASSIVE", sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

void store_close(store_t *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->ncache; i++) {
        sqlite3_finalize(st->cache[i].stmt);
        free(st->cache[i].sql);
    }
    free(st->cache);
    strmap_free(&st->by_sql);
    free(st->file_feeds_dir);
    if (st->db)
        sqlite3_close(st->db);
    free(st);
}
