#include "scanner/indexer/types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void layer_files_release(struct layer_files *f)
{
	for (size_t i = 0; i < f->n_files; i++) {
		free(f->files[i].path);
		free(f->files[i].data);
	}
	free(f->files);
	for (size_t i = 0; i < f->n_whiteouts; i++)
		free(f->whiteouts[i]);
	free(f->whiteouts);
	free(f->digest);
	memset(f, 0, sizeof(*f));
}

const struct layer_file *layer_files_get(const struct layer_files *f, const char *path)
{
	for (size_t i = 0; i < f->n_files; i++)
		if (strcmp(f->files[i].path, path) == 0)
			return &f->files[i];
	return NULL;
}

const char *scanner_kind_name(enum scanner_kind k)
{
	switch (k) {
	case SCANNER_PACKAGE:
		return "package";
	case SCANNER_DISTRIBUTION:
		return "distribution";
	case SCANNER_REPOSITORY:
		return "repository";
	case SCANNER_FILE:
		return "file";
	}
	return "";
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

#define FREE_FIELDS(p, ...)                                                  \
	do {                                                                 \
		char **fs[] = {__VA_ARGS__};                                 \
		for (size_t i_ = 0; i_ < sizeof(fs) / sizeof(fs[0]); i_++) { \
			free(*fs[i_]);                                       \
			*fs[i_] = NULL;                                      \
		}                                                            \
	} while (0)

void idx_package_release(struct idx_package *p)
{
	FREE_FIELDS(p, &p->name, &p->version, &p->kind, &p->arch, &p->module, &p->cpe, &p->normalized_version,
		    &p->package_db, &p->filepath, &p->repository_hint, &p->src_name, &p->src_version,
		    &p->src_module, &p->src_arch);
}

void idx_distribution_release(struct idx_distribution *d)
{
	FREE_FIELDS(d, &d->did, &d->name, &d->version, &d->version_code_name, &d->version_id, &d->arch, &d->cpe,
		    &d->pretty_name);
}

void idx_repository_release(struct idx_repository *r)
{
	FREE_FIELDS(r, &r->name, &r->key, &r->uri, &r->cpe);
}

void scan_result_release(struct scan_result *r)
{
	for (size_t i = 0; i < r->n_pkgs; i++)
		idx_package_release(&r->pkgs[i]);
	for (size_t i = 0; i < r->n_dists; i++)
		idx_distribution_release(&r->dists[i]);
	for (size_t i = 0; i < r->n_repos; i++)
		idx_repository_release(&r->repos[i]);
	free(r->pkgs);
	free(r->dists);
	free(r->repos);
	memset(r, 0, sizeof(*r));
}

static int grow(void **arr, size_t n, size_t size)
{
	/* grow to a power of two when n reaches one */
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 4;
		void *p = realloc(*arr, cap * size);
		if (!p)
			return -ENOMEM;
		*arr = p;
	}
	return 0;
}

#define DUP_OR_FAIL(dst, src)                \
	do {                                 \
		(dst) = dup0(src);           \
		if (!(dst))                  \
			goto fail;           \
	} while (0)

int scan_result_add_package(struct scan_result *r, const struct idx_package *p)
{
	struct idx_package q = {.id = p->id, .src_id = p->src_id};
	if (grow((void **)&r->pkgs, r->n_pkgs, sizeof(*r->pkgs)) < 0)
		return -ENOMEM;
	DUP_OR_FAIL(q.name, p->name);
	DUP_OR_FAIL(q.version, p->version);
	DUP_OR_FAIL(q.kind, p->kind && *p->kind ? p->kind : "binary");
	DUP_OR_FAIL(q.arch, p->arch);
	DUP_OR_FAIL(q.module, p->module);
	DUP_OR_FAIL(q.cpe, p->cpe);
	DUP_OR_FAIL(q.normalized_version, p->normalized_version);
	DUP_OR_FAIL(q.package_db, p->package_db);
	DUP_OR_FAIL(q.filepath, p->filepath);
	DUP_OR_FAIL(q.repository_hint, p->repository_hint);
	DUP_OR_FAIL(q.src_name, p->src_name);
	DUP_OR_FAIL(q.src_version, p->src_version);
	DUP_OR_FAIL(q.src_module, p->src_module);
	DUP_OR_FAIL(q.src_arch, p->src_arch);
	r->pkgs[r->n_pkgs++] = q;
	return 0;
fail:
	idx_package_release(&q);
	return -ENOMEM;
}

int scan_result_add_distribution(struct scan_result *r, const struct idx_distribution *d)
{
	struct idx_distribution q = {.id = d->id};
	if (grow((void **)&r->dists, r->n_dists, sizeof(*r->dists)) < 0)
		return -ENOMEM;
	DUP_OR_FAIL(q.did, d->did);
	DUP_OR_FAIL(q.name, d->name);
	DUP_OR_FAIL(q.version, d->version);
	DUP_OR_FAIL(q.version_code_name, d->version_code_name);
	DUP_OR_FAIL(q.version_id, d->version_id);
	DUP_OR_FAIL(q.arch, d->arch);
	DUP_OR_FAIL(q.cpe, d->cpe);
	DUP_OR_FAIL(q.pretty_name, d->pretty_name);
	r->dists[r->n_dists++] = q;
	return 0;
fail:
	idx_distribution_release(&q);
	return -ENOMEM;
}

int scan_result_add_repository(struct scan_result *r, const struct idx_repository *repo)
{
	struct idx_repository q = {.id = repo->id};
	if (grow((void **)&r->repos, r->n_repos, sizeof(*r->repos)) < 0)
		return -ENOMEM;
	DUP_OR_FAIL(q.name, repo->name);
	DUP_OR_FAIL(q.key, repo->key);
	DUP_OR_FAIL(q.uri, repo->uri);
	DUP_OR_FAIL(q.cpe, repo->cpe);
	r->repos[r->n_repos++] = q;
	return 0;
fail:
	idx_repository_release(&q);
	return -ENOMEM;
}
