#include "scanner/indexer/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "scanner/db/db.h"

static int exec1(PGconn *c, const char *sql, int n, const char *const *v, PGresult **ret, struct diag *d)
{
	return db_exec_params(c, sql, n, v, ret, d);
}

static int64_t get_id(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int idx_store_register_scanners(PGconn *c, const struct scanner_desc *const *s, size_t n, int64_t *ids,
				struct diag *d)
{
	static const char ins[] = "INSERT INTO scanner (name, version, kind) VALUES ($1, $2, $3) "
				  "ON CONFLICT (name, kind, version) DO NOTHING";
	static const char sel[] = "SELECT id FROM scanner WHERE name = $1 AND version = $2 AND kind = $3";
	for (size_t i = 0; i < n; i++) {
		const char *v[] = {s[i]->name, s[i]->version, scanner_kind_name(s[i]->kind)};
		PGresult *r = NULL;
		int rc = exec1(c, ins, 3, v, NULL, d);
		if (rc == 0)
			rc = exec1(c, sel, 3, v, &r, d);
		if (rc < 0)
			return rc;
		ids[i] = PQntuples(r) ? get_id(r, 0, 0) : 0;
		PQclear(r);
		if (!ids[i])
			return diag_fail(d, -EIO, "scanner \"%s\" could not be registered", s[i]->name);
	}
	return 0;
}

int idx_store_manifest_scanned(PGconn *c, const char *hash, const int64_t *ids, size_t n, int *ret,
			       struct diag *d)
{
	struct buf b = BUF_INIT;
	PGresult *r = NULL;
	int rc;
	if (buf_put_pg_int_array(&b, ids, n) < 0) {
		buf_release(&b);
		return -ENOMEM;
	}
	const char *v[] = {hash, b.data};
	rc = exec1(c,
		   "SELECT count(DISTINCT sm.scanner_id) FROM scanned_manifest sm JOIN manifest m ON m.id = sm.manifest_id "
		   "WHERE m.hash = $1 AND sm.scanner_id = ANY($2::bigint[])",
		   2, v, &r, d);
	if (rc == 0)
		*ret = (size_t)get_id(r, 0, 0) == n;
	PQclear(r);
	buf_release(&b);
	return rc;
}

int idx_store_get_report(PGconn *c, const char *hash, json_t **ret, struct diag *d)
{
	PGresult *r = NULL;
	const char *v[] = {hash};
	json_t *j, *canon;
	json_error_t je;
	int rc = exec1(c,
		       "SELECT ir.scan_result::text FROM indexreport ir JOIN manifest m ON m.id = ir.manifest_id "
		       "WHERE m.hash = $1 AND ir.scan_result IS NOT NULL",
		       1, v, &r, d);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return diag_fail(d, -ENOENT, "index report not found");
	}
	j = json_loads(PQgetvalue(r, 0, 0), 0, &je);
	PQclear(r);
	if (!j)
		return diag_fail(d, -EIO, "stored index report for \"%s\" is not JSON: %s", hash, je.text);
	canon = idx_report_canonical(j);
	json_decref(j);
	if (!canon)
		return diag_fail(d, -EIO, "stored index report for \"%s\" is malformed", hash);
	*ret = canon;
	return 0;
}

static int ensure_manifest(PGconn *c, const char *hash, struct diag *d)
{
	const char *v[] = {hash};
	return exec1(c, "INSERT INTO manifest (hash) VALUES ($1) ON CONFLICT (hash) DO NOTHING", 1, v, NULL, d);
}

int idx_store_set_report(PGconn *c, const char *hash, const json_t *report, struct diag *d)
{
	char *text = json_dumps(report, JSON_COMPACT);
	const char *st = json_string_value(json_object_get(report, "state"));
	int rc;
	if (!text)
		return -ENOMEM;
	rc = ensure_manifest(c, hash, d);
	if (rc == 0) {
		const char *v[] = {hash, st ? st : "", text};
		rc = exec1(c,
			   "INSERT INTO indexreport (manifest_id, state, scan_result) "
			   "SELECT id, $2, $3::jsonb FROM manifest WHERE hash = $1 "
			   "ON CONFLICT (manifest_id) DO UPDATE SET state = excluded.state, scan_result = excluded.scan_result",
			   3, v, NULL, d);
	}
	free(text);
	return rc;
}

