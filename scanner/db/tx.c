/* tx: statements, error classification, transactions with retries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scanner/db/db_int.h"

#define TX_MAX_ATTEMPTS 5

static _Thread_local unsigned long ok_count;

unsigned long db_int_ok_count(void)
{
	return ok_count;
}

const char *db_sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	return s ? s : "";
}

static void one_line(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);
	while (l && (src[l - 1] == '\n' || src[l - 1] == ' ' || src[l - 1] == '\r'))
		l--;
	snprintf(dst, n, "%.*s", (int)(l > n - 1 ? n - 1 : l), src);
	for (char *q = dst; *q; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
}

int db_result_check(PGconn *c, const PGresult *r, struct diag *d)
{
	char msg[400];
	if (r) {
		switch (PQresultStatus(r)) {
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_COPY_IN:
		case PGRES_COPY_OUT:
		case PGRES_COPY_BOTH:
		case PGRES_EMPTY_QUERY:
		case PGRES_SINGLE_TUPLE:
			return 0;
		default:
			break;
		}
	}
	const char *state = db_sqlstate(r);
	if (*state) {
		const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
		const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		one_line(msg, sizeof(msg), prim ? prim : "");
		diag_set(d, "%s: %s (SQLSTATE %s)", sev ? sev : "ERROR", msg, state);
		if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
		    strcmp(state, "57P03") == 0)
			return -ECONNRESET;
		if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
			return -EAGAIN;
		if (strcmp(state, "23505") == 0)
			return -EEXIST;
		if (strcmp(state, "57014") == 0)
			return -ECANCELED;
		if (PQstatus(c) != CONNECTION_OK)
			return -ECONNRESET;
		return -EIO;
	}
	one_line(msg, sizeof(msg), c ? PQerrorMessage(c) : "");
	if (!c || PQstatus(c) != CONNECTION_OK) {
		diag_set(d, "database connection lost: %s", *msg ? msg : "connection is bad");
		return -ECONNRESET;
	}
	if (!r) {
		diag_set(d, "database query failed: %s", *msg ? msg : "out of memory");
		return *msg ? -EIO : -ENOMEM;
	}
	diag_set(d, "database query failed: %s", *msg ? msg : PQresStatus(PQresultStatus(r)));
	return -EIO;
}

int db_exec(PGconn *c, const char *sql, struct diag *d)
{
	PGresult *r = PQexec(c, sql);
	int rc = db_result_check(c, r, d);
	PQclear(r);
	if (rc == 0)
		ok_count++;
	return rc;
}

int db_exec_params(PGconn *c, const char *sql, int nparams, const char *const *values, PGresult **ret,
		   struct diag *d)
{
	if (ret)
		*ret = NULL;
	PGresult *r = PQexecParams(c, sql, nparams, NULL, values, NULL, NULL, 0);
	int rc = db_result_check(c, r, d);
	if (rc == 0) {
		ok_count++;
		if (ret) {
			*ret = r;
			return 0;
		}
	}
	PQclear(r);
	return rc;
}

static void backoff(int attempt)
{
	struct timespec ts = {0, (long)(10 + 20 * attempt) * 1000000L};
	nanosleep(&ts, NULL);
}

static int run_once(struct db_pool *p, int in_tx, db_fn *fn, void *arg, int *ret_untouched, struct diag *d)
{
	PGconn *c = NULL;
	int rc;

	*ret_untouched = 1;
	if ((rc = db_acquire(p, 30000, &c, d)) < 0) {
		/* could not even connect: nothing happened */
		return rc == -ECONNREFUSED ? -ECONNRESET : rc;
	}
	if (in_tx && (rc = db_exec(c, "BEGIN", d)) < 0)
		goto out;
	unsigned long before = db_int_ok_count();
	rc = fn(c, arg, d);
	if (rc < 0) {
		*ret_untouched = db_int_ok_count() == before;
		if (in_tx && PQstatus(c) == CONNECTION_OK) {
			PGresult *r = PQexec(c, "ROLLBACK");
			PQclear(r);
		}
		goto out;
	}
	*ret_untouched = 0;
	if (in_tx && (rc = db_exec(c, "COMMIT", d)) < 0) {
		if (rc == -ECONNRESET)
			diag_prefix(d, "commit outcome unknown");
		goto out;
	}
out:
	if (rc == -ECONNRESET || PQstatus(c) != CONNECTION_OK)
		db_discard(p, c);
	else
		db_release(p, c);
	return rc;
}

static int run_retrying(struct db_pool *p, int in_tx, db_fn *fn, void *arg, struct diag *d)
{
	int rc = 0, reconnected = 0;
	for (int attempt = 0; attempt < TX_MAX_ATTEMPTS; attempt++) {
		int untouched;
		rc = run_once(p, in_tx, fn, arg, &untouched, d);
		if (rc == -ECONNRESET && untouched && !reconnected) {
			reconnected = 1;
			continue;
		}
		if (rc == -EAGAIN && in_tx) {
			backoff(attempt);
			continue;
		}
		break;
	}
	return rc;
}

int db_tx(struct db_pool *p, db_fn *fn, void *arg, struct diag *d)
{
	return run_retrying(p, 1, fn, arg, d);
}

int db_run(struct db_pool *p, db_fn *fn, void *arg, struct diag *d)
{
	return run_retrying(p, 0, fn, arg, d);
}

static int exec_fn(PGconn *c, void *arg, struct diag *d)
{
	return db_exec(c, arg, d);
}

int db_pool_exec(struct db_pool *p, const char *sql, struct diag *d)
{
	return db_run(p, exec_fn, (void *)sql, d);
}

int db_ping(struct db_pool *p, struct diag *d)
{
	return db_pool_exec(p, "SELECT 1", d);
}
