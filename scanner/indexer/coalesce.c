#include "scanner/indexer/coalesce.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *id_str(int64_t id)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRId64, id);
	return json_string(b);
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v ? v : ""));
}

static void set_str_omit(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

json_t *idx_package_json(const struct idx_package *p)
{
	json_t *o = json_object(), *s;
	if (!o)
		return NULL;
	json_object_set_new(o, "id", id_str(p->id));
	set_str(o, "name", p->name);
	set_str(o, "version", p->version);
	set_str_omit(o, "kind", p->kind);
	if (p->src_id > 0) {
		s = json_object();
		json_object_set_new(s, "id", id_str(p->src_id));
		set_str(s, "name", p->src_name);
		set_str(s, "version", p->src_version);
		set_str_omit(s, "kind", p->src_name && *p->src_name ? "source" : "");
		set_str(s, "normalized_version", "");
		set_str_omit(s, "module", p->src_module);
		set_str_omit(s, "arch", p->src_arch);
		set_str(s, "cpe", "");
		json_object_set_new(o, "source", s);
	}
	set_str(o, "normalized_version", p->normalized_version);
	set_str_omit(o, "module", p->module);
	set_str_omit(o, "arch", p->arch);
	set_str(o, "cpe", p->cpe);
	return o;
}

json_t *idx_distribution_json(const struct idx_distribution *d)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", id_str(d->id));
	set_str(o, "did", d->did);
	set_str(o, "name", d->name);
	set_str(o, "version", d->version);
	set_str(o, "version_code_name", d->version_code_name);
	set_str(o, "version_id", d->version_id);
	set_str(o, "arch", d->arch);
	set_str(o, "cpe", d->cpe);
	set_str(o, "pretty_name", d->pretty_name);
	return o;
}

json_t *idx_repository_json(const struct idx_repository *r)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", id_str(r->id));
	set_str_omit(o, "name", r->name);
	set_str_omit(o, "key", r->key);
	set_str_omit(o, "uri", r->uri);
	set_str(o, "cpe", r->cpe);
	return o;
}

json_t *idx_report_new(const char *manifest_hash, const char *state, int success, const char *err)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	set_str(o, "manifest_hash", manifest_hash);
	set_str(o, "state", state);
	json_object_set_new(o, "packages", json_object());
	json_object_set_new(o, "distributions", json_object());
	json_object_set_new(o, "repository", json_object());
	json_object_set_new(o, "environments", json_object());
	json_object_set_new(o, "success", json_boolean(success));
	set_str(o, "err", err);
	return o;
}

/* ---- canonical re-ordering of stored reports ---- */

static json_t *reorder(const json_t *in, const char *const *keys)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	if (!o || !json_is_object(in))
		return o;
	for (size_t i = 0; keys[i]; i++)
		if ((v = json_object_get(in, keys[i])))
			json_object_set(o, keys[i], v);
	json_object_foreach((json_t *)in, k, v)
	{
		if (!json_object_get(o, k))
			json_object_set(o, k, v);
	}
	return o;
}

static const char *const pkg_keys[] = {"id", "name", "version", "kind", "source", "normalized_version",
				       "module", "arch", "cpe", NULL};
static const char *const dist_keys[] = {"id", "did", "name", "version", "version_code_name", "version_id",
					"arch", "cpe", "pretty_name", NULL};
static const char *const repo_keys[] = {"id", "name", "key", "uri", "cpe", NULL};
static const char *const env_keys[] = {"package_db", "introduced_in", "distribution_id", "repository_ids", NULL};
static const char *const report_keys[] = {"manifest_hash", "state", "packages", "distributions", "repository",
					  "environments", "success", "err", NULL};

static json_t *reorder_map(const json_t *in, const char *const *keys, int nested_source)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	if (!json_is_object(in))
		return o;
	json_object_foreach((json_t *)in, k, v)
	{
		json_t *e = reorder(v, keys);
		if (nested_source && json_object_get(e, "source")) {
			json_t *s = reorder(json_object_get(e, "source"), pkg_keys);
			json_object_set_new(e, "source", s);
		}
		json_object_set_new(o, k, e);
	}
	return o;
}

json_t *idx_report_canonical(const json_t *in)
{
	json_t *o, *envs, *v;
	const char *k;
	if (!json_is_object(in) || !json_is_string(json_object_get(in, "manifest_hash")))
		return NULL;
	o = reorder(in, report_keys);
	json_object_set_new(o, "packages", reorder_map(json_object_get(in, "packages"), pkg_keys, 1));
	json_object_set_new(o, "distributions", reorder_map(json_object_get(in, "distributions"), dist_keys, 0));
	json_object_set_new(o, "repository", reorder_map(json_object_get(in, "repository"), repo_keys, 0));
	envs = json_object();
	json_object_foreach(json_object_get(in, "environments"), k, v)
	{
		json_t *arr = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) json_array_append_new(arr, reorder(e, env_keys));
		json_object_set_new(envs, k, arr);
	}
	json_object_set_new(o, "environments", envs);
	return o;
}