int idx_store_persist_manifest(PGconn *c, const struct idx_manifest *m, struct diag *d)
{
	int rc = ensure_manifest(c, m->hash, d);
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++) {
		char idx[24];
		const char *lv[] = {m->layers[i].hash};
		snprintf(idx, sizeof(idx), "%zu", i);
		const char *v[] = {m->hash, m->layers[i].hash, idx};
		rc = exec1(c, "INSERT INTO layer (hash) VALUES ($1) ON CONFLICT (hash) DO NOTHING", 1, lv, NULL, d);
		if (rc == 0)
			rc = exec1(c,
				   "INSERT INTO manifest_layer (manifest_id, layer_id, i) "
				   "SELECT m.id, l.id, $3::bigint FROM manifest m, layer l WHERE m.hash = $1 AND l.hash = $2 "
				   "ON CONFLICT DO NOTHING",
				   3, v, NULL, d);
	}
	return rc;
}

int idx_store_layer_scanned(PGconn *c, const char *layer, int64_t scanner_id, int *ret, struct diag *d)
{
	char sid[24];
	PGresult *r = NULL;
	snprintf(sid, sizeof(sid), "%" PRId64, scanner_id);
	const char *v[] = {layer, sid};
	int rc = exec1(c,
		       "SELECT 1 FROM scanned_layer sl JOIN layer l ON l.id = sl.layer_id "
		       "WHERE l.hash = $1 AND sl.scanner_id = $2::bigint",
		       2, v, &r, d);
	if (rc == 0)
		*ret = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

/* "kind:{a,b,...}" normalized version -> kind and a Postgres int array literal */
static void norm_split(const char *nv, char *kind, size_t kn, char *arr, size_t an)
{
	const char *colon = nv ? strchr(nv, ':') : NULL;
	kind[0] = arr[0] = '\0';
	if (!colon)
		return;
	snprintf(kind, kn, "%.*s", (int)(colon - nv), nv);
	snprintf(arr, an, "{%s}", colon + 1);
	for (char *p = arr; *p; p++)
		if (*p == '.')
			*p = ',';
}

/* ---- packages in bulk: a layer may hold hundreds of thousands (two statements in all) ---- */

enum { PA_NAME, PA_KIND, PA_VERSION, PA_NKIND, PA_NVER, PA_MODULE, PA_ARCH, PA_SNAME, PA_SKIND, PA_SVERSION,
       PA_SMODULE, PA_SARCH, PA_DB, PA_HINT, PA_FILE, PA_N };

static int store_packages(PGconn *c, const char *layer, const char *sid, const struct scan_result *res,
			  struct diag *d)
{
	struct buf a[PA_N];
	const char *v[PA_N];
	int r = 0;

	for (int k = 0; k < PA_N; k++) {
		buf_init(&a[k], 0);
		r |= buf_putc(&a[k], '{');
	}
	for (size_t i = 0; r == 0 && i < res->n_pkgs; i++) {
		const struct idx_package *p = &res->pkgs[i];
		char nkind[64], narr[256];
		int has_src = p->src_name && *p->src_name;
		if (!p->name || !*p->name)
			continue;
		norm_split(p->normalized_version, nkind, sizeof(nkind), narr, sizeof(narr));
		const char *f[PA_N] = {p->name, p->kind, p->version, nkind, narr, p->module, p->arch,
				       p->src_name, has_src ? "source" : "", p->src_version, p->src_module, p->src_arch,
				       p->package_db, p->repository_hint, p->filepath};
		for (int k = 0; r == 0 && k < PA_N; k++)
			r = buf_put_pg_array_elem(&a[k], f[k]);
	}
	for (int k = 0; r == 0 && k < PA_N; k++)
		r = buf_putc(&a[k], '}');
	if (r < 0)
		goto out;
	for (int k = 0; k < PA_N; k++)
		v[k] = a[k].data;
	/* the binary and the source packages (a missing source is the all-empty package, as claircore) */
	r = exec1(c,
		  "INSERT INTO package (name, kind, version, norm_kind, norm_version, module, arch) "
		  "SELECT DISTINCT n, k, v, NULLIF(nk, ''), NULLIF(nv, '')::integer[], m, a FROM ("
		  " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
		  " UNION ALL"
		  " SELECT n, k, v, '', '', m, a FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[])"
		  " AS s(n, k, v, m, a)"
		  ") AS t(n, k, v, nk, nv, m, a) ON CONFLICT (name, version, kind, module, arch) DO NOTHING",
		  12, v, NULL, d);
	if (r < 0)
		goto out;
	const char *w[] = {v[PA_NAME],	  v[PA_KIND],  v[PA_VERSION], v[PA_MODULE], v[PA_ARCH],
			   v[PA_SNAME],	  v[PA_SKIND], v[PA_SVERSION], v[PA_SMODULE], v[PA_SARCH],
			   v[PA_DB],	  v[PA_HINT],  v[PA_FILE],    layer,	    sid};
	r = exec1(c,
		  "INSERT INTO package_scanartifact (layer_id, package_id, source_id, scanner_id, package_db, "
		  "repository_hint, filepath) "
		  "SELECT l.id, p.id, s.id, $15::bigint, t.db, t.hint, t.fp FROM unnest($1::text[], $2::text[], $3::text[], "
		  "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
		  "$12::text[], $13::text[]) AS t(n, k, v, m, a, sn, sk, sv, sm, sa, db, hint, fp) "
		  "JOIN package p ON p.name = t.n AND p.kind = t.k AND p.version = t.v AND p.module = t.m AND p.arch = t.a "
		  "JOIN package s ON s.name = t.sn AND s.kind = t.sk AND s.version = t.sv AND s.module = t.sm "
		  "AND s.arch = t.sa CROSS JOIN layer l WHERE l.hash = $14 ON CONFLICT DO NOTHING",
		  15, w, NULL, d);
out:
	for (int k = 0; k < PA_N; k++)
		buf_release(&a[k]);
	return r;
}

int idx_store_layer_result(PGconn *c, const char *layer, int64_t scanner_id, const struct scan_result *res,
			   struct diag *d)
{
	char sid[24];
	int rc;
	snprintf(sid, sizeof(sid), "%" PRId64, scanner_id);
	const char *lv[] = {layer};
	rc = exec1(c, "INSERT INTO layer (hash) VALUES ($1) ON CONFLICT (hash) DO NOTHING", 1, lv, NULL, d);
	if (rc == 0 && res->n_pkgs)
		rc = store_packages(c, layer, sid, res, d);
	for (size_t i = 0; rc == 0 && i < res->n_dists; i++) {
		const struct idx_distribution *x = &res->dists[i];
		const char *v[] = {x->name, x->did, x->version, x->version_code_name, x->version_id, x->arch, x->cpe,
				   x->pretty_name, layer, sid};
		rc = exec1(c,
			   "INSERT INTO dist (name, did, version, version_code_name, version_id, arch, cpe, pretty_name) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
			   8, v, NULL, d);
		if (rc == 0)
			rc = exec1(c,
				   "INSERT INTO dist_scanartifact (dist_id, scanner_id, layer_id) "
				   "SELECT dd.id, $10::bigint, l.id FROM dist dd, layer l WHERE dd.name = $1 AND dd.did = $2 "
				   "AND dd.version = $3 AND dd.version_code_name = $4 AND dd.version_id = $5 AND dd.arch = $6 "
				   "AND dd.cpe = $7 AND dd.pretty_name = $8 AND l.hash = $9 ON CONFLICT DO NOTHING",
				   10, v, NULL, d);
	}
	for (size_t i = 0; rc == 0 && i < res->n_repos; i++) {
		const struct idx_repository *x = &res->repos[i];
		const char *v[] = {x->name, x->key, x->uri, x->cpe};
		const char *av[] = {x->name, x->key, x->uri, layer, sid};
		rc = exec1(c,
			   "INSERT INTO repo (name, key, uri, cpe) VALUES ($1, $2, $3, $4) "
			   "ON CONFLICT (name, key, uri) DO NOTHING",
			   4, v, NULL, d);
		if (rc == 0)
			rc = exec1(c,
				   "INSERT INTO repo_scanartifact (repo_id, scanner_id, layer_id) "
				   "SELECT r.id, $5::bigint, l.id FROM repo r, layer l WHERE r.name = $1 AND r.key = $2 "
				   "AND r.uri = $3 AND l.hash = $4 ON CONFLICT DO NOTHING",
				   5, av, NULL, d);
	}
	if (rc == 0) {
		const char *v[] = {layer, sid};
		rc = exec1(c,
			   "INSERT INTO scanned_layer (layer_id, scanner_id) SELECT id, $2::bigint FROM layer "
			   "WHERE hash = $1 ON CONFLICT DO NOTHING",
			   2, v, NULL, d);
	}
	return rc;
}

int idx_store_layer_whiteouts(PGconn *c, const char *layer, int64_t scanner_id, char *const *paths, size_t n,
			      struct diag *d)
{
	char sid[24];
	int rc;
	snprintf(sid, sizeof(sid), "%" PRId64, scanner_id);
	const char *lv[] = {layer};
	rc = exec1(c, "INSERT INTO layer (hash) VALUES ($1) ON CONFLICT (hash) DO NOTHING", 1, lv, NULL, d);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *v[] = {paths[i], layer, sid};
		rc = exec1(c, "INSERT INTO file (path, kind) VALUES ($1, 'whiteout') ON CONFLICT DO NOTHING", 1, v, NULL,
			   d);
		if (rc == 0)
			rc = exec1(c,
				   "INSERT INTO file_scanartifact (file_id, scanner_id, layer_id) SELECT f.id, $3::bigint, l.id "
				   "FROM file f, layer l WHERE f.path = $1 AND f.kind = 'whiteout' AND l.hash = $2 "
				   "ON CONFLICT DO NOTHING",
				   3, v, NULL, d);
	}
	if (rc == 0) {
		const char *v[] = {layer, sid};
		rc = exec1(c,
			   "INSERT INTO scanned_layer (layer_id, scanner_id) SELECT id, $2::bigint FROM layer "
			   "WHERE hash = $1 ON CONFLICT DO NOTHING",
			   2, v, NULL, d);
	}
	return rc;
}

