/* rhel-repository-scanner: content manifests' content sets -> Red Hat CPE repositories
 * (claircore rhel/repositoryscanner.go). The repository-to-cpe mapping is a local file set
 * with scanners_repo_rhel_set_mapping(); without it each repoid gives one repository with
 * uri "repoid=<id>" and empty name/cpe. dnf history repoids are not read. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

#define RHEL_REPO_KEY "rhel-cpe-repository"
#define MAX_SETS 4096

static pthread_mutex_t map_mu = PTHREAD_MUTEX_INITIALIZER;
static char *map_path;
static json_t *map_json; /* the "data" object, loaded lazily */
static int map_loaded;

int scanners_repo_rhel_set_mapping(const char *path)
{
	char *p = NULL;
	if (path && !(p = strdup(path)))
		return -ENOMEM;
	pthread_mutex_lock(&map_mu);
	free(map_path);
	map_path = p;
	json_decref(map_json);
	map_json = NULL;
	map_loaded = 0;
	pthread_mutex_unlock(&map_mu);
	return 0;
}

/* borrowed reference to the mapping's "data" object or NULL; caller holds map_mu */
static json_t *mapping_locked(void)
{
	if (!map_loaded && map_path) {
		map_loaded = 1;
		json_error_t err;
		json_t *root = json_load_file(map_path, 0, &err);
		json_t *data = root ? json_object_get(root, "data") : NULL;
		if (json_is_object(data)) {
			map_json = json_incref(data);
		} else {
			log_warn("indexer", "rhel-repository-scanner: unusable repository-to-cpe mapping", "{s:s}",
				 "path", map_path);
		}
		json_decref(root);
	}
	return map_json;
}

static int manifest_path(const char *p)
{
	static const char *const dirs[] = {"root/buildinfo/content_manifests/",
					   "usr/share/buildinfo/content_manifests/", "usr/share/buildinfo/"};
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(dirs[i]);
		if (strncmp(p, dirs[i], l) == 0 && !strchr(p + l, '/') && scutil_has_suffix(p + l, ".json"))
			return (int)i + 1;
	}
	return 0;
}

static int repo_want(const char *path, int is_dir)
{
	return !is_dir && manifest_path(path);
}

static int repo_cmp(const void *a, const void *b)
{
	const struct idx_repository *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (!c)
		c = strcmp(x->uri, y->uri);
	if (!c)
		c = strcmp(x->cpe, y->cpe);
	return c;
}

static int add_repo(struct scan_result *out, const char *repoid, const char *cpe)
{
	char uri[600];
	char *fs = NULL;
	if (strlen(repoid) > 512)
		return 0;
	snprintf(uri, sizeof(uri), "repoid=%s", repoid);
	if (cpe) {
		int rc = scutil_cpe_to_fs(cpe, &fs);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			return 0; /* an unparsable CPE is skipped */
	}
	struct idx_repository r = {.name = fs, .key = RHEL_REPO_KEY, .uri = uri, .cpe = fs};
	int rc = scan_result_add_repository(out, &r);
	free(fs);
	return rc;
}

static int repo_from_manifest(const char *data, size_t len, struct scan_result *out, int *valid)
{
	json_error_t err;
	*valid = 0;
	json_t *root = json_loadb(data, len, 0, &err);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return 0;
	}
	*valid = 1;
	json_t *sets = json_object_get(root, "content_sets");
	size_t first = out->n_repos, i;
	json_t *v;
	int rc = 0;
	if (!json_is_array(sets))
		goto done;
	pthread_mutex_lock(&map_mu);
	json_t *map = mapping_locked();
	json_array_foreach(sets, i, v)
	{
		if (i >= MAX_SETS)
			break;
		const char *id = json_string_value(v);
		if (!id || !*id)
			continue;
		json_t *cpes = map ? json_object_get(json_object_get(map, id), "cpes") : NULL;
		if (!map) {
			rc = add_repo(out, id, NULL);
		} else if (json_is_array(cpes)) {
			size_t k;
			json_t *c;
			json_array_foreach(cpes, k, c)
			{
				if (json_string_value(c) && (rc = add_repo(out, id, json_string_value(c))) < 0)
					break;
			}
		}
		if (rc < 0)
			break;
	}
	pthread_mutex_unlock(&map_mu);
	if (rc < 0)
		goto done;
	/* sorted, de-duplicated */
	if (out->n_repos > first)
		qsort(out->repos + first, out->n_repos - first, sizeof(*out->repos), repo_cmp);
	size_t w = first;
	for (size_t r = first; r < out->n_repos; r++) {
		if (w > first && repo_cmp(&out->repos[w - 1], &out->repos[r]) == 0) {
			idx_repository_release(&out->repos[r]);
			continue;
		}
		out->repos[w++] = out->repos[r];
	}
	out->n_repos = w;
done:
	json_decref(root);
	return rc;
}

static int repo_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	/* first match in claircore's order of globs; within one glob, path order */
	for (int g = 1; g <= 3; g++) {
		const struct layer_file *best = NULL;
		for (size_t i = 0; i < files->n_files; i++) {
			const struct layer_file *f = &files->files[i];
			if (f->type == LAYER_FILE_REG && manifest_path(f->path) == g &&
			    (!best || strcmp(f->path, best->path) < 0))
				best = f;
		}
		if (!best)
			continue;
		int valid;
		int rc = repo_from_manifest((const char *)best->data, best->len, out, &valid);
		if (rc < 0 || valid)
			return rc;
		return 0; /* invalid JSON: treated as absent */
	}
	return 0;
}

const struct scanner_desc scanner_repo_rhel = {
	.name = "rhel-repository-scanner",
	.version = "3",
	.kind = SCANNER_REPOSITORY,
	.ecosystem = "rhel",
	.want = repo_want,
	.scan = repo_scan,
};

int scanners_fuzz_repo_rhel(const uint8_t *data, size_t n)
{
	return scanners_fuzz_one(&scanner_repo_rhel, "root/buildinfo/content_manifests/x.json", data, n);
}
