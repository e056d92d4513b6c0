/* report: VulnerabilityReport building with one candidate query per matcher. */
#include "scanner/matcher/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/matcher/match.h"
#include "scanner/matcher/vulnjson.h"

#define S(x) ((x) ? (x) : "")
#define ARRAY_MAX ((size_t)512 << 20)

static uint64_t sql_count;

uint64_t matcher_sql_count(void)
{
	return __atomic_load_n(&sql_count, __ATOMIC_RELAXED);
}

int matcher_sql_exec(PGconn *c, const char *sql, int nparams, const char *const *values, PGresult **ret, struct diag *d)
{
	__atomic_fetch_add(&sql_count, 1, __ATOMIC_RELAXED);
	return db_exec_params(c, sql, nparams, values, ret, d);
}

int matcher_sql_array_add(struct buf *b, const char *s)
{
	return buf_put_pg_array_elem(b, s) < 0 ? -ENOMEM : 0;
}

int matcher_vuln_ptr_cmp(const void *a, const void *b)
{
	const struct vuln *x = *(const struct vuln *const *)a, *y = *(const struct vuln *const *)b;
	if (x->normalized_severity != y->normalized_severity)
		return x->normalized_severity > y->normalized_severity ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* ---- vuln rows ---- */

#define VULN_COLS                                                                                                      \
	"v.id, COALESCE(v.updater,''), COALESCE(v.name,''), COALESCE(v.description,''),"                               \
	" COALESCE(to_char(v.issued AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),''),"                          \
	" COALESCE(v.links,''), COALESCE(v.severity,''), COALESCE(v.normalized_severity,''),"                          \
	" COALESCE(v.package_name,''), COALESCE(v.package_version,''), COALESCE(v.package_module,''),"                 \
	" COALESCE(v.package_arch,''), COALESCE(v.package_kind,''), COALESCE(v.dist_id,''),"                           \
	" COALESCE(v.dist_name,''), COALESCE(v.dist_version,''), COALESCE(v.dist_version_code_name,''),"               \
	" COALESCE(v.dist_version_id,''), COALESCE(v.dist_arch,''), COALESCE(v.dist_cpe,''),"                          \
	" COALESCE(v.dist_pretty_name,''), COALESCE(v.repo_name,''), COALESCE(v.repo_key,''),"                         \
	" COALESCE(v.repo_uri,''), COALESCE(v.fixed_in_version,''), COALESCE(v.arch_operation,''),"                    \
	" COALESCE(v.version_kind,''), v.range_introduced, v.range_fixed, v.range_last_affected"

/* "2019-11-05T00:00:00.000000" -> "2019-11-05T00:00:00Z" (Go's RFC3339Nano trims zeros). */
static void fmt_issued(const char *in, char *out, size_t n)
{
	size_t len = strlen(in);
	out[0] = '\0';
	if (!len || len + 2 > n)
		return;
	memcpy(out, in, len + 1);
	char *dot = strchr(out, '.');
	if (dot) {
		size_t e = strlen(out);
		while (e > (size_t)(dot - out) + 1 && out[e - 1] == '0')
			e--;
		if (e == (size_t)(dot - out) + 1)
			e--;
		out[e] = '\0';
	}
	len = strlen(out);
	out[len] = 'Z';
	out[len + 1] = '\0';
}

static int vuln_from_row(const PGresult *r, int row, struct vuln *ret)
{
	char issued[64];
	int c = 0;
	struct vuln v;
	const char *id = PQgetvalue(r, row, c++);
	memset(&v, 0, sizeof(v));
	v.id = strtoll(id, NULL, 10);
	v.updater = PQgetvalue(r, row, c++);
	v.name = PQgetvalue(r, row, c++);
	v.description = PQgetvalue(r, row, c++);
	fmt_issued(PQgetvalue(r, row, c++), issued, sizeof(issued));
	v.issued = issued;
	v.links = PQgetvalue(r, row, c++);
	v.severity = PQgetvalue(r, row, c++);
	if (severity_parse(PQgetvalue(r, row, c++), &v.normalized_severity) < 0)
		v.normalized_severity = SEV_UNKNOWN;
	char **f[] = {&v.pkg.name,           &v.pkg.version,      &v.pkg.module,
	              &v.pkg.arch,           &v.pkg.kind,         &v.dist.did,
	              &v.dist.name,          &v.dist.version,     &v.dist.version_code_name,
	              &v.dist.version_id,    &v.dist.arch,        &v.dist.cpe,
	              &v.dist.pretty_name,   &v.repo.name,        &v.repo.key,
	              &v.repo.uri,           &v.fixed_in_version, &v.arch_op,
	              &v.version_kind,       &v.range_introduced, &v.range_fixed,
	              &v.range_last_affected};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = PQgetvalue(r, row, c++);
	return vuln_copy(ret, &v);
}

/* ---- records ---- */

struct rec {
	struct match_record r;
	size_t pkg_idx; /* package order in the report */
	char norm_kind[32];
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int recs_push(struct recs *rs, const struct rec *x)
{
	if (rs->n == rs->cap) {
		if (rs->n >= MATCHER_MAX_RECORDS)
			return -E2BIG;
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct rec *p = realloc(rs->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		rs->v = p;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *x;
	return 0;
}

static void set_dist(struct match_record *r, const json_t *dist)
{
	if (!json_is_object(dist))
		return;
	r->has_dist = 1;
	r->dist_id = jstr(dist, "id");
	r->did = jstr(dist, "did");
	r->dist_name = jstr(dist, "name");
	r->dist_version = jstr(dist, "version");
	r->dist_version_code_name = jstr(dist, "version_code_name");
	r->dist_version_id = jstr(dist, "version_id");
	r->dist_arch = jstr(dist, "arch");
	r->dist_cpe = jstr(dist, "cpe");
	r->dist_pretty_name = jstr(dist, "pretty_name");
}

static void set_repo(struct match_record *r, const json_t *repo)
{
	if (!json_is_object(repo))
		return;
	r->has_repo = 1;
	r->repo_id = jstr(repo, "id");
	r->repo_name = jstr(repo, "name");
	r->repo_key = jstr(repo, "key");
	r->repo_uri = jstr(repo, "uri");
	r->repo_cpe = jstr(repo, "cpe");
}

/* IndexRecords (claircore-spec §0); records whose normalized kind is "unmatchable" are dropped. */
static int build_records(const json_t *ir, struct recs *rs, struct diag *d)
{
	const json_t *pkgs = json_object_get(ir, "packages"), *dists = json_object_get(ir, "distributions");
	const json_t *repos = json_object_get(ir, "repository"), *envs = json_object_get(ir, "environments");
	const char *pid;
	const json_t *pkg;
	size_t pidx = 0;
	json_object_foreach((json_t *)pkgs, pid, pkg)
	{
		struct rec base;
		const json_t *src = json_object_get(pkg, "source"), *el = json_object_get(envs, pid), *env;
		size_t i;
		if (!json_is_object(pkg))
			return diag_fail(d, -EINVAL, "index report: package %.64s is not an object", pid);
		memset(&base, 0, sizeof(base));
		match_record_init(&base.r);
		base.pkg_idx = pidx++;
		base.r.pkg_id = pid;
		base.r.name = jstr(pkg, "name");
		base.r.version = jstr(pkg, "version");
		base.r.kind = jstr(pkg, "kind");
		base.r.module = jstr(pkg, "module");
		base.r.arch = jstr(pkg, "arch");
		if (json_is_object(src)) {
			base.r.src_name = jstr(src, "name");
			base.r.src_version = jstr(src, "version");
			base.r.src_kind = jstr(src, "kind");
		}
		const char *nv = jstr(pkg, "normalized_version"), *colon = strchr(nv, ':');
		if (colon && (size_t)(colon - nv) < sizeof(base.norm_kind))
			memcpy(base.norm_kind, nv, (size_t)(colon - nv));
		if (strcmp(base.norm_kind, "unmatchable") == 0)
			continue;
		if (!json_is_array(el))
			continue;
		json_array_foreach(el, i, env)
		{
			struct rec x = base;
			const char *dist_id = jstr(env, "distribution_id");
			const json_t *ids = json_object_get(env, "repository_ids"), *rid;
			size_t j;
			if (*dist_id)
				set_dist(&x.r, json_object_get(dists, dist_id));
			if (!json_is_array(ids) || json_array_size(ids) == 0) {
				int rc = recs_push(rs, &x);
				if (rc < 0)
					return diag_fail(d, rc, "index report: too many records");
				continue;
			}
			json_array_foreach(ids, j, rid)
			{
				struct rec y = x;
				const char *k = json_string_value(rid);
				if (k)
					set_repo(&y.r, json_object_get(repos, k));
				int rc = recs_push(rs, &y);
				if (rc < 0)
					return diag_fail(d, rc, "index report: too many records");
			}
		}
	}
	for (size_t i = 0; i < rs->n; i++)
		rs->v[i].r.norm_kind = rs->v[i].norm_kind;
	return 0;
}

/* ---- fetching ---- */

struct mstate {
	size_t *recs; /* indexes of interested records */
	size_t n_recs;
	struct vuln *cand; /* candidates, sorted by package name after the fetch */
	size_t n_cand;
};

struct fetch {
	struct recs *rs;
	struct mstate *ms; /* one per matcher */
};

static void mstate_clear_cand(struct mstate *m)
{
	for (size_t i = 0; i < m->n_cand; i++)
		vuln_release(&m->cand[i]);
	free(m->cand);
	m->cand = NULL;
	m->n_cand = 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct values as a PostgreSQL array literal. */
static int array_of(const char **vals, size_t n, struct buf *out)
{
	buf_reset(out);
	if (buf_putc(out, '{') < 0)
		return -ENOMEM;
	qsort(vals, n, sizeof(*vals), strp_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(vals[i], vals[i - 1]) == 0)
			continue;
		if (matcher_sql_array_add(out, vals[i]) < 0)
			return -ENOMEM;
	}
	return buf_putc(out, '}') < 0 ? -ENOMEM : 0;
}

static int vuln_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vuln *)a)->pkg.name, ((const struct vuln *)b)->pkg.name);
}

