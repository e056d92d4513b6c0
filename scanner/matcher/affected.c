/* affected: AffectedManifests with one indexer-DB query per matcher. */
#include "scanner/matcher/affected.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "scanner/matcher/match.h"
#include "scanner/matcher/report.h"
#include "scanner/matcher/vulnjson.h"

#define S(x) ((x) ? (x) : "")
#define ARRAY_MAX ((size_t)512 << 20)

struct aff {
	char *digest;
	const struct vuln *v;
};

struct affs {
	struct aff *v;
	size_t n, cap;
};

static int affs_push(struct affs *a, const char *digest, const struct vuln *v)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct aff *p = realloc(a->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n].digest = strdup(digest);
	if (!a->v[a->n].digest)
		return -ENOMEM;
	a->v[a->n++].v = v;
	return 0;
}

static int aff_cmp(const void *x, const void *y)
{
	const struct aff *a = x, *b = y;
	int c = strcmp(a->digest, b->digest);
	if (c)
		return c;
	c = matcher_vuln_ptr_cmp(&a->v, &b->v);
	if (c)
		return c;
	return ((uintptr_t)a->v > (uintptr_t)b->v) - ((uintptr_t)a->v < (uintptr_t)b->v);
}

/* SQL expression of the indexer column for a constraint. */
static const char *indexer_col(enum match_field f)
{
	switch (f) {
	case MATCH_PACKAGE_MODULE:
		return "p.module";
	case MATCH_DIST_DID:
		return "COALESCE(d.did,'')";
	case MATCH_DIST_NAME:
		return "COALESCE(d.name,'')";
	case MATCH_DIST_VERSION:
		return "COALESCE(d.version,'')";
	case MATCH_DIST_VERSION_ID:
		return "COALESCE(d.version_id,'')";
	case MATCH_DIST_VERSION_CODE_NAME:
		return "COALESCE(d.version_code_name,'')";
	case MATCH_DIST_PRETTY_NAME:
		return "COALESCE(d.pretty_name,'')";
	case MATCH_DIST_CPE:
		return "COALESCE(d.cpe,'')";
	case MATCH_DIST_ARCH:
		return "COALESCE(d.arch,'')";
	case MATCH_REPO_NAME:
		return "COALESCE(r.name,'')";
	case MATCH_REPO_KEY:
		return "COALESCE(r.key,'')";
	}
	return "''";
}

static int applicable(const struct matcher *m, const struct vuln *v)
{
	if (!*S(v->pkg.name))
		return 0;
	for (size_t k = 0; k < m->n_constraints; k++)
		if (m->constraints[k] != MATCH_PACKAGE_MODULE && !*match_field_vuln(v, m->constraints[k]))
			return 0;
	if (m->filter_on_constraints) {
		struct match_record r;
		match_record_from_vuln(&r, v);
		return m->filter(&r);
	}
	return 1;
}

