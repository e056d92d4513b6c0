/* db: the PostgreSQL layer of clair on libpq.
 *
 *   struct db_pool *p; struct diag d;
 *   db_pool_new(cfg->indexer.connstring, 0, "libindex", &p, &d);   // no server needed yet
 *   db_migrate(p, DB_SCHEMA_INDEXER, &d);                          // >= 0: migrations applied
 *   db_tx(p, my_fn, my_arg, &d);                                  // BEGIN; fn; COMMIT (retries)
 *   db_pool_free(p);
 *
 * Error codes (every int function; detail in the diag, never the DSN or password):
 *   -ECONNRESET  connection failure (PQstatus bad, SQLSTATE class 08, 57P01..57P03)
 *   -EAGAIN      serialization failure 40001 / deadlock 40P01 (db_tx retries these)
 *   -EEXIST      unique violation 23505
 *   -ECANCELED   query canceled 57014
 *   -EIO         any other SQL error
 *   -ETIMEDOUT   db_acquire: no connection free within the timeout
 *   -ENOMEM, -EINVAL (bad DSN)
 * SQL error diags read "ERROR: <primary message> (SQLSTATE <code>)", as pgx prints them. */
#ifndef SCANNER_DB_DB_H
#define SCANNER_DB_DB_H

#include <libpq-fe.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"

#define DB_CONNECT_TIMEOUT_S 5

/* ---- DSN (dsn.c) ---- */

/* A parsed connection string: libpq keyword/value arrays (NULL-terminated) with the pgx pool_*
 * parameters stripped, application_name and connect_timeout filled in when absent. */
struct db_dsn {
	char **keys;
	char **vals;
	int pool_max_conns; /* value of pool_max_conns, or 0 when absent */
};

/* Accepts "key=value ..." and postgres:// / postgresql:// URLs. -EINVAL on syntax errors,
 * unknown libpq options or a bad pool_max_conns. */
int db_dsn_parse(const char *dsn, const char *app_name, struct db_dsn *ret, struct diag *d);
void db_dsn_release(struct db_dsn *dsn);
/* The value for keyword key, or NULL. */
const char *db_dsn_get(const struct db_dsn *dsn, const char *key);
/* "host:port/dbname" for messages (never the password). */
void db_dsn_describe(const struct db_dsn *dsn, char *out, size_t n);

/* ---- pool (pool.c) ---- */

struct db_pool;

struct db_pool_stats {
	int max;
	int open;   /* connections opened (idle + in use + being connected) */
	int in_use; /* acquired */
	int idle;
	uint64_t acquire_count;
	uint64_t acquire_wait_count; /* acquires that found no idle connection */
	uint64_t acquire_wait_ns;    /* total time spent in db_acquire */
	uint64_t connect_errors;
};

/* max_conns 0 -> 2*ncpu+2 (minimum 4); pool_max_conns in the DSN overrides it. Connects lazily. */
int db_pool_new(const char *dsn, int max_conns, const char *app_name, struct db_pool **ret,
		struct diag *d);
void db_pool_free(struct db_pool *p);
/* timeout_ms < 0 waits forever, 0 does not wait. Hands out a connection that answered the
 * liveness check (idle connections whose server went away are dropped here). */
int db_acquire(struct db_pool *p, int timeout_ms, PGconn **ret, struct diag *d);
/* Returns c to the pool; closes it if broken, rolls back an open transaction (closes it if that
 * fails). NULL c is ignored. */
void db_release(struct db_pool *p, PGconn *c);
/* Closes c and frees its slot (use after a connection error). */
void db_discard(struct db_pool *p, PGconn *c);
void db_pool_stats(struct db_pool *p, struct db_pool_stats *ret);
/* Appends Prometheus text lines (pgxpool_* gauges/counters, label application_name). */
void db_pool_metrics(void *pool, struct buf *out);
const char *db_pool_app_name(const struct db_pool *p);
/* SELECT 1 on a pooled connection (one retry on a fresh connection). */
int db_ping(struct db_pool *p, struct diag *d);

