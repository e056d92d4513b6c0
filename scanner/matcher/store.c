/* store: update operations in the matcher database (see store.h). */
#include "scanner/matcher/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "scanner/matcher/jsonblob.h"

#define ACQUIRE_TIMEOUT_MS 30000
#define COPY_CHUNK (256 * 1024)
#define ORPHAN_BATCH 10000
#define ORPHAN_MAX_BATCHES 100

#define TS_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define UO_COLS "id, ref::text, updater, coalesce(fingerprint, ''), to_char(date AT TIME ZONE 'UTC', " TS_FMT "), kind"
#define VULN_COLS                                                                                                      \
	"id, coalesce(updater,''), coalesce(name,''), coalesce(description,''), "                                      \
	"coalesce(to_char(issued AT TIME ZONE 'UTC', " TS_FMT "),''), coalesce(links,''), "                            \
	"coalesce(severity,''), coalesce(normalized_severity,''), coalesce(package_name,''), "                         \
	"coalesce(package_version,''), coalesce(package_module,''), coalesce(package_arch,''), "                       \
	"coalesce(package_kind,''), coalesce(dist_id,''), coalesce(dist_name,''), coalesce(dist_version,''), "         \
	"coalesce(dist_version_code_name,''), coalesce(dist_version_id,''), coalesce(dist_arch,''), "                  \
	"coalesce(dist_cpe,''), coalesce(dist_pretty_name,''), coalesce(repo_name,''), coalesce(repo_key,''), "        \
	"coalesce(repo_uri,''), coalesce(fixed_in_version,''), coalesce(arch_operation,''), "                          \
	"coalesce(version_kind,''), range_introduced, range_fixed, range_last_affected"

/* staged columns, in COPY order */
#define STAGE_COLS                                                                                                     \
	"hash, updater, name, description, issued, links, severity, normalized_severity, package_name, "               \
	"package_version, package_module, package_arch, package_kind, dist_id, dist_name, dist_version, "              \
	"dist_version_code_name, dist_version_id, dist_arch, dist_cpe, dist_pretty_name, repo_name, "                  \
	"repo_key, repo_uri, fixed_in_version, arch_operation, version_kind, range_introduced, range_fixed, "          \
	"range_last_affected"

/* ---------------------------------------------------------------- helpers */

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

static bool is_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char ch = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return false;
		} else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) {
			return false;
		}
	}
	return true;
}

static int digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* A timestamp PostgreSQL will surely accept: YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|(+|-)HH[:MM]]. The
 * Go zero time counts as absent. */