static int run_matcher(PGconn *c, const struct matcher *m, const struct vuln *vulns, size_t n, struct affs *out,
                       struct diag *d)
{
	struct buf arrs[2 + MATCH_MAX_CONSTRAINTS], sql = BUF_INIT;
	const char *params[2 + MATCH_MAX_CONSTRAINTS];
	size_t np = 2 + m->n_constraints, cnt = 0;
	PGresult *res = NULL;
	int rc = 0;
	for (size_t i = 0; i < np; i++) {
		buf_init(&arrs[i], ARRAY_MAX);
		if (buf_putc(&arrs[i], '{') < 0)
			goto oom;
	}
	buf_init(&sql, 0);
	for (size_t i = 0; i < n; i++) {
		char idx[24];
		if (!applicable(m, &vulns[i]))
			continue;
		snprintf(idx, sizeof(idx), "%zu", i);
		if (matcher_sql_array_add(&arrs[0], idx) < 0 || matcher_sql_array_add(&arrs[1], vulns[i].pkg.name) < 0)
			goto oom;
		for (size_t k = 0; k < m->n_constraints; k++)
			if (matcher_sql_array_add(&arrs[2 + k], match_field_vuln(&vulns[i], m->constraints[k])) < 0)
				goto oom;
		cnt++;
	}
	if (!cnt)
		goto out;
	for (size_t i = 0; i < np; i++) {
		if (buf_putc(&arrs[i], '}') < 0)
			goto oom;
		params[i] = arrs[i].data;
	}
	if (buf_puts(&sql, "SELECT q.i, m.hash, p.id, p.name, p.version, p.kind, p.module, p.arch,"
	                   " COALESCE(p.norm_kind,''), COALESCE(d.id::text,''), COALESCE(d.did,''),"
	                   " COALESCE(d.name,''), COALESCE(d.version,''), COALESCE(d.version_code_name,''),"
	                   " COALESCE(d.version_id,''), COALESCE(d.arch,''), COALESCE(d.cpe,''),"
	                   " COALESCE(d.pretty_name,''), COALESCE(r.id::text,''), COALESCE(r.name,''),"
	                   " COALESCE(r.key,''), COALESCE(r.uri,''), COALESCE(r.cpe,'')"
	                   " FROM unnest($1::int8[], $2::text[]") < 0)
		goto oom;
	for (size_t k = 0; k < m->n_constraints; k++)
		if (buf_printf(&sql, ", $%zu::text[]", k + 3) < 0)
			goto oom;
	if (buf_puts(&sql, ") AS q(i, pname") < 0)
		goto oom;
	for (size_t k = 0; k < m->n_constraints; k++)
		if (buf_printf(&sql, ", c%zu", k) < 0)
			goto oom;
	if (buf_puts(&sql, ") JOIN package p ON p.name = q.pname JOIN manifest_index mi ON mi.package_id = p.id"
	                   " JOIN manifest m ON m.id = mi.manifest_id LEFT JOIN dist d ON d.id = mi.dist_id"
	                   " LEFT JOIN repo r ON r.id = mi.repo_id WHERE true") < 0)
		goto oom;
	for (size_t k = 0; k < m->n_constraints; k++)
		if (buf_printf(&sql, " AND %s = q.c%zu", indexer_col(m->constraints[k]), k) < 0)
			goto oom;
	rc = matcher_sql_exec(c, sql.data, (int)np, params, &res, d);
	if (rc < 0) {
		diag_prefix(d, "affected manifests (%s)", m->name);
		goto out;
	}
	for (int row = 0; row < PQntuples(res); row++) {
		struct match_record r;
		char nk[32] = "";
		int col = 0;
		size_t vi = (size_t)strtoull(PQgetvalue(res, row, col++), NULL, 10);
		const char *digest = PQgetvalue(res, row, col++);
		if (vi >= n)
			continue;
		match_record_init(&r);
		r.pkg_id = PQgetvalue(res, row, col++);
		r.name = PQgetvalue(res, row, col++);
		r.version = PQgetvalue(res, row, col++);
		r.kind = PQgetvalue(res, row, col++);
		r.module = PQgetvalue(res, row, col++);
		r.arch = PQgetvalue(res, row, col++);
		snprintf(nk, sizeof(nk), "%s", PQgetvalue(res, row, col++));
		r.norm_kind = nk;
		r.dist_id = PQgetvalue(res, row, col++);
		r.has_dist = *r.dist_id != '\0';
		r.did = PQgetvalue(res, row, col++);
		r.dist_name = PQgetvalue(res, row, col++);
		r.dist_version = PQgetvalue(res, row, col++);
		r.dist_version_code_name = PQgetvalue(res, row, col++);
		r.dist_version_id = PQgetvalue(res, row, col++);
		r.dist_arch = PQgetvalue(res, row, col++);
		r.dist_cpe = PQgetvalue(res, row, col++);
		r.dist_pretty_name = PQgetvalue(res, row, col++);
		r.repo_id = PQgetvalue(res, row, col++);
		r.has_repo = *r.repo_id != '\0';
		r.repo_name = PQgetvalue(res, row, col++);
		r.repo_key = PQgetvalue(res, row, col++);
		r.repo_uri = PQgetvalue(res, row, col++);
		r.repo_cpe = PQgetvalue(res, row, col++);
		if (!m->filter(&r) || !m->vulnerable(&r, &vulns[vi]))
			continue;
		if (affs_push(out, digest, &vulns[vi]) < 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
out:
	PQclear(res);
	buf_release(&sql);
	for (size_t i = 0; i < np; i++)
		buf_release(&arrs[i]);
	return rc;
}

int matcher_affected_manifests(PGconn *indexer_db_conn, const struct vuln *vulns, size_t n, json_t **ret,
                               struct diag *d)
{
	struct affs a = {0};
	json_t *o = NULL, *vj = NULL, *vm = NULL, *list = NULL;
	int rc = 0;
	*ret = NULL;
	for (size_t i = 0; i < match_matchers_n && n; i++)
		if ((rc = run_matcher(indexer_db_conn, &match_matchers[i], vulns, n, &a, d)) < 0)
			goto out;
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), aff_cmp);
	o = json_object();
	vj = json_object();
	vm = json_object();
	if (!o || !vj || !vm)
		goto oom;
	for (size_t i = 0; i < a.n; i++) {
		char id[24];
		const struct aff *x = &a.v[i];
		int new_digest = i == 0 || strcmp(x->digest, a.v[i - 1].digest) != 0;
		if (!new_digest && x->v == a.v[i - 1].v)
			continue; /* several packages / matchers of one manifest */
		vulnjson_id(x->v->id, id);
		if (new_digest) {
			list = json_array();
			if (!list || json_object_set_new(vm, x->digest, list) < 0)
				goto oom;
		}
		if (!new_digest && x->v->id == a.v[i - 1].v->id && x->v->id != 0)
			continue; /* the same vuln sent twice */
		if (json_array_append_new(list, json_string(id)) < 0)
			goto oom;
		if (!json_object_get(vj, id)) {
			json_t *e = vulnjson_encode(x->v);
			if (!e || json_object_set_new(vj, id, e) < 0)
				goto oom;
		}
	}
	if (json_object_set_new(o, "vulnerabilities", vj) < 0) {
		vj = NULL;
		goto oom;
	}
	vj = NULL;
	if (json_object_set_new(o, "vulnerable_manifests", vm) < 0) {
		vm = NULL;
		goto oom;
	}
	vm = NULL;
	*ret = o;
	o = NULL;
	rc = 0;
	goto out;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
out:
	json_decref(o);
	json_decref(vj);
	json_decref(vm);
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i].digest);
	free(a.v);
	return rc;
}