/* ---- statements and transactions (tx.c) ---- */

/* Classifies a result (NULL = no result): 0 for COMMAND_OK/TUPLES_OK/COPY_*, else the error
 * codes above with the diag set. */
int db_result_check(PGconn *c, const PGresult *r, struct diag *d);
/* SQLSTATE of r, or "" */
const char *db_sqlstate(const PGresult *r);
/* Runs sql (may hold several statements), discards the result. */
int db_exec(PGconn *c, const char *sql, struct diag *d);
/* PQexecParams with text parameters (NULL value = SQL NULL) and text results. On success and
 * ret != NULL the result is handed over (PQclear it). */
int db_exec_params(PGconn *c, const char *sql, int nparams, const char *const *values,
		   PGresult **ret, struct diag *d);

typedef int db_fn(PGconn *c, void *arg, struct diag *d);

/* BEGIN; fn; COMMIT, or ROLLBACK when fn fails. Retries the whole transaction on -EAGAIN
 * (40001/40P01, up to 5 times) and once on a fresh connection on -ECONNRESET when no statement
 * of the transaction had succeeded. Returns fn's error, or 0. */
int db_tx(struct db_pool *p, db_fn *fn, void *arg, struct diag *d);
/* Same without BEGIN/COMMIT (autocommit), with the same reconnect retry. */
int db_run(struct db_pool *p, db_fn *fn, void *arg, struct diag *d);
/* Pool-level db_exec with the reconnect retry. */
int db_pool_exec(struct db_pool *p, const char *sql, struct diag *d);

/* ---- advisory locks (lock.c) ---- */

/* FNV-1a 64 of key, reinterpreted as a signed int8 (claircore ctxlock). */
int64_t db_lock_key(const char *key);
/* Session-level: pg_try_advisory_lock / pg_advisory_lock / pg_advisory_unlock. The signatures
 * carry no diag: failures are the error codes above (usually -ECONNRESET). */
int db_lock_try(PGconn *c, const char *key, int *ret_got);
int db_lock_wait(PGconn *c, const char *key);
/* Returns 0, or -ENOENT when the lock was not held by this session. */
int db_lock_release(PGconn *c, const char *key);
/* Transaction-level: pg_try_advisory_xact_lock (released at COMMIT/ROLLBACK). */
int db_lock_try_xact(PGconn *c, const char *key, int *ret_got);
/* The same on a raw int8 key. */
int db_lock_try_id(PGconn *c, int64_t id, int *ret_got);
int db_lock_wait_id(PGconn *c, int64_t id);
int db_lock_release_id(PGconn *c, int64_t id);
int db_lock_try_xact_id(PGconn *c, int64_t id, int *ret_got);

/* ---- migrations (migrate.c) ---- */

enum db_schema {
	DB_SCHEMA_INDEXER,
	DB_SCHEMA_MATCHER,
	DB_SCHEMA_NOTIFIER,
};

#define DB_INDEXER_LATEST 1
#define DB_MATCHER_LATEST 2
#define DB_NOTIFIER_LATEST 1

/* The latest embedded version of s. */
int db_schema_latest(enum db_schema s);
/* "libindex_migrations" / "libvuln_migrations" / "notifier_migrations" */
const char *db_schema_table(enum db_schema s);
/* Under pg_advisory_lock(crc32("migrations")): creates the version table, applies every
 * missing migration in order, each in its own transaction with its version row. Returns the
 * number applied (0 when up to date) or a negative errno. The matcher/notifier first migration
 * fails with the diag exactly `ERROR: Please load the "uuid-ossp" extension. (SQLSTATE 42501)`
 * (the SQLSTATE being the server's) when the extension cannot be created. */
int db_migrate(struct db_pool *p, enum db_schema s, struct diag *d);
/* Highest applied version (0 when none / no version table). */
int db_schema_version(struct db_pool *p, enum db_schema s, int *ret);

#endif
