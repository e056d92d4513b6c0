/* migrate: embedded, versioned migrations applied under one advisory lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/db/db_int.h"

#define MIGRATE_MAX_VERSION 1024

struct schema_desc {
	const char *name;
	const char *table;
	const struct db_migration *m;
	const int *n;
};

static const struct schema_desc schemas[] = {
	[DB_SCHEMA_INDEXER] = {"indexer", "libindex_migrations", db_migrations_indexer, &db_migrations_indexer_n},
	[DB_SCHEMA_MATCHER] = {"matcher", "libvuln_migrations", db_migrations_matcher, &db_migrations_matcher_n},
	[DB_SCHEMA_NOTIFIER] = {"notifier", "notifier_migrations", db_migrations_notifier,
				&db_migrations_notifier_n},
};

static const struct schema_desc *schema_get(enum db_schema s)
{
	if ((unsigned)s >= sizeof(schemas) / sizeof(schemas[0]))
		return NULL;
	return &schemas[s];
}

const char *db_schema_table(enum db_schema s)
{
	const struct schema_desc *sd = schema_get(s);
	return sd ? sd->table : NULL;
}

int db_schema_latest(enum db_schema s)
{
	const struct schema_desc *sd = schema_get(s);
	if (!sd || *sd->n == 0)
		return 0;
	return sd->m[*sd->n - 1].version;
}

/* IEEE CRC-32, for the claircore migration lock key crc32("migrations"). */
static uint32_t crc32_ieee(const char *s)
{
	uint32_t c = 0xffffffffu;
	for (; *s; s++) {
		c ^= (unsigned char)*s;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static int apply_one(PGconn *c, const struct schema_desc *sd, const struct db_migration *m, struct diag *d)
{
	char sql[128], ver[16];
	const char *vals[1] = {ver};
	int rc;

	if ((rc = db_exec(c, "BEGIN", d)) < 0)
		return rc;
	for (const char *const *st = m->stmts; *st; st++)
		if ((rc = db_exec(c, *st, d)) < 0)
			goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (version) VALUES ($1)", sd->table);
	snprintf(ver, sizeof(ver), "%d", m->version);
	if ((rc = db_exec_params(c, sql, 1, vals, NULL, d)) < 0)
		goto fail;
	return db_exec(c, "COMMIT", d);
fail:
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, "ROLLBACK");
		PQclear(r);
	}
	return rc;
}

static int is_uuid_msg(const struct diag *d)
{
	return d && strstr(d->msg, "Please load the \"uuid-ossp\" extension.") != NULL;
}

static int migrate_once(struct db_pool *p, const struct schema_desc *sd, int *ret_applied, struct diag *d)
{
	const int64_t lock_id = (int64_t)crc32_ieee("migrations");
	PGconn *c = NULL;
	PGresult *r = NULL;
	unsigned char *have = NULL;
	int rc, locked = 0, applied = 0;
	char sql[160];

	if ((rc = db_acquire(p, 30000, &c, d)) < 0) {
		diag_prefix(d, "%s migrations", sd->name);
		return rc;
	}
	if ((rc = db_lock_wait_id(c, lock_id)) < 0) {
		diag_set(d, "%s migrations: could not take the migration lock", sd->name);
		goto out;
	}
	locked = 1;
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s (version INTEGER PRIMARY KEY)", sd->table);
	if ((rc = db_exec(c, sql, d)) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT version FROM %s", sd->table);
	if ((rc = db_exec_params(c, sql, 0, NULL, &r, d)) < 0)
		goto fail;
	have = calloc(MIGRATE_MAX_VERSION + 1, 1);
	if (!have) {
		rc = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		long v = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (v > 0 && v <= MIGRATE_MAX_VERSION)
			have[v] = 1;
	}
	for (int i = 0; i < *sd->n; i++) {
		const struct db_migration *m = &sd->m[i];
		if (m->version <= 0 || m->version > MIGRATE_MAX_VERSION || have[m->version])
			continue;
		if ((rc = apply_one(c, sd, m, d)) < 0) {
			if (!is_uuid_msg(d))
				diag_prefix(d, "%s migration %d", sd->name, m->version);
			goto out;
		}
		applied++;
		(*ret_applied)++;
		log_info("db", "applied migration", "{s:s,s:i}", "schema", sd->name, "version", m->version);
	}
	rc = applied;
	goto out;
fail:
	diag_prefix(d, "%s migrations", sd->name);
out:
	PQclear(r);
	free(have);
	if (c) {
		if (locked && PQstatus(c) == CONNECTION_OK) {
			if (PQtransactionStatus(c) != PQTRANS_IDLE) {
				PGresult *rb = PQexec(c, "ROLLBACK");
				PQclear(rb);
			}
			(void)db_lock_release_id(c, lock_id);
		}
		if (PQstatus(c) != CONNECTION_OK)
			db_discard(p, c);
		else
			db_release(p, c);
	}
	return rc;
}

int db_migrate(struct db_pool *p, enum db_schema s, struct diag *d)
{
	const struct schema_desc *sd = schema_get(s);
	int applied = 0, rc;

	if (!sd)
		return diag_fail(d, -EINVAL, "unknown schema %d", (int)s);
	rc = migrate_once(p, sd, &applied, d);
	if (rc == -ECONNRESET) /* each migration commits with its version row: redoing is safe */
		rc = migrate_once(p, sd, &applied, d);
	return rc < 0 ? rc : applied;
}

struct version_arg {
	const struct schema_desc *sd;
	int v;
};

static int version_fn(PGconn *c, void *arg, struct diag *d)
{
	struct version_arg *va = arg;
	PGresult *r = NULL;
	const char *vals[1] = {va->sd->table};
	char sql[160];
	int rc;

	va->v = 0;
	if ((rc = db_exec_params(c, "SELECT to_regclass($1) IS NOT NULL", 1, vals, &r, d)) < 0)
		return rc;
	int exists = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!exists)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT COALESCE(max(version), 0) FROM %s", va->sd->table);
	if ((rc = db_exec_params(c, sql, 0, NULL, &r, d)) < 0)
		return rc;
	va->v = PQntuples(r) == 1 ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}

int db_schema_version(struct db_pool *p, enum db_schema s, int *ret)
{
	struct version_arg va = {schema_get(s), 0};
	*ret = 0;
	if (!va.sd)
		return -EINVAL;
	int rc = db_run(p, version_fn, &va, NULL);
	if (rc == 0)
		*ret = va.v;
	return rc;
}
