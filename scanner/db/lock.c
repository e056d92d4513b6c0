/* lock: PostgreSQL advisory locks keyed like claircore ctxlock (FNV-1a 64 of the key string). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "scanner/db/db_int.h"

int64_t db_lock_key(const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	int64_t s;
	memcpy(&s, &h, sizeof(s)); /* two's complement reinterpretation, as an int8 on the wire */
	return s;
}

/* Runs a one-row boolean (or void) lock query on id; *ret_bool gets the boolean when not NULL. */
static int lock_query(PGconn *c, const char *sql, int64_t id, int *ret_bool)
{
	char v[32];
	const char *vals[1] = {v};
	PGresult *r = NULL;
	snprintf(v, sizeof(v), "%" PRId64, id);
	int rc = db_exec_params(c, sql, 1, vals, &r, NULL);
	if (rc < 0)
		return rc;
	if (ret_bool) {
		if (PQntuples(r) != 1 || PQnfields(r) != 1) {
			PQclear(r);
			return -EIO;
		}
		*ret_bool = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	}
	PQclear(r);
	return 0;
}

int db_lock_try_id(PGconn *c, int64_t id, int *ret_got)
{
	*ret_got = 0;
	return lock_query(c, "SELECT pg_try_advisory_lock($1::int8)", id, ret_got);
}

int db_lock_wait_id(PGconn *c, int64_t id)
{
	return lock_query(c, "SELECT pg_advisory_lock($1::int8)", id, NULL);
}

int db_lock_release_id(PGconn *c, int64_t id)
{
	int released = 0;
	int rc = lock_query(c, "SELECT pg_advisory_unlock($1::int8)", id, &released);
	if (rc < 0)
		return rc;
	return released ? 0 : -ENOENT;
}

int db_lock_try_xact_id(PGconn *c, int64_t id, int *ret_got)
{
	*ret_got = 0;
	return lock_query(c, "SELECT pg_try_advisory_xact_lock($1::int8)", id, ret_got);
}

int db_lock_try(PGconn *c, const char *key, int *ret_got)
{
	return db_lock_try_id(c, db_lock_key(key), ret_got);
}

int db_lock_wait(PGconn *c, const char *key)
{
	return db_lock_wait_id(c, db_lock_key(key));
}

int db_lock_release(PGconn *c, const char *key)
{
	return db_lock_release_id(c, db_lock_key(key));
}

int db_lock_try_xact(PGconn *c, const char *key, int *ret_got)
{
	return db_lock_try_xact_id(c, db_lock_key(key), ret_got);
}