static const char *val(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

/* norm_kind + norm_version ({a,b,...}) -> "kind:a.b...." */
static void norm_join(const char *kind, const char *arr, char *out, size_t n)
{
	size_t o;
	out[0] = '\0';
	if (!*kind || !*arr)
		return;
	o = (size_t)snprintf(out, n, "%s:", kind);
	for (const char *p = arr; *p && o + 1 < n; p++) {
		if (*p == '{' || *p == '}')
			continue;
		out[o++] = *p == ',' ? '.' : *p;
	}
	out[o < n ? o : n - 1] = '\0';
}

int idx_store_load_result(PGconn *c, const char *layer, int64_t scanner_id, struct scan_result *ret,
			  struct diag *d)
{
	char sid[24];
	PGresult *r = NULL;
	int rc;

	memset(ret, 0, sizeof(*ret));
	snprintf(sid, sizeof(sid), "%" PRId64, scanner_id);
	const char *v[] = {layer, sid};
	rc = exec1(c,
		   "SELECT p.id, p.name, p.kind, p.version, COALESCE(p.norm_kind, ''), COALESCE(p.norm_version::text, ''), "
		   "p.module, p.arch, s.id, COALESCE(s.name, ''), COALESCE(s.version, ''), COALESCE(s.module, ''), "
		   "COALESCE(s.arch, ''), a.package_db, a.repository_hint, a.filepath "
		   "FROM package_scanartifact a JOIN layer l ON l.id = a.layer_id JOIN package p ON p.id = a.package_id "
		   "LEFT JOIN package s ON s.id = a.source_id WHERE l.hash = $1 AND a.scanner_id = $2::bigint "
		   "ORDER BY p.name, p.version, a.id",
		   2, v, &r, d);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		char nv[256];
		norm_join(val(r, i, 4), val(r, i, 5), nv, sizeof(nv));
		struct idx_package p = {
			.id = get_id(r, i, 0),
			.name = (char *)val(r, i, 1),
			.kind = (char *)val(r, i, 2),
			.version = (char *)val(r, i, 3),
			.normalized_version = nv,
			.module = (char *)val(r, i, 6),
			.arch = (char *)val(r, i, 7),
			.src_id = get_id(r, i, 8),
			.src_name = (char *)val(r, i, 9),
			.src_version = (char *)val(r, i, 10),
			.src_module = (char *)val(r, i, 11),
			.src_arch = (char *)val(r, i, 12),
			.package_db = (char *)val(r, i, 13),
			.repository_hint = (char *)val(r, i, 14),
			.filepath = (char *)val(r, i, 15),
		};
		if (scan_result_add_package(ret, &p) < 0)
			rc = -ENOMEM;
	}
	PQclear(r);
	r = NULL;
	if (rc == 0)
		rc = exec1(c,
			   "SELECT dd.id, dd.did, dd.name, dd.version, dd.version_code_name, dd.version_id, dd.arch, dd.cpe, "
			   "dd.pretty_name FROM dist_scanartifact a JOIN layer l ON l.id = a.layer_id JOIN dist dd ON dd.id = "
			   "a.dist_id WHERE l.hash = $1 AND a.scanner_id = $2::bigint ORDER BY dd.id",
			   2, v, &r, d);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct idx_distribution x = {
			.id = get_id(r, i, 0),
			.did = (char *)val(r, i, 1),
			.name = (char *)val(r, i, 2),
			.version = (char *)val(r, i, 3),
			.version_code_name = (char *)val(r, i, 4),
			.version_id = (char *)val(r, i, 5),
			.arch = (char *)val(r, i, 6),
			.cpe = (char *)val(r, i, 7),
			.pretty_name = (char *)val(r, i, 8),
		};
		if (scan_result_add_distribution(ret, &x) < 0)
			rc = -ENOMEM;
	}
	PQclear(r);
	r = NULL;
	if (rc == 0)
		rc = exec1(c,
			   "SELECT rr.id, rr.name, rr.key, rr.uri, rr.cpe FROM repo_scanartifact a JOIN layer l ON l.id = "
			   "a.layer_id JOIN repo rr ON rr.id = a.repo_id WHERE l.hash = $1 AND a.scanner_id = $2::bigint "
			   "ORDER BY rr.id",
			   2, v, &r, d);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct idx_repository x = {
			.id = get_id(r, i, 0),
			.name = (char *)val(r, i, 1),
			.key = (char *)val(r, i, 2),
			.uri = (char *)val(r, i, 3),
			.cpe = (char *)val(r, i, 4),
		};
		if (scan_result_add_repository(ret, &x) < 0)
			rc = -ENOMEM;
	}
	PQclear(r);
	if (rc < 0)
		scan_result_release(ret);
	return rc;
}

