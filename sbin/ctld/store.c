/* store.c - the controller's durable state: one SQLite file in WAL mode */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"

enum stmt_id {
    ST_PUT_JOB,
    ST_ADD_EVENT,
    ST_GET_META,
    ST_SET_META,
    ST_LOAD_JOBS,
    ST_PUT_USAGE,
    ST_LOAD_USAGE,
    ST_PUT_STEP,
    ST_GET_STEPS,
    ST_GET_STATE,
    ST_BEGIN,
    ST_COMMIT,
    ST_COUNT
};

static const char *stmt_sql[ST_COUNT] = {
    [ST_PUT_JOB] = "INSERT OR REPLACE INTO jobs (id, state, data) VALUES (?, ?, ?)",
    [ST_ADD_EVENT] = "INSERT INTO events (job, time, state, reason) VALUES (?, ?, ?, ?)",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?",
    [ST_SET_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
    [ST_LOAD_JOBS] = "SELECT data FROM jobs ORDER BY id",
    [ST_PUT_USAGE] = "INSERT OR REPLACE INTO usage (uid, value, time) VALUES (?, ?, ?)",
    [ST_LOAD_USAGE] = "SELECT uid, value, time FROM usage",
    [ST_PUT_STEP] = "INSERT OR REPLACE INTO steps (job, step, data) VALUES (?, ?, ?)",
    [ST_GET_STEPS] = "SELECT data FROM steps WHERE job = ? ORDER BY step",
    [ST_GET_STATE] = "SELECT state FROM jobs WHERE id = ?",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
};

static const char *schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id INTEGER PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events ("
    "  job INTEGER NOT NULL, time REAL NOT NULL, state TEXT NOT NULL,"
    "  reason TEXT);"
    "CREATE INDEX IF NOT EXISTS events_job ON events (job);"
    "CREATE TABLE IF NOT EXISTS usage ("
    "  uid INTEGER PRIMARY KEY, value REAL NOT NULL, time REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS steps ("
    "  job INTEGER NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL,"
    "  PRIMARY KEY (job, step));";

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    bool in_txn;
    uint64_t commits;
    char *path;
};

static int db_error (struct store *st, aios_error_t *err, const char *what)
{
    errno = EIO;
    return errprintf (err, "state file %s: %s: %s", st->path, what,
                      sqlite3_errmsg (st->db));
}

void store_close (struct store *st)
{
    int saved = errno;
    int i;

    if (st) {
        for (i = 0; i < ST_COUNT; i++)
            sqlite3_finalize (st->stmt[i]);
        if (st->db)
            sqlite3_close (st->db);
        free (st->path);
        free (st);
    }
    errno = saved;
}

struct store *store_open (const char *path, aios_error_t *err)
{
    struct store *st;
    char *msg = NULL;
    int i;

    if (!(st = calloc (1, sizeof (*st))) || !(st->path = strdup (path))) {
        free (st);
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2 (path, &st->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                             | SQLITE_OPEN_NOMUTEX,
                         NULL) != SQLITE_OK) {
        db_error (st, err, "open");
        goto error;
    }
    sqlite3_busy_timeout (st->db, 5000);
    if (sqlite3_exec (st->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                      NULL, NULL, &msg) != SQLITE_OK
        || sqlite3_exec (st->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        errno = EIO;
        errprintf (err, "state file %s: %s", path, msg ? msg : "error");
        sqlite3_free (msg);
        goto error;
    }
    for (i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v2 (st->db, stmt_sql[i], -1, &st->stmt[i], NULL)
            != SQLITE_OK) {
            db_error (st, err, "prepare");
            goto error;
        }
    }
    return st;
error:
    store_close (st);
    return NULL;
}

static int step_done (struct store *st, sqlite3_stmt *s, aios_error_t *err,
                      const char *what)
{
    int rc = sqlite3_step (s);

    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    if (rc != SQLITE_DONE)
        return db_error (st, err, what);
    return 0;
}

static int begin (struct store *st, aios_error_t *err)
{
    if (st->in_txn)
        return 0;
    if (step_done (st, st->stmt[ST_BEGIN], err, "begin") < 0)
        return -1;
    st->in_txn = true;
    return 0;
}

int store_load_jobs (struct store *st, store_job_f cb, void *arg,
                     aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_JOBS];
    int rc = 0, step;

    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text (s, 0);
        json_error_t jerr;
        json_t *job = json_loads (text ? text : "", 0, &jerr);

        if (!job) {
            errno = EIO;
            rc = errprintf (err, "state file %s: corrupt job record: %s",
                            st->path, jerr.text);
            break;
        }
        rc = cb (job, arg, err);
        json_decref (job);
        if (rc < 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error (st, err, "load jobs");
    sqlite3_reset (s);
    return rc;
}

int store_put_step (struct store *st, uint64_t job, int step, const json_t *rec,
                    aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_PUT_STEP];
    char *text;
    int rc;

    if (begin (st, err) < 0)
        return -1;
    if (!(text = json_dumps (rec, JSON_COMPACT))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job);
    sqlite3_bind_int (s, 2, step);
    sqlite3_bind_text (s, 3, text, -1, SQLITE_TRANSIENT);
    rc = step_done (st, s, err, "write step");
    free (text);
    return rc;
}