static int fetch_one(PGconn *c, const struct matcher *m, struct mstate *ms, const struct recs *rs, struct diag *d)
{
	struct buf sql = BUF_INIT, arrs[1 + MATCH_MAX_CONSTRAINTS];
	const char **vals = NULL;
	const char *params[1 + MATCH_MAX_CONSTRAINTS];
	PGresult *res = NULL;
	size_t np = 1 + m->n_constraints, nv;
	int rc = -ENOMEM;
	for (size_t i = 0; i < np; i++)
		buf_init(&arrs[i], ARRAY_MAX);
	buf_init(&sql, 0);
	vals = malloc((2 * ms->n_recs + 1) * sizeof(*vals));
	if (!vals)
		goto oom;
	nv = 0;
	for (size_t i = 0; i < ms->n_recs; i++) {
		const struct match_record *r = &rs->v[ms->recs[i]].r;
		vals[nv++] = r->name;
		if (*r->src_name)
			vals[nv++] = r->src_name;
	}
	if (array_of(vals, nv, &arrs[0]) < 0)
		goto oom;
	for (size_t k = 0; k < m->n_constraints; k++) {
		for (size_t i = 0; i < ms->n_recs; i++)
			vals[i] = match_field_record(&rs->v[ms->recs[i]].r, m->constraints[k]);
		if (array_of(vals, ms->n_recs, &arrs[1 + k]) < 0)
			goto oom;
	}
	if (buf_puts(&sql, "SELECT " VULN_COLS " FROM vuln v WHERE v.package_name = ANY($1::text[])") < 0)
		goto oom;
	for (size_t k = 0; k < m->n_constraints; k++)
		if (buf_printf(&sql, " AND COALESCE(v.%s,'') = ANY($%zu::text[])",
		               match_field_column(m->constraints[k]), k + 2) < 0)
			goto oom;
	/* The latest operations are an init plan (an array computed once), so the plan starts from
	 * vuln's package_name index whatever the materialized view's statistics say (a join with
	 * the view was planned from the view outwards when it had none: seconds at 1M rows). */
	if (buf_puts(&sql, " AND NOT v.not_vulnerable AND EXISTS (SELECT 1 FROM uo_vuln uv WHERE uv.vuln = v.id"
	                   " AND uv.uo = ANY(ARRAY(SELECT luo.id FROM latest_update_operations luo"
	                   " WHERE luo.kind = 'vulnerability')))") < 0)
		goto oom;
	for (size_t i = 0; i < np; i++)
		params[i] = arrs[i].data;
	rc = matcher_sql_exec(c, sql.data, (int)np, params, &res, d);
	if (rc < 0) {
		diag_prefix(d, "matcher %s", m->name);
		goto out;
	}
	int n = PQntuples(res);
	ms->cand = calloc((size_t)n + 1, sizeof(*ms->cand));
	if (!ms->cand) {
		rc = -ENOMEM;
		goto oom;
	}
	for (int i = 0; i < n; i++) {
		if (vuln_from_row(res, i, &ms->cand[i]) < 0) {
			rc = -ENOMEM;
			goto oom;
		}
		ms->n_cand++;
	}
	qsort(ms->cand, ms->n_cand, sizeof(*ms->cand), vuln_name_cmp);
	rc = 0;
	goto out;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
out:
	PQclear(res);
	free(vals);
	buf_release(&sql);
	for (size_t i = 0; i < np; i++)
		buf_release(&arrs[i]);
	return rc;
}