int idx_store_load_whiteouts(PGconn *c, const char *layer, int64_t scanner_id, char ***ret, size_t *ret_n,
			     struct diag *d)
{
	char sid[24];
	PGresult *r = NULL;
	int rc;
	snprintf(sid, sizeof(sid), "%" PRId64, scanner_id);
	const char *v[] = {layer, sid};
	*ret = NULL;
	*ret_n = 0;
	rc = exec1(c,
		   "SELECT f.path FROM file_scanartifact a JOIN layer l ON l.id = a.layer_id JOIN file f ON f.id = a.file_id "
		   "WHERE l.hash = $1 AND a.scanner_id = $2::bigint AND f.kind = 'whiteout' ORDER BY f.path",
		   2, v, &r, d);
	if (rc == 0 && PQntuples(r) > 0) {
		char **p = calloc((size_t)PQntuples(r), sizeof(*p));
		if (!p)
			rc = -ENOMEM;
		for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
			p[i] = strdup(PQgetvalue(r, i, 0));
			if (!p[i])
				rc = -ENOMEM;
			else
				*ret_n = (size_t)i + 1;
		}
		*ret = p;
	}
	PQclear(r);
	return rc;
}

int idx_store_finish(PGconn *c, const char *hash, const json_t *report, const int64_t *ids, size_t n,
		     struct diag *d)
{
	const char *pk;
	json_t *envs, *arr;
	struct buf pids = BUF_INIT, dids = BUF_INIT, rids = BUF_INIT, sids = BUF_INIT;
	int rc;