json_t *store_get_steps (struct store *st, uint64_t job, aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_GET_STEPS];
    json_t *a = json_array ();
    int step;

    sqlite3_bind_int64 (s, 1, (sqlite3_int64)job);
    while (a && (step = sqlite3_step (s)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text (s, 0);
        json_t *rec = json_loads (text ? text : "", 0, NULL);
        if (rec)
            json_array_append_new (a, rec);
    }
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    if (!a) {
        errno = ENOMEM;
        errprintf (err, "out of memory");
    }
    return a;
}

int store_get_state (struct store *st, uint64_t id, char *buf, size_t len)
{
    sqlite3_stmt *s = st->stmt[ST_GET_STATE];
    int rc = -1;

    sqlite3_bind_int64 (s, 1, (sqlite3_int64)id);
    if (sqlite3_step (s) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text (s, 0);
        snprintf (buf, len, "%s", t ? t : "");
        rc = 0;
    }
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    return rc;
}

int store_load_usage (struct store *st, store_usage_f cb, void *arg,
                      aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_USAGE];
    int rc = 0, step;

    while ((step = sqlite3_step (s)) == SQLITE_ROW) {
        if (cb ((uint32_t)sqlite3_column_int64 (s, 0),
                sqlite3_column_double (s, 1), sqlite3_column_double (s, 2),
                arg) < 0) {
            rc = errprintf (err, "out of memory loading usage");
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_error (st, err, "load usage");
    sqlite3_reset (s);
    return rc;
}

int store_put_usage (struct store *st, uint32_t uid, double value, double t,
                     aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_PUT_USAGE];

    if (begin (st, err) < 0)
        return -1;
    sqlite3_bind_int64 (s, 1, uid);
    sqlite3_bind_double (s, 2, value);
    sqlite3_bind_double (s, 3, t);
    return step_done (st, s, err, "write usage");
}

int store_put_job (struct store *st, uint64_t id, const char *state,
                   const json_t *job, aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_PUT_JOB];
    char *text;
    int rc;

    if (begin (st, err) < 0)
        return -1;
    if (!(text = json_dumps (job, JSON_COMPACT))) {
        errno = ENOMEM;
        return errprintf (err, "out of memory");
    }
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)id);
    sqlite3_bind_text (s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_text (s, 3, text, -1, free);
    rc = step_done (st, s, err, "write job");
    return rc;
}

int store_add_event (struct store *st, uint64_t id, double time,
                     const char *state, const char *reason, aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_ADD_EVENT];

    if (begin (st, err) < 0)
        return -1;
    sqlite3_bind_int64 (s, 1, (sqlite3_int64)id);
    sqlite3_bind_double (s, 2, time);
    sqlite3_bind_text (s, 3, state, -1, SQLITE_STATIC);
    if (reason)
        sqlite3_bind_text (s, 4, reason, -1, SQLITE_TRANSIENT);
    return step_done (st, s, err, "write event");
}

int store_get_meta (struct store *st, const char *key, int64_t *val,
                    aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_GET_META];
    int rc;

    sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step (s);
    if (rc == SQLITE_ROW)
        *val = sqlite3_column_int64 (s, 0);
    sqlite3_reset (s);
    sqlite3_clear_bindings (s);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE) {
        errno = ENOENT;
        return -1;
    }
    return db_error (st, err, "read meta");
}

int store_set_meta (struct store *st, const char *key, int64_t val,
                    aios_error_t *err)
{
    sqlite3_stmt *s = st->stmt[ST_SET_META];

    if (begin (st, err) < 0)
        return -1;
    sqlite3_bind_text (s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (s, 2, val);
    return step_done (st, s, err, "write meta");
}

bool store_dirty (const struct store *st)
{
    return st->in_txn;
}

int store_commit (struct store *st, aios_error_t *err)
{
    if (!st->in_txn)
        return 0;
    if (step_done (st, st->stmt[ST_COMMIT], err, "commit") < 0)
        return -1;
    st->in_txn = false;
    st->commits++;
    return 0;
}

uint64_t store_commits (const struct store *st)
{
    return st->commits;
}