static bool ts_ok(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, da, h, mi, se;
	if (!s || strlen(s) < 10 || !strncmp(s, "0001-01-01", 10))
		return false;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &da))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || da < 1 || da > mdays[mo - 1])
		return false;
	if (mo == 2 && da == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	s += 10;
	if (!*s)
		return true;
	if (*s != 'T' && *s != ' ' && *s != 't')
		return false;
	s++;
	if (digits(s, 2, &h) || s[2] != ':' || digits(s + 3, 2, &mi) || h > 23 || mi > 59)
		return false;
	s += 5;
	if (*s == ':') {
		if (digits(s + 1, 2, &se) || se > 60)
			return false;
		s += 3;
		if (*s == '.') {
			s++;
			if (*s < '0' || *s > '9')
				return false;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (!*s)
		return true;
	if ((*s == 'Z' || *s == 'z') && !s[1])
		return true;
	if (*s == '+' || *s == '-') {
		int oh, om;
		if (digits(s + 1, 2, &oh) || oh > 15)
			return false;
		s += 3;
		if (!*s)
			return true;
		if (*s == ':')
			s++;
		return !digits(s, 2, &om) && om < 60 && !s[2];
	}
	return false;
}

static int copy_field(struct buf *b, const char *s, bool last)
{
	size_t start = 0, i = 0;
	int r = 0;
	if (!s)
		s = "";
	for (; s[i]; i++) {
		const char *esc = NULL;
		switch (s[i]) {
		case '\\':
			esc = "\\\\";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		default:
			break;
		}
		if (esc) {
			if ((r = buf_append(b, s + start, i - start)) < 0 || (r = buf_puts(b, esc)) < 0)
				return r;
			start = i + 1;
		}
	}
	if ((r = buf_append(b, s + start, i - start)) < 0)
		return r;
	return buf_putc(b, last ? '\n' : '\t');
}

void update_operation_list_release(struct update_operation_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].updater);
		free(l->v[i].fingerprint);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void uo_release(struct update_operation *o)
{
	free(o->updater);
	free(o->fingerprint);
	memset(o, 0, sizeof(*o));
}

static int uo_from_row(const PGresult *r, int row, struct update_operation *o)
{
	memset(o, 0, sizeof(*o));
	o->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
	snprintf(o->ref, sizeof(o->ref), "%s", PQgetvalue(r, row, 1));
	o->updater = xstrdup(PQgetvalue(r, row, 2));
	o->fingerprint = xstrdup(PQgetvalue(r, row, 3));
	snprintf(o->date, sizeof(o->date), "%s", PQgetvalue(r, row, 4));
	snprintf(o->kind, sizeof(o->kind), "%s", PQgetvalue(r, row, 5));
	if (!o->updater || !o->fingerprint) {
		uo_release(o);
		return -ENOMEM;
	}
	return 0;
}

/* rows of VULN_COLS -> list */
static int vulns_from_result(const PGresult *r, struct vuln_list *l)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct vuln v = {0};
		int c = 1;
		v.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		v.updater = PQgetvalue(r, i, c++);
		v.name = PQgetvalue(r, i, c++);
		v.description = PQgetvalue(r, i, c++);
		v.issued = PQgetvalue(r, i, c++);
		v.links = PQgetvalue(r, i, c++);
		v.severity = PQgetvalue(r, i, c++);
		if (severity_parse(PQgetvalue(r, i, c++), &v.normalized_severity) < 0)
			v.normalized_severity = SEV_UNKNOWN;
		v.pkg.name = PQgetvalue(r, i, c++);
		v.pkg.version = PQgetvalue(r, i, c++);
		v.pkg.module = PQgetvalue(r, i, c++);
		v.pkg.arch = PQgetvalue(r, i, c++);
		v.pkg.kind = PQgetvalue(r, i, c++);
		v.dist.did = PQgetvalue(r, i, c++);
		v.dist.name = PQgetvalue(r, i, c++);
		v.dist.version = PQgetvalue(r, i, c++);
		v.dist.version_code_name = PQgetvalue(r, i, c++);
		v.dist.version_id = PQgetvalue(r, i, c++);
		v.dist.arch = PQgetvalue(r, i, c++);
		v.dist.cpe = PQgetvalue(r, i, c++);
		v.dist.pretty_name = PQgetvalue(r, i, c++);
		v.repo.name = PQgetvalue(r, i, c++);
		v.repo.key = PQgetvalue(r, i, c++);
		v.repo.uri = PQgetvalue(r, i, c++);
		v.fixed_in_version = PQgetvalue(r, i, c++);
		v.arch_op = PQgetvalue(r, i, c++);
		v.version_kind = PQgetvalue(r, i, c++);
		v.range_introduced = PQgetvalue(r, i, c++);
		v.range_fixed = PQgetvalue(r, i, c++);
		v.range_last_affected = PQgetvalue(r, i, c++);
		if (vuln_list_add(l, &v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void refresh_latest(PGconn *c)
{
	struct diag d;
	if (db_exec(c, "REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations", &d) < 0 &&
	    db_exec(c, "REFRESH MATERIALIZED VIEW latest_update_operations", &d) < 0)
		log_warn("matcher-store", "refresh latest_update_operations failed", "{s:s}", "error", d.msg);
	/* a refreshed materialized view has no statistics until analyzed */
	else if (db_exec(c, "ANALYZE latest_update_operations", &d) < 0)
		log_warn("matcher-store", "analyze latest_update_operations failed", "{s:s}", "error", d.msg);
}

/* ---------------------------------------------------------------- writer */

struct matcher_store_writer {
	struct db_pool *pool; /* non-NULL when the connection is ours */
	PGconn *c;
	char *updater;
	char *fingerprint;
	struct buf chunk;
	size_t count, skipped;
	int err;
	struct diag d;
	bool in_copy, in_tx;
};

static void writer_free(struct matcher_store_writer *w, bool broken)
{
	if (!w)
		return;
	if (w->c) {
		if (w->in_copy) {
			PQputCopyEnd(w->c, "aborted");
			PGresult *r;
			while ((r = PQgetResult(w->c)) != NULL)
				PQclear(r);
		}
		if (w->in_tx && PQstatus(w->c) == CONNECTION_OK) {
			struct diag d;
			db_exec(w->c, "ROLLBACK", &d);
		}
		if (w->pool) {
			if (broken)
				db_discard(w->pool, w->c);
			else
				db_release(w->pool, w->c);
		}
	}
	free(w->updater);
	free(w->fingerprint);
	buf_release(&w->chunk);
	free(w);
}

static int writer_start(struct matcher_store_writer *w, struct diag *d)
{
	int r;
	PGresult *res;
	if ((r = db_exec(w->c, "BEGIN", d)) < 0)
		return r;
	w->in_tx = true;
	if ((r = db_exec(w->c,
	                 "CREATE TEMP TABLE matcher_stage_vuln (hash bytea NOT NULL, updater text, name text, "
	                 "description text, issued timestamptz, links text, severity text, normalized_severity text, "
	                 "package_name text, package_version text, package_module text, package_arch text, "
	                 "package_kind text, dist_id text, dist_name text, dist_version text, "
	                 "dist_version_code_name text, dist_version_id text, dist_arch text, dist_cpe text, "
	                 "dist_pretty_name text, repo_name text, repo_key text, repo_uri text, fixed_in_version text, "
	                 "arch_operation text, version_kind text, range_introduced text, range_fixed text, "
	                 "range_last_affected text) ON COMMIT DROP",
	                 d)) < 0)
		return r;
	res = PQexec(w->c, "COPY matcher_stage_vuln (" STAGE_COLS ") FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		r = db_result_check(w->c, res, d);
		PQclear(res);
		return r < 0 ? r : diag_fail(d, -EIO, "COPY did not start");
	}
	PQclear(res);
	w->in_copy = true;
	return 0;
}

static int writer_new(struct db_pool *p, PGconn *c, const char *updater, const char *fingerprint,
                      struct matcher_store_writer **ret, struct diag *d)
{
	struct matcher_store_writer *w = calloc(1, sizeof(*w));
	int r;
	*ret = NULL;
	if (!w)
		return diag_fail(d, -ENOMEM, "out of memory");
	w->pool = p;
	w->c = c;
	w->updater = xstrdup(updater);
	w->fingerprint = xstrdup(fingerprint);
	buf_init(&w->chunk, 0);
	if (!w->updater || !w->fingerprint) {
		writer_free(w, false);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	if ((r = writer_start(w, d)) < 0) {
		writer_free(w, r == -ECONNRESET);
		return r;
	}
	*ret = w;
	return 0;
}

int matcher_store_writer_begin(struct db_pool *p, const char *updater, const char *fingerprint,
                               struct matcher_store_writer **ret, struct diag *d)
{
	PGconn *c = NULL;
	int r = db_acquire(p, ACQUIRE_TIMEOUT_MS, &c, d);
	if (r < 0)
		return r;
	return writer_new(p, c, updater, fingerprint, ret, d);
}

int matcher_store_writer_begin_conn(PGconn *c, const char *updater, const char *fingerprint,
                                    struct matcher_store_writer **ret, struct diag *d)
{
	return writer_new(NULL, c, updater, fingerprint, ret, d);
}

static int writer_flush(struct matcher_store_writer *w, struct diag *d)
{
	if (!w->chunk.len)
		return 0;
	if (PQputCopyData(w->c, w->chunk.data, (int)w->chunk.len) != 1)
		return diag_fail(d, -ECONNRESET, "COPY: %s", PQerrorMessage(w->c));
	buf_reset(&w->chunk);
	return 0;
}

int matcher_store_writer_add(struct matcher_store_writer *w, const struct vuln *v, struct diag *d)
{
	char h[33], hb[40];
	struct buf *b = &w->chunk;
	int r;
	if (w->err)
		return diag_fail(d, w->err, "%s", w->d.msg);
	if (!v->pkg.name || !*v->pkg.name) {
		w->skipped++;
		return 0;
	}
	if ((r = vuln_hash(v, h)) < 0)
		goto fail;
	snprintf(hb, sizeof(hb), "\\\\x%s", h);
	const char *f[] = {v->updater,
	                   v->name,
	                   v->description,
	                   NULL /* issued */,
	                   v->links,
	                   v->severity,
	                   severity_name(v->normalized_severity),
	                   v->pkg.name,
	                   v->pkg.version,
	                   v->pkg.module,
	                   v->pkg.arch,
	                   v->pkg.kind,
	                   v->dist.did,
	                   v->dist.name,
	                   v->dist.version,
	                   v->dist.version_code_name,
	                   v->dist.version_id,
	                   v->dist.arch,
	                   v->dist.cpe,
	                   v->dist.pretty_name,
	                   v->repo.name,
	                   v->repo.key,
	                   v->repo.uri,
	                   v->fixed_in_version,
	                   v->arch_op,
	                   v->version_kind,
	                   v->range_introduced,
	                   v->range_fixed,
	                   v->range_last_affected};
	const size_t nf = sizeof(f) / sizeof(f[0]);
	if ((r = buf_puts(b, hb)) < 0 || (r = buf_putc(b, '\t')) < 0)
		goto fail;
	for (size_t i = 0; i < nf; i++) {
		if (i == 0 && (!v->updater || !*v->updater)) {
			r = copy_field(b, w->updater, false);
		} else if (i == 3) {
			r = ts_ok(v->issued) ? copy_field(b, v->issued, false) : buf_puts(b, "\\N\t");
		} else {
			r = copy_field(b, f[i], i + 1 == nf);
		}
		if (r < 0)
			goto fail;
	}
	w->count++;
	if (b->len >= COPY_CHUNK && (r = writer_flush(w, d)) < 0) {
		w->err = r;
		memcpy(&w->d, d, sizeof(w->d));
		return r;
	}
	return 0;
fail:
	w->err = r;
	diag_set(&w->d, "staging vulnerability: %s", strerror(-r));
	return diag_fail(d, r, "%s", w->d.msg);
}

static int sink_add(void *ctx, const struct vuln *v)
{
	struct matcher_store_writer *w = ctx;
	struct diag d;
	int r = matcher_store_writer_add(w, v, &d);
	if (r < 0 && !w->err) {
		w->err = r;
		memcpy(&w->d, &d, sizeof(d));
	}
	return r;
}

struct vuln_sink matcher_store_writer_sink(struct matcher_store_writer *w)
{
	return (struct vuln_sink){sink_add, w};
}

size_t matcher_store_writer_count(const struct matcher_store_writer *w)
{
	return w->count;
}

void matcher_store_writer_abort(struct matcher_store_writer *w)
{
	writer_free(w, false);
}

int matcher_store_writer_commit(struct matcher_store_writer *w, char ref_out[37], struct diag *d)
{
	PGresult *res = NULL;
	const char *params[2];
	char uo_id[32], ref[37] = "";
	int r;

	if (w->err) {
		r = diag_fail(d, w->err, "%s", w->d.msg);
		goto out;
	}
	if ((r = writer_flush(w, d)) < 0)
		goto out;
	if (PQputCopyEnd(w->c, NULL) != 1) {
		r = diag_fail(d, -ECONNRESET, "COPY end: %s", PQerrorMessage(w->c));
		goto out;
	}
	w->in_copy = false;
	r = 0;
	while ((res = PQgetResult(w->c)) != NULL) {
		if (r == 0)
			r = db_result_check(w->c, res, d);
		PQclear(res);
	}
	if (r < 0)
		goto out;
	if ((r = db_exec(w->c, "ANALYZE matcher_stage_vuln", d)) < 0)
		goto out;
	params[0] = w->updater;
	params[1] = w->fingerprint;
	if ((r = db_exec_params(w->c,
	                        "INSERT INTO update_operation (updater, fingerprint, kind) "
	                        "VALUES ($1, $2, 'vulnerability') RETURNING id, ref::text",
	                        2, params, &res, d)) < 0)
		goto out;
	snprintf(uo_id, sizeof(uo_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(ref, sizeof(ref), "%s", PQgetvalue(res, 0, 1));
	if (ref_out)
		snprintf(ref_out, 37, "%s", ref);
	PQclear(res);
	res = NULL;
	if ((r = db_exec(w->c,
	                 "INSERT INTO vuln (hash_kind, " STAGE_COLS ") "
	                 "SELECT DISTINCT ON (hash) 'md5', " STAGE_COLS " FROM matcher_stage_vuln "
	                 "ON CONFLICT (hash_kind, hash) DO NOTHING",
	                 d)) < 0)
		goto out;
	params[0] = uo_id;
	if ((r = db_exec_params(w->c,
	                        "INSERT INTO uo_vuln (uo, vuln) SELECT DISTINCT $1::bigint, v.id "
	                        "FROM matcher_stage_vuln s JOIN vuln v ON v.hash_kind = 'md5' AND v.hash = s.hash "
	                        "ON CONFLICT DO NOTHING",
	                        1, params, NULL, d)) < 0)
		goto out;
	if ((r = db_exec(w->c, "COMMIT", d)) < 0)
		goto out;
	w->in_tx = false;
	refresh_latest(w->c);
	log_info("matcher-store", "update operation written", "{s:s,s:s,s:i,s:i}", "updater", w->updater, "ref", ref,
	         "count", (int)w->count, "skipped", (int)w->skipped);
out:
	if (r < 0)
		diag_prefix(d, "updater %s", w->updater);
	writer_free(w, r == -ECONNRESET);
	return r;
}

int matcher_store_update_vulns(struct db_pool *p, const char *updater, const char *fingerprint,
                               const struct vuln *vulns, size_t n, char ref_out[37], struct diag *d)
{
	struct matcher_store_writer *w;
	int r = matcher_store_writer_begin(p, updater, fingerprint, &w, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = matcher_store_writer_add(w, &vulns[i], d)) < 0) {
			matcher_store_writer_abort(w);
			return r;
		}
	return matcher_store_writer_commit(w, ref_out, d);
}

/* ---------------------------------------------------------------- reading */

struct q_ops {
	const char *kind;
	bool latest;
	struct update_operation_list *ret;
};

static int ops_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_ops *q = arg;
	PGresult *res = NULL;
	const char *params[1] = {q->kind};
	int r = db_exec_params(c,
	                       q->latest ? "SELECT DISTINCT ON (updater) " UO_COLS " FROM update_operation "
	                                   "WHERE kind = $1 ORDER BY updater, id DESC"
	                                 : "SELECT " UO_COLS " FROM update_operation WHERE kind = $1 "
	                                   "ORDER BY updater, id DESC",
	                       1, params, &res, d);
	if (r < 0)
		return r;
	int n = PQntuples(res);
	q->ret->v = calloc((size_t)n + 1, sizeof(*q->ret->v));
	if (!q->ret->v) {
		PQclear(res);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		if (uo_from_row(res, i, &q->ret->v[i]) < 0) {
			PQclear(res);
			return diag_fail(d, -ENOMEM, "out of memory");
		}
		q->ret->n++;
	}
	PQclear(res);
	return 0;
}

int matcher_store_update_operations(struct db_pool *p, const char *kind, bool latest, struct update_operation_list *ret,
                                    struct diag *d)
{
	struct q_ops q = {kind ? kind : "vulnerability", latest, ret};
	int r;
	memset(ret, 0, sizeof(*ret));
	r = db_run(p, ops_fn, &q, d);
	if (r < 0)
		update_operation_list_release(ret);
	return r;
}

struct q_ref {
	const char *kind;
	char *ref;
};

static int latest_ref_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_ref *q = arg;
	PGresult *res = NULL;
	const char *params[1] = {q->kind};
	int r = db_exec_params(c, "SELECT ref::text FROM update_operation WHERE kind = $1 ORDER BY id DESC LIMIT 1", 1,
	                       params, &res, d);
	if (r < 0)
		return r;
	if (PQntuples(res) == 0)
		r = diag_fail(d, -ENOENT, "no update operations");
	else
		snprintf(q->ref, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

int matcher_store_latest_ref(struct db_pool *p, const char *kind, char ref_out[37], struct diag *d)
{
	struct q_ref q = {kind ? kind : "vulnerability", ref_out};
	ref_out[0] = '\0';
	return db_run(p, latest_ref_fn, &q, d);
}

int matcher_store_latest_fingerprint(PGconn *c, const char *updater, char **ret, struct diag *d)
{
	PGresult *res = NULL;
	const char *params[1] = {updater};
	int r = db_exec_params(c,
	                       "SELECT coalesce(fingerprint, '') FROM update_operation WHERE updater = $1 "
	                       "ORDER BY id DESC LIMIT 1",
	                       1, params, &res, d);
	*ret = NULL;
	if (r < 0)
		return r;
	if (PQntuples(res) > 0 && !(*ret = strdup(PQgetvalue(res, 0, 0))))
		r = diag_fail(d, -ENOMEM, "out of memory");
	PQclear(res);
	return r;
}

struct q_fp {
	const char *updater, *fp;
	bool *ret;
};

static int has_fp_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_fp *q = arg;
	PGresult *res = NULL;
	const char *params[2] = {q->updater, q->fp};
	int r = db_exec_params(c, "SELECT 1 FROM update_operation WHERE updater = $1 AND fingerprint = $2 LIMIT 1", 2,
	                       params, &res, d);
	if (r < 0)
		return r;
	*q->ret = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

int matcher_store_has_fingerprint(struct db_pool *p, const char *updater, const char *fingerprint, bool *ret,
                                  struct diag *d)
{
	struct q_fp q = {updater, fingerprint ? fingerprint : "", ret};
	*ret = false;
	return db_run(p, has_fp_fn, &q, d);
}

static int get_op(PGconn *c, const char *ref, struct update_operation *o, struct diag *d)
{
	PGresult *res = NULL;
	const char *params[1] = {ref};
	int r = db_exec_params(c, "SELECT " UO_COLS " FROM update_operation WHERE ref = $1::uuid", 1, params, &res, d);
	if (r < 0)
		return r;
	if (PQntuples(res) == 0)
		r = diag_fail(d, -ENOENT, "update operation %s not found", ref);
	else if (uo_from_row(res, 0, o) < 0)
		r = diag_fail(d, -ENOMEM, "out of memory");
	PQclear(res);
	return r;
}

static int vulns_query(PGconn *c, const char *sql, int nparams, const char *const *params, struct vuln_list *l,
                       struct diag *d)
{
	PGresult *res = NULL;
	int r = db_exec_params(c, sql, nparams, params, &res, d);
	if (r < 0)
		return r;
	if (vulns_from_result(res, l) < 0)
		r = diag_fail(d, -ENOMEM, "out of memory");
	PQclear(res);
	return r;
}

struct q_diff {
	const char *prev, *cur;
	struct update_diff *ret;
};

static int diff_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_diff *q = arg;
	struct update_diff *df = q->ret;
	char cur_id[32], prev_id[32] = "-1";
	const char *params[2];
	int r;

	uo_release(&df->prev);
	uo_release(&df->cur);
	vuln_list_release(&df->added);
	vuln_list_release(&df->removed);
	snprintf(df->prev.ref, sizeof(df->prev.ref), "%s", MATCHER_NIL_UUID);
	if ((r = get_op(c, q->cur, &df->cur, d)) < 0)
		return r;
	if (strcmp(df->cur.kind, "vulnerability"))
		return diag_fail(d, -EINVAL, "update operation %s is of kind %s", q->cur, df->cur.kind);
	if (q->prev) {
		if ((r = get_op(c, q->prev, &df->prev, d)) < 0)
			return r;
		if (strcmp(df->prev.kind, "vulnerability"))
			return diag_fail(d, -EINVAL, "update operation %s is of kind %s", q->prev, df->prev.kind);
		snprintf(prev_id, sizeof(prev_id), "%lld", (long long)df->prev.id);
	}
	snprintf(cur_id, sizeof(cur_id), "%lld", (long long)df->cur.id);
	params[0] = cur_id;
	params[1] = prev_id;
	if ((r = vulns_query(c,
	                     "SELECT " VULN_COLS
	                     " FROM vuln WHERE id IN (SELECT vuln FROM uo_vuln WHERE uo = $1::bigint "
	                     "EXCEPT SELECT vuln FROM uo_vuln WHERE uo = $2::bigint) ORDER BY id",
	                     2, params, &df->added, d)) < 0)
		return r;
	if (q->prev)
		r = vulns_query(c,
		                "SELECT " VULN_COLS
		                " FROM vuln WHERE id IN (SELECT vuln FROM uo_vuln WHERE uo = $2::bigint "
		                "EXCEPT SELECT vuln FROM uo_vuln WHERE uo = $1::bigint) ORDER BY id",
		                2, params, &df->removed, d);
	return r;
}

void update_diff_release(struct update_diff *df)
{
	uo_release(&df->prev);
	uo_release(&df->cur);
	vuln_list_release(&df->added);
	vuln_list_release(&df->removed);
}

int matcher_store_update_diff(struct db_pool *p, const char *prev, const char *cur, struct update_diff *ret,
                              struct diag *d)
{
	struct q_diff q = {prev, cur, ret};
	int r;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->prev.ref, sizeof(ret->prev.ref), "%s", MATCHER_NIL_UUID);
	if (prev && (!*prev || !strcmp(prev, MATCHER_NIL_UUID)))
		q.prev = NULL;
	if (!is_uuid(cur))
		return diag_fail(d, -EINVAL, "invalid uuid \"%s\"", cur ? cur : "");
	if (q.prev && !is_uuid(q.prev))
		return diag_fail(d, -EINVAL, "invalid uuid \"%s\"", q.prev);
	r = db_run(p, diff_fn, &q, d);
	if (r < 0)
		update_diff_release(ret);
	return r;
}

struct q_byref {
	const char *ref;
	struct vuln_list *ret;
};

static int byref_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_byref *q = arg;
	const char *params[1] = {q->ref};
	vuln_list_release(q->ret);
	return vulns_query(c,
	                   "SELECT " VULN_COLS " FROM vuln WHERE id IN (SELECT uv.vuln FROM uo_vuln uv "
	                   "JOIN update_operation uo ON uo.id = uv.uo WHERE uo.ref = $1::uuid) ORDER BY id",
	                   1, params, q->ret, d);
}

int matcher_store_vulns_by_ref(struct db_pool *p, const char *ref, struct vuln_list *ret, struct diag *d)
{
	struct q_byref q = {ref, ret};
	memset(ret, 0, sizeof(*ret));
	if (!is_uuid(ref))
		return diag_fail(d, -EINVAL, "invalid uuid \"%s\"", ref ? ref : "");
	int r = db_run(p, byref_fn, &q, d);
	if (r < 0)
		vuln_list_release(ret);
	return r;
}

int matcher_store_load_vulns_by_ids(PGconn *c, const int64_t *ids, size_t n, struct vuln_list *ret, struct diag *d)
{
	struct buf arr = BUF_INIT;
	int r = 0;
	const char *params[1];
	if (n == 0)
		return 0;
	if ((r = buf_put_pg_int_array(&arr, ids, n)) < 0)
		goto out;
	params[0] = arr.data;
	r = vulns_query(c, "SELECT " VULN_COLS " FROM vuln WHERE id = ANY($1::bigint[])", 1, params, ret, d);
out:
	if (r == -ENOMEM)
		diag_set(d, "out of memory");
	buf_release(&arr);
	return r;
}

/* ---------------------------------------------------------------- delete, GC */

struct q_del {
	const char *const *refs;
	size_t n;
	size_t deleted;
};

static int del_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_del *q = arg;
	q->deleted = 0;
	for (size_t i = 0; i < q->n; i++) {
		PGresult *res = NULL;
		const char *params[1] = {q->refs[i]};
		int r = db_exec_params(c, "DELETE FROM update_operation WHERE ref = $1::uuid", 1, params, &res, d);
		if (r < 0)
			return r;
		q->deleted += (size_t)strtoul(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	return 0;
}

int matcher_store_delete_update_operations(struct db_pool *p, const char *const *refs, size_t n, size_t *ret_deleted,
                                           struct diag *d)
{
	struct q_del q = {refs, n, 0};
	PGconn *c = NULL;
	int r;
	for (size_t i = 0; i < n; i++)
		if (!is_uuid(refs[i]))
			return diag_fail(d, -EINVAL, "invalid uuid \"%s\"", refs[i] ? refs[i] : "");
	if ((r = db_tx(p, del_fn, &q, d)) < 0)
		return r;
	if (ret_deleted)
		*ret_deleted = q.deleted;
	if (q.deleted && db_acquire(p, ACQUIRE_TIMEOUT_MS, &c, d) == 0) {
		refresh_latest(c);
		db_release(p, c);
	}
	return 0;
}

static long long exec_count(PGconn *c, const char *sql, int np, const char *const *params, struct diag *d)
{
	PGresult *res = NULL;
	int r = db_exec_params(c, sql, np, params, &res, d);
	long long n;
	if (r < 0)
		return r;
	n = strtoll(PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

int matcher_store_gc(struct db_pool *p, int keep, size_t *ret_remaining, struct diag *d)
{
	PGconn *c = NULL;
	char keep_s[16], lim_s[16];
	const char *params[2] = {keep_s, lim_s};
	int got = 0, r;
	long long n, deleted = 0, orphans = 0;

	if (ret_remaining)
		*ret_remaining = 0;
	if (keep <= 0)
		return 0;
	snprintf(keep_s, sizeof(keep_s), "%d", keep);
	snprintf(lim_s, sizeof(lim_s), "%d", MATCHER_GC_THROTTLE);
	if ((r = db_acquire(p, ACQUIRE_TIMEOUT_MS, &c, d)) < 0)
		return r;
	if ((r = db_lock_try(c, "garbage-collection", &got)) < 0) {
		diag_set(d, "garbage-collection lock failed");
		goto out;
	}
	if (!got)
		goto out;
	n = exec_count(c,
	               "DELETE FROM update_operation WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
	               "(PARTITION BY updater, kind ORDER BY id DESC) AS rn FROM update_operation) x "
	               "WHERE rn > $1::int ORDER BY id LIMIT $2::int)",
	               2, params, d);
	if (n < 0) {
		r = (int)n;
		goto unlock;
	}
	deleted = n;
	if (deleted)
		refresh_latest(c);
	n = exec_count(c,
	               "SELECT count(*) FROM (SELECT row_number() OVER (PARTITION BY updater, kind ORDER BY id DESC) "
	               "AS rn FROM update_operation) x WHERE rn > $1::int",
	               1, params, d);
	if (n < 0) {
		r = (int)n;
		goto unlock;
	}
	if (ret_remaining)
		*ret_remaining = (size_t)n;
	for (int i = 0; i < ORPHAN_MAX_BATCHES; i++) {
		snprintf(lim_s, sizeof(lim_s), "%d", ORPHAN_BATCH);
		n = exec_count(c,
		               "DELETE FROM vuln WHERE id IN (SELECT v.id FROM vuln v WHERE NOT EXISTS "
		               "(SELECT 1 FROM uo_vuln u WHERE u.vuln = v.id) LIMIT $1::int)",
		               1, params + 1, d);
		if (n < 0) {
			r = (int)n;
			goto unlock;
		}
		orphans += n;
		if (n < ORPHAN_BATCH)
			break;
	}
	n = exec_count(c,
	               "DELETE FROM enrichment WHERE id IN (SELECT e.id FROM enrichment e WHERE NOT EXISTS "
	               "(SELECT 1 FROM uo_enrich u WHERE u.enrich = e.id) LIMIT $1::int)",
	               1, params + 1, d);
	if (n < 0) {
		r = (int)n;
		goto unlock;
	}
	log_info("matcher-store", "garbage collection", "{s:i,s:i,s:i}", "operations_deleted", (int)deleted,
	         "vulns_deleted", (int)orphans, "operations_remaining", (int)(ret_remaining ? *ret_remaining : 0));
unlock:
	if (db_lock_release(c, "garbage-collection") < 0 && r == 0)
		r = diag_fail(d, -ECONNRESET, "garbage-collection unlock failed");
out:
	if (r == -ECONNRESET)
		db_discard(p, c);
	else
		db_release(p, c);
	return r;
}

/* ---------------------------------------------------------------- updater_status */

struct q_status {
	const char *params[4];
};

static int status_fn(PGconn *c, void *arg, struct diag *d)
{
	struct q_status *q = arg;
	return db_exec_params(
	    c,
	    "INSERT INTO updater_status (updater_name, last_attempt, last_success, last_run_succeeded, "
	    "last_attempt_fingerprint, last_error) VALUES ($1, now(), CASE WHEN $3::bool THEN now() END, "
	    "$3::bool, $2, $4) ON CONFLICT (updater_name) DO UPDATE SET last_attempt = now(), "
	    "last_success = CASE WHEN $3::bool THEN now() ELSE updater_status.last_success END, "
	    "last_run_succeeded = $3::bool, last_attempt_fingerprint = $2, last_error = $4",
	    4, q->params, NULL, d);
}

int matcher_store_record_status(struct db_pool *p, const char *updater, const char *fingerprint, bool success,
                                const char *error, struct diag *d)
{
	struct q_status q = {{updater, fingerprint, success ? "true" : "false", error}};
	return db_run(p, status_fn, &q, d);
}

void updater_status_list_release(struct updater_status_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].updater);
		free(l->v[i].last_attempt_fingerprint);
		free(l->v[i].last_error);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int status_list_fn(PGconn *c, void *arg, struct diag *d)
{
	struct updater_status_list *l = arg;
	PGresult *res = NULL;
	int r =
	    db_exec_params(c,
	                   "SELECT updater_name, coalesce(to_char(last_attempt AT TIME ZONE 'UTC', " TS_FMT "),''), "
	                   "coalesce(to_char(last_success AT TIME ZONE 'UTC', " TS_FMT "),''), "
	                   "coalesce(last_run_succeeded, false), coalesce(last_attempt_fingerprint,''), "
	                   "coalesce(last_error,'') FROM updater_status ORDER BY updater_name",
	                   0, NULL, &res, d);
	if (r < 0)
		return r;
	updater_status_list_release(l);
	l->v = calloc((size_t)PQntuples(res) + 1, sizeof(*l->v));
	if (!l->v) {
		PQclear(res);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct updater_status *s = &l->v[l->n++];
		s->updater = xstrdup(PQgetvalue(res, i, 0));
		snprintf(s->last_attempt, sizeof(s->last_attempt), "%s", PQgetvalue(res, i, 1));
		snprintf(s->last_success, sizeof(s->last_success), "%s", PQgetvalue(res, i, 2));
		s->last_run_succeeded = PQgetvalue(res, i, 3)[0] == 't';
		s->last_attempt_fingerprint = xstrdup(PQgetvalue(res, i, 4));
		s->last_error = xstrdup(PQgetvalue(res, i, 5));
		if (!s->updater || !s->last_attempt_fingerprint || !s->last_error) {
			PQclear(res);
			return diag_fail(d, -ENOMEM, "out of memory");
		}
	}
	PQclear(res);
	return 0;
}

int matcher_store_updater_status(struct db_pool *p, struct updater_status_list *ret, struct diag *d)
{
	int r;
	memset(ret, 0, sizeof(*ret));
	r = db_run(p, status_list_fn, ret, d);
	if (r < 0)
		updater_status_list_release(ret);
	return r;
}

/* ---------------------------------------------------------------- import */

int matcher_store_import(struct db_pool *p, struct jsonblob_reader *r, struct matcher_import_stats *st,
                         void (*progress)(void *ctx, const struct matcher_import_stats *st), void *ctx, struct diag *d)
{
	struct jsonblob_record rec;
	struct matcher_store_writer *w = NULL;
	char *cur_updater = NULL, *cur_ref = NULL;
	bool skipping = false, in_group = false;
	int rc, got;

	memset(st, 0, sizeof(*st));
	for (;;) {
		rc = got = jsonblob_read(r, &rec, d);
		if (rc < 0)
			goto out;
		bool same = got > 0 && in_group && !strcmp(rec.updater, cur_updater) && !strcmp(rec.ref, cur_ref);
		if (in_group && !same) { /* close the current group */
			if (w) {
				rc = matcher_store_writer_commit(w, NULL, d);
				w = NULL;
				if (rc < 0) {
					jsonblob_record_release(&rec);
					goto out;
				}
				st->ops_written++;
			} else if (skipping) {
				st->ops_skipped++;
			}
			in_group = false;
			if (progress)
				progress(ctx, st);
		}
		if (got == 0)
			break;
		if (!in_group) {
			bool has = false;
			free(cur_updater);
			free(cur_ref);
			cur_updater = strdup(rec.updater);
			cur_ref = strdup(rec.ref);
			if (!cur_updater || !cur_ref) {
				jsonblob_record_release(&rec);
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
			in_group = true;
			if ((rc = matcher_store_has_fingerprint(p, rec.updater, rec.fingerprint, &has, d)) < 0) {
				jsonblob_record_release(&rec);
				goto out;
			}
			skipping = has;
			if (!has && (rc = matcher_store_writer_begin(p, rec.updater, rec.fingerprint, &w, d)) < 0) {
				jsonblob_record_release(&rec);
				goto out;
			}
		}
		if (strcmp(rec.kind, "vulnerability") || !rec.has_vuln) {
			st->other++;
		} else if (w) {
			if ((rc = matcher_store_writer_add(w, &rec.vuln, d)) < 0) {
				jsonblob_record_release(&rec);
				goto out;
			}
			st->vulns++;
		}
		jsonblob_record_release(&rec);
	}
	rc = 0;
out:
	matcher_store_writer_abort(w);
	free(cur_updater);
	free(cur_ref);
	return rc;
}