	/* manifest_index rows for every (package or its source, distribution, repository) of the
	 * report's environments, in one statement (an image may hold hundreds of thousands) */
	rc = buf_putc(&pids, '{') | buf_putc(&dids, '{') | buf_putc(&rids, '{');
	envs = json_object_get(report, "environments");
	json_object_foreach(envs, pk, arr)
	{
		size_t i;
		json_t *e;
		json_t *pkg = json_object_get(json_object_get(report, "packages"), pk);
		const char *src = json_string_value(json_object_get(json_object_get(pkg, "source"), "id"));
		json_array_foreach(arr, i, e)
		{
			const char *dist = json_string_value(json_object_get(e, "distribution_id"));
			json_t *repos = json_object_get(e, "repository_ids");
			size_t nr = json_is_array(repos) ? json_array_size(repos) : 0;
			for (size_t k = 0; rc == 0 && k < (nr ? nr : 1); k++) {
				const char *repo = nr ? json_string_value(json_array_get(repos, k)) : NULL;
				for (int which = 0; rc == 0 && which < 2; which++) {
					const char *pid = which ? src : pk;
					if (!pid)
						continue;
					rc = buf_printf(&pids, "%s%s", pids.len > 1 ? "," : "", pid);
					if (rc == 0)
						rc = buf_printf(&dids, "%s%s", dids.len > 1 ? "," : "",
								dist && *dist ? dist : "NULL");
					if (rc == 0)
						rc = buf_printf(&rids, "%s%s", rids.len > 1 ? "," : "",
								repo && *repo ? repo : "NULL");
				}
			}
		}
	}
	rc |= buf_putc(&pids, '}') | buf_putc(&dids, '}') | buf_putc(&rids, '}');
	rc |= buf_put_pg_int_array(&sids, ids, n);
	if (rc < 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = db_exec(c, "BEGIN", d);
	if (rc == 0) {
		const char *v[] = {pids.data, dids.data, rids.data, hash};
		rc = exec1(c,
			   "INSERT INTO manifest_index (package_id, dist_id, repo_id, manifest_id) "
			   "SELECT DISTINCT t.p, t.d, t.r, m.id FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) "
			   "AS t(p, d, r) CROSS JOIN manifest m WHERE m.hash = $4 ON CONFLICT DO NOTHING",
			   4, v, NULL, d);
	}
	if (rc == 0) {
		const char *v[] = {hash, sids.data};
		rc = exec1(c,
			   "INSERT INTO scanned_manifest (manifest_id, scanner_id) SELECT m.id, s FROM manifest m, "
			   "unnest($2::bigint[]) AS s WHERE m.hash = $1 ON CONFLICT DO NOTHING",
			   2, v, NULL, d);
	}
	if (rc == 0)
		rc = idx_store_set_report(c, hash, report, d);
	if (rc == 0)
		rc = db_exec(c, "COMMIT", d);
	else
		db_exec(c, "ROLLBACK", NULL);
out:
	buf_release(&pids);
	buf_release(&dids);
	buf_release(&rids);
	buf_release(&sids);
	return rc;
}

int idx_store_delete(PGconn *c, const char *const *hashes, size_t n, json_t **ret_deleted, struct diag *d)
{
	json_t *out = json_array();
	int rc = 0;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		PGresult *r = NULL;
		const char *v[] = {hashes[i]};
		rc = exec1(c, "DELETE FROM manifest WHERE hash = $1 RETURNING hash", 1, v, &r, d);
		if (rc == 0 && PQntuples(r) > 0)
			json_array_append_new(out, json_string(PQgetvalue(r, 0, 0)));
		PQclear(r);
	}
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*ret_deleted = out;
	return 0;
}