/* ---- coalescing ---- */

struct env {
	const struct idx_package *pkg;
	size_t layer; /* introduced_in */
	int64_t dist_id;
	int64_t *repo_ids;
	size_t n_repo_ids;
};

struct envs {
	struct env *v;
	size_t n, cap;
};

static int envs_add(struct envs *e, const struct env *x)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct env *p = realloc(e->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		e->v = p;
		e->cap = cap;
	}
	e->v[e->n++] = *x;
	return 0;
}

static void envs_release(struct envs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].repo_ids);
	free(e->v);
}

static int is_linux(const char *eco)
{
	return !strcmp(eco, "dpkg") || !strcmp(eco, "alpine") || !strcmp(eco, "rpm") || !strcmp(eco, "rhel");
}

/* Iterate the results of ecosystem eco and kind k in layer l. */
#define FOR_SCANS(l, eco, k, s)                                                                     \
	for (size_t s##_i = 0; s##_i < (l)->n_scans; s##_i++)                                       \
		for (const struct coal_scan *s = &(l)->scans[s##_i]; s;                             \
		     s = NULL)                                                                      \
			if (!strcmp(s->scanner->ecosystem, (eco)) && s->scanner->kind == (k))

static const struct idx_distribution *layer_dist(const struct coal_layer *l, const char *eco)
{
	FOR_SCANS(l, eco, SCANNER_DISTRIBUTION, s)
	{
		if (s->res.n_dists)
			return &s->res.dists[0];
	}
	return NULL;
}

static int layer_has_pkgs(const struct coal_layer *l, const char *eco)
{
	FOR_SCANS(l, eco, SCANNER_PACKAGE, s)
	{
		if (s->res.n_pkgs)
			return 1;
	}
	return 0;
}

/* Repositories of layer l for ecosystem eco (repo scanners + package scanners' defaults). */
static int layer_repo_ids(const struct coal_layer *l, const char *eco, int64_t **ret, size_t *ret_n)
{
	size_t n = 0;
	int64_t *ids = NULL;
	for (size_t i = 0; i < l->n_scans; i++) {
		const struct coal_scan *s = &l->scans[i];
		if (strcmp(s->scanner->ecosystem, eco))
			continue;
		for (size_t j = 0; j < s->res.n_repos; j++) {
			int dup = 0;
			for (size_t k = 0; k < n; k++)
				dup |= ids[k] == s->res.repos[j].id;
			if (dup)
				continue;
			int64_t *p = realloc(ids, (n + 1) * sizeof(*p));
			if (!p) {
				free(ids);
				return -ENOMEM;
			}
			ids = p;
			ids[n++] = s->res.repos[j].id;
		}
	}
	*ret = ids;
	*ret_n = n;
	return 0;
}

static int coalesce_linux(const struct coal_layer *L, size_t n, const char *eco, struct envs *out)
{
	char **claimed = NULL;
	size_t n_claimed = 0;
	int rhel = !strcmp(eco, "rhel");
	int64_t **repos = NULL;
	size_t *n_repos = NULL;
	int r = -ENOMEM;

	if (rhel) {
		/* Red Hat repositories: forward fill, then backward fill */
		repos = calloc(n, sizeof(*repos));
		n_repos = calloc(n, sizeof(*n_repos));
		if (n && (!repos || !n_repos))
			goto out;
		for (size_t i = 0; i < n; i++)
			if (layer_repo_ids(&L[i], eco, &repos[i], &n_repos[i]) < 0)
				goto out;
		for (size_t i = 1; i < n; i++)
			if (!n_repos[i] && n_repos[i - 1]) {
				repos[i] = malloc(n_repos[i - 1] * sizeof(int64_t));
				if (!repos[i])
					goto out;
				memcpy(repos[i], repos[i - 1], n_repos[i - 1] * sizeof(int64_t));
				n_repos[i] = n_repos[i - 1];
			}
		for (size_t i = n; i-- > 1;)
			if (!n_repos[i - 1] && n_repos[i]) {
				repos[i - 1] = malloc(n_repos[i] * sizeof(int64_t));
				if (!repos[i - 1])
					goto out;
				memcpy(repos[i - 1], repos[i], n_repos[i] * sizeof(int64_t));
				n_repos[i - 1] = n_repos[i];
			}
	}

	for (size_t li = n; li-- > 0;) {
		const struct coal_layer *l = &L[li];
		size_t claimed_before = n_claimed;
		if (!layer_has_pkgs(l, eco))
			continue;
		FOR_SCANS(l, eco, SCANNER_PACKAGE, s)
		{
			for (size_t pi = 0; pi < s->res.n_pkgs; pi++) {
				const struct idx_package *p = &s->res.pkgs[pi];
				int taken = 0, known = 0;
				for (size_t c = 0; c < claimed_before; c++)
					taken |= !strcmp(claimed[c], p->package_db);
				if (taken)
					continue;
				for (size_t c = claimed_before; c < n_claimed; c++)
					known |= !strcmp(claimed[c], p->package_db);
				if (!known) {
					char **nc = realloc(claimed, (n_claimed + 1) * sizeof(*nc));
					if (!nc)
						goto out;
					claimed = nc;
					claimed[n_claimed++] = p->package_db;
				}
				/* introduced_in: first layer with the same name + db + version */
				size_t intro = li;
				for (size_t lj = 0; lj < li && intro == li; lj++) {
					FOR_SCANS(&L[lj], eco, SCANNER_PACKAGE, s2)
					{
						for (size_t k = 0; k < s2->res.n_pkgs && intro == li; k++) {
							const struct idx_package *q = &s2->res.pkgs[k];
							if (!strcmp(q->name, p->name) && !strcmp(q->package_db, p->package_db) &&
							    !strcmp(q->version, p->version))
								intro = lj;
						}
					}
				}
				const struct idx_distribution *dist = layer_dist(&L[intro], eco);
				for (size_t lj = intro; !dist && lj-- > 0;)
					dist = layer_dist(&L[lj], eco);
				for (size_t lj = intro + 1; !dist && lj < n; lj++)
					dist = layer_dist(&L[lj], eco);
				struct env e = {.pkg = p, .layer = intro, .dist_id = dist ? dist->id : 0};
				if (rhel && n_repos[intro]) {
					e.repo_ids = malloc(n_repos[intro] * sizeof(int64_t));
					if (!e.repo_ids)
						goto out;
					memcpy(e.repo_ids, repos[intro], n_repos[intro] * sizeof(int64_t));
					e.n_repo_ids = n_repos[intro];
				}
				if (envs_add(out, &e) < 0) {
					free(e.repo_ids);
					goto out;
				}
			}
		}
	}
	r = 0;
out:
	free(claimed);
	if (repos)
		for (size_t i = 0; i < n; i++)
			free(repos[i]);
	free(repos);
	free(n_repos);
	return r;
}

static int coalesce_language(const struct coal_layer *L, size_t n, const char *eco, struct envs *out)
{
	size_t start = out->n;
	for (size_t li = 0; li < n; li++) {
		int64_t *ids;
		size_t n_ids;
		if (layer_repo_ids(&L[li], eco, &ids, &n_ids) < 0)
			return -ENOMEM;
		if (!n_ids) {
			free(ids);
			continue;
		}
		FOR_SCANS(&L[li], eco, SCANNER_PACKAGE, s)
		{
			for (size_t pi = 0; pi < s->res.n_pkgs; pi++) {
				const struct idx_package *p = &s->res.pkgs[pi];
				struct env e = {.pkg = p, .layer = li};
				e.repo_ids = malloc(n_ids * sizeof(int64_t));
				if (!e.repo_ids) {
					free(ids);
					return -ENOMEM;
				}
				memcpy(e.repo_ids, ids, n_ids * sizeof(int64_t));
				e.n_repo_ids = n_ids;
				/* a later layer re-finding the package replaces its environment */
				size_t k;
				for (k = start; k < out->n; k++)
					if (out->v[k].pkg->id == p->id)
						break;
				if (k < out->n) {
					free(out->v[k].repo_ids);
					out->v[k] = e;
				} else if (envs_add(out, &e) < 0) {
					free(e.repo_ids);
					free(ids);
					return -ENOMEM;
				}
			}
		}
		free(ids);
	}
	return 0;
}

/* Does whiteout w (a normalized path) delete path? */
static int whiteout_deletes(const char *w, const char *path)
{
	const char *base = strrchr(w, '/');
	size_t dirlen = base ? (size_t)(base - w) : 0;
	const char *name = base ? base + 1 : w;

	if (strncmp(name, ".wh.", 4) != 0)
		return 0;
	if (dirlen && (strncmp(path, w, dirlen) != 0 || path[dirlen] != '/'))
		return 0;
	const char *rest = dirlen ? path + dirlen + 1 : path;
	if (!strcmp(name, ".wh..wh..opq"))
		return 1; /* everything under the directory */
	size_t nl = strlen(name + 4);
	return strncmp(rest, name + 4, nl) == 0 && (rest[nl] == '\0' || rest[nl] == '/');
}

int idx_coalesce(const char *manifest_hash, const struct coal_layer *L, size_t n, json_t **ret)
{
	struct envs envs = {0};
	const char *ecos[16];
	size_t n_ecos = 0;
	json_t *rep, *pkgs, *dists, *repos, *envj;
	int r = -ENOMEM;

	/* ecosystems present */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < L[i].n_scans; j++) {
			const char *e = L[i].scans[j].scanner->ecosystem;
			int seen = 0;
			for (size_t k = 0; k < n_ecos; k++)
				seen |= !strcmp(ecos[k], e);
			if (!seen && n_ecos < 16)
				ecos[n_ecos++] = e;
		}

	rep = idx_report_new(manifest_hash, "IndexFinished", 1, "");
	if (!rep)
		return -ENOMEM;
	pkgs = json_object_get(rep, "packages");
	dists = json_object_get(rep, "distributions");
	repos = json_object_get(rep, "repository");
	envj = json_object_get(rep, "environments");

	for (size_t k = 0; k < n_ecos; k++) {
		if (is_linux(ecos[k])) {
			r = coalesce_linux(L, n, ecos[k], &envs);
			/* every distribution found in any layer is reported */
			for (size_t i = 0; i < n; i++) {
				const struct idx_distribution *d = layer_dist(&L[i], ecos[k]);
				char id[24];
				if (!d)
					continue;
				snprintf(id, sizeof(id), "%" PRId64, d->id);
				json_object_set_new(dists, id, idx_distribution_json(d));
			}
		} else {
			r = coalesce_language(L, n, ecos[k], &envs);
		}
		if (r < 0)
			goto out;
	}
	/* whiteout resolver: language packages whose file a later layer deletes */
	for (size_t i = 0; i < envs.n; i++) {
		const struct idx_package *p = envs.v[i].pkg;
		size_t last = 0;
		int gone = 0;
		if (!p->filepath || !*p->filepath || envs.v[i].layer == SIZE_MAX)
			continue;
		for (size_t j = 0; j < envs.n; j++)
			if (envs.v[j].pkg->id == p->id && envs.v[j].layer != SIZE_MAX && envs.v[j].layer > last)
				last = envs.v[j].layer;
		for (size_t lj = last + 1; lj < n && !gone; lj++)
			for (size_t w = 0; w < L[lj].n_whiteouts && !gone; w++)
				gone = whiteout_deletes(L[lj].whiteouts[w], p->filepath);
		if (gone)
			for (size_t j = 0; j < envs.n; j++)
				if (envs.v[j].pkg->id == p->id)
					envs.v[j].layer = SIZE_MAX; /* dropped */
	}
	r = -ENOMEM;
	for (size_t i = 0; i < envs.n; i++) {
		const struct env *e = &envs.v[i];
		char id[24];
		json_t *arr, *ej, *ids;
		if (e->layer == SIZE_MAX)
			continue;
		snprintf(id, sizeof(id), "%" PRId64, e->pkg->id);
		if (!json_object_get(pkgs, id))
			json_object_set_new(pkgs, id, idx_package_json(e->pkg));
		arr = json_object_get(envj, id);
		if (!arr) {
			arr = json_array();
			json_object_set_new(envj, id, arr);
		}
		ej = json_object();
		if (!ej)
			goto out;
		set_str(ej, "package_db", e->pkg->package_db);
		set_str(ej, "introduced_in", L[e->layer].digest);
		if (e->dist_id > 0)
			json_object_set_new(ej, "distribution_id", id_str(e->dist_id));
		else
			set_str(ej, "distribution_id", "");
		if (e->n_repo_ids) {
			ids = json_array();
			for (size_t k = 0; k < e->n_repo_ids; k++)
				json_array_append_new(ids, id_str(e->repo_ids[k]));
			json_object_set_new(ej, "repository_ids", ids);
		} else {
			json_object_set_new(ej, "repository_ids", json_null());
		}
		json_array_append_new(arr, ej);
	}
	/* repositories referenced by any environment, plus every repository found */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < L[i].n_scans; j++)
			for (size_t k = 0; k < L[i].scans[j].res.n_repos; k++) {
				const struct idx_repository *rp = &L[i].scans[j].res.repos[k];
				char id[24];
				snprintf(id, sizeof(id), "%" PRId64, rp->id);
				json_object_set_new(repos, id, idx_repository_json(rp));
			}
	r = 0;
	*ret = rep;
	rep = NULL;
out:
	envs_release(&envs);
	json_decref(rep);
	return r;
}