static int fetch_fn(PGconn *c, void *arg, struct diag *d)
{
	struct fetch *f = arg;
	for (size_t i = 0; i < match_matchers_n; i++) {
		mstate_clear_cand(&f->ms[i]); /* db_run may call us again */
		if (!f->ms[i].n_recs)
			continue;
		int rc = fetch_one(c, &match_matchers[i], &f->ms[i], f->rs, d);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- matching and output ---- */

struct hit {
	size_t pkg_idx;
	const char *pkg_id;
	const struct vuln *v;
};

struct hits {
	struct hit *v;
	size_t n, cap;
};

static int hits_push(struct hits *h, const struct hit *x)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct hit *p = realloc(h->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->v = p;
		h->cap = cap;
	}
	h->v[h->n++] = *x;
	return 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->pkg_idx != y->pkg_idx)
		return x->pkg_idx < y->pkg_idx ? -1 : 1;
	return matcher_vuln_ptr_cmp(&x->v, &y->v);
}

/* First candidate whose package name is name (candidates sorted by name), or n. */
static size_t cand_lower(const struct mstate *ms, const char *name)
{
	size_t lo = 0, hi = ms->n_cand;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ms->cand[mid].pkg.name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int match_name(const struct matcher *m, const struct mstate *ms, const struct rec *rc, const char *name,
                      struct hits *h)
{
	for (size_t i = cand_lower(ms, name); i < ms->n_cand && strcmp(ms->cand[i].pkg.name, name) == 0; i++) {
		if (!match_record_vuln(m, &rc->r, &ms->cand[i]))
			continue;
		struct hit x = {rc->pkg_idx, rc->r.pkg_id, &ms->cand[i]};
		if (hits_push(h, &x) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The report shares the index report's maps (a reference, not a copy: building and freeing
 * a copy of every package and environment was a good part of a report's cost). Callers do
 * not modify either document afterwards. */
static json_t *copy_or_empty(const json_t *ir, const char *k)
{
	json_t *x = json_object_get(ir, k);
	return json_is_object(x) ? json_incref(x) : json_object();
}

static int build_output(const json_t *ir, struct hits *h, json_t **ret, struct diag *d)
{
	json_t *o = json_object(), *vulns = json_object(), *pv = json_object(), *list = NULL;
	int rc = 0;
	if (!o || !vulns || !pv)
		goto oom;
	if (h->n)
		qsort(h->v, h->n, sizeof(*h->v), hit_cmp);
	for (size_t i = 0; i < h->n; i++) {
		char id[24];
		const struct hit *x = &h->v[i];
		vulnjson_id(x->v->id, id);
		if (i == 0 || x->pkg_idx != h->v[i - 1].pkg_idx) {
			list = json_array();
			if (!list || json_object_set_new(pv, x->pkg_id, list) < 0)
				goto oom;
		} else if (x->v->id == h->v[i - 1].v->id) {
			continue; /* same vuln through another record of the package */
		}
		if (json_array_append_new(list, json_string(id)) < 0)
			goto oom;
		if (!json_object_get(vulns, id)) {
			json_t *vj = vulnjson_encode(x->v);
			if (!vj || json_object_set_new(vulns, id, vj) < 0)
				goto oom;
		}
	}
	/* the same vuln id may come back from two matchers: equal ids are adjacent only when
	 * severities are equal too, which they are (same row) */
	rc |= json_object_set_new(o, "manifest_hash", json_string(jstr(ir, "manifest_hash")));
	rc |= json_object_set_new(o, "packages", copy_or_empty(ir, "packages"));
	rc |= json_object_set_new(o, "distributions", copy_or_empty(ir, "distributions"));
	rc |= json_object_set_new(o, "repository", copy_or_empty(ir, "repository"));
	rc |= json_object_set_new(o, "environments", copy_or_empty(ir, "environments"));
	rc |= json_object_set_new(o, "vulnerabilities", vulns);
	rc |= json_object_set_new(o, "package_vulnerabilities", pv);
	vulns = pv = NULL;
	rc |= json_object_set_new(o, "enrichments", json_object());
	if (rc)
		goto oom;
	*ret = o;
	return 0;
oom:
	json_decref(o);
	json_decref(vulns);
	json_decref(pv);
	return diag_fail(d, -ENOMEM, "out of memory");
}

int matcher_report(struct db_pool *pool, const json_t *index_report, json_t **ret, struct diag *d)
{
	struct recs rs = {0};
	struct mstate ms[16];
	struct hits h = {0};
	struct fetch f = {&rs, ms};
	int rc;
	*ret = NULL;
	memset(ms, 0, sizeof(ms));
	if (match_matchers_n > sizeof(ms) / sizeof(ms[0]))
		return diag_fail(d, -EINVAL, "too many matchers");
	if (!json_is_object(index_report) || !json_is_string(json_object_get(index_report, "manifest_hash")))
		return diag_fail(d, -EINVAL, "index report: not an object with a manifest_hash");
	static const char *const maps[] = {"packages", "distributions", "repository", "environments"};
	for (size_t i = 0; i < 4; i++) {
		const json_t *x = json_object_get(index_report, maps[i]);
		if (x && !json_is_null(x) && !json_is_object(x))
			return diag_fail(d, -EINVAL, "index report: %s is not an object", maps[i]);
	}
	if ((rc = build_records(index_report, &rs, d)) < 0)
		goto out;
	for (size_t i = 0; i < match_matchers_n; i++) {
		const struct matcher *m = &match_matchers[i];
		for (size_t j = 0; j < rs.n; j++) {
			if (!m->filter(&rs.v[j].r))
				continue;
			if (!ms[i].n_recs || (ms[i].n_recs & (ms[i].n_recs - 1)) == 0) {
				size_t cap = ms[i].n_recs ? ms[i].n_recs * 2 : 1;
				size_t *p = realloc(ms[i].recs, cap * sizeof(*p));
				if (!p) {
					rc = diag_fail(d, -ENOMEM, "out of memory");
					goto out;
				}
				ms[i].recs = p;
			}
			ms[i].recs[ms[i].n_recs++] = j;
		}
	}
	int any = 0;
	for (size_t i = 0; i < match_matchers_n; i++)
		any |= ms[i].n_recs > 0;
	if (any && (rc = db_run(pool, fetch_fn, &f, d)) < 0)
		goto out;
	for (size_t i = 0; i < match_matchers_n; i++)
		for (size_t j = 0; j < ms[i].n_recs; j++) {
			const struct rec *r = &rs.v[ms[i].recs[j]];
			rc = match_name(&match_matchers[i], &ms[i], r, r->r.name, &h);
			if (rc == 0 && *r->r.src_name && strcmp(r->r.src_name, r->r.name) != 0)
				rc = match_name(&match_matchers[i], &ms[i], r, r->r.src_name, &h);
			if (rc < 0) {
				rc = diag_fail(d, rc, "out of memory");
				goto out;
			}
		}
	rc = build_output(index_report, &h, ret, d);
out:
	for (size_t i = 0; i < match_matchers_n; i++) {
		mstate_clear_cand(&ms[i]);
		free(ms[i].recs);
	}
	free(rs.v);
	free(h.v);
	return rc;
}

static int has_fn(PGconn *c, void *arg, struct diag *d)
{
	PGresult *r = NULL;
	int rc = matcher_sql_exec(c, "SELECT EXISTS (SELECT 1 FROM vuln LIMIT 1)", 0, NULL, &r, d);
	if (rc < 0)
		return rc;
	*(int *)arg = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

int matcher_has_vulns(struct db_pool *pool, int *ret, struct diag *d)
{
	*ret = 0;
	return db_run(pool, has_fn, ret, d);
}
