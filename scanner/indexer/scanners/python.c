/* python: installed distributions' metadata (claircore python/packagescanner.go). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"
#include "scanner/matcher/version/version.h"

#define PYPI "https://pypi.org/simple"

static int py_want(const char *path, int is_dir)
{
	if (is_dir)
		return 0;
	return scutil_has_suffix(path, ".dist-info/METADATA") || scutil_has_suffix(path, ".dist-info/INSTALLER") ||
	       scutil_has_suffix(path, ".egg-info") || scutil_has_suffix(path, ".egg-info/PKG-INFO") ||
	       scutil_has_suffix(path, ".egg/EGG-INFO/PKG-INFO");
}

/* path.Match of one component against "lib*" / "python[23]" (+ ".*" when dotted) */
static int skip_dir(const char *p, int rpm, int dpkg)
{
	if (!rpm && !dpkg)
		return 0;
	if (strncmp(p, "usr/lib", 7) != 0)
		return 0;
	const char *s = strchr(p + 7, '/');
	if (!s || strncmp(s + 1, "python", 6) != 0)
		return 0;
	const char *c = s + 7;
	if (*c != '2' && *c != '3')
		return 0;
	c++;
	if (rpm)
		return *c == '.' && strchr(c, '/') != NULL; /* python3.<anything>/ */
	return *c == '/';
}

static int has_reg(const struct layer_files *files, const char *path)
{
	const struct layer_file *f = layer_files_get(files, path);
	return f && f->type == LAYER_FILE_REG;
}

static int py_one(const struct layer_files *files, const struct layer_file *f, struct scan_result *out)
{
	const char *p = f->path;
	int rc = 0;
	char *name = NULL, *ver = NULL, *pkgdb = NULL;
	if (scutil_has_suffix(p, ".dist-info/METADATA")) {
		size_t dl = (size_t)(scutil_base(p) - p);
		char inst_path[4096];
		if (dl + 10 < sizeof(inst_path)) {
			memcpy(inst_path, p, dl);
			memcpy(inst_path + dl, "INSTALLER", 10);
			const struct layer_file *inst = layer_files_get(files, inst_path);
			if (inst && inst->type == LAYER_FILE_REG) {
				const char *s = (const char *)inst->data, *e = s + inst->len;
				while (s < e && isspace((unsigned char)*s))
					s++;
				while (e > s && isspace((unsigned char)e[-1]))
					e--;
				size_t n = (size_t)(e - s);
				if ((n == 3 && memcmp(s, "rpm", 3) == 0) || (n == 4 && memcmp(s, "dpkg", 4) == 0) ||
				    (n == 3 && memcmp(s, "apk", 3) == 0))
					return 0;
			}
		}
	}
	/* the first MIME header block; a leading blank line means no headers */
	if (f->len == 0 || f->data[0] == '\n' || (f->data[0] == '\r' && f->len > 1 && f->data[1] == '\n'))
		return 0;
	size_t pos = 0;
	struct scutil_stanza st;
	if (!scutil_stanza_next((const char *)f->data, f->len, &pos, &st))
		return 0;
	if (scutil_stanza_get(&st, "Name", &name) < 0 || scutil_stanza_get(&st, "Version", &ver) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	struct pep440 v;
	if (!ver || version_pep440_parse(ver, &v) < 0)
		goto out;
	char canon[PEP440_MAX_LEN * 2 + 16], norm[256] = "";
	int32_t vec[10];
	if (version_pep440_format(&v, canon, sizeof(canon)) < 0)
		goto out;
	if (version_pep440_normalized(&v, vec) == 0)
		version_normalized_format("pep440", vec, norm, sizeof(norm));
	/* PEP 503: "Jinja2" -> "jinja2", "ruamel.yaml" -> "ruamel-yaml" (feeds are normalized alike) */
	version_pep503_name(name);
	/* package db: the .egg-info file's dir, else two levels up */
	size_t dl = (size_t)(scutil_base(p) - p);
	if (!scutil_has_suffix(p, ".egg-info")) {
		dl = dl ? dl - 1 : 0;
		while (dl && p[dl - 1] != '/')
			dl--;
	}
	if (dl)
		dl--;
	pkgdb = malloc(dl + 16);
	if (!pkgdb) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(pkgdb, "python:", 7);
	if (dl)
		memcpy(pkgdb + 7, p, dl);
	else
		pkgdb[7 + dl++] = '.'; /* filepath.Join of nothing is "." */
	pkgdb[7 + dl] = 0;
	struct idx_package pk = {
		.name = name ? name : "",
		.version = canon,
		.kind = "binary",
		.normalized_version = norm,
		.package_db = pkgdb,
		.filepath = (char *)p,
		.repository_hint = PYPI,
	};
	rc = scan_result_add_package(out, &pk);
out:
	free(name);
	free(ver);
	free(pkgdb);
	return rc;
}

static int py_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	int rpm = has_reg(files, "var/lib/rpm/Packages") || has_reg(files, "var/lib/rpm/rpmdb.sqlite") ||
		  has_reg(files, "var/lib/rpm/Packages.db");
	int dpkg = !rpm && has_reg(files, "var/lib/dpkg/status");
	size_t found = 0;
	for (size_t i = 0; i < files->n_files; i++) {
		const struct layer_file *f = &files->files[i];
		const char *p = f->path;
		if (f->type != LAYER_FILE_REG || strncmp(scutil_base(p), ".wh.", 4) == 0)
			continue;
		if (!(scutil_has_suffix(p, ".dist-info/METADATA") || scutil_has_suffix(p, ".egg-info") ||
		      scutil_has_suffix(p, ".egg-info/PKG-INFO") || scutil_has_suffix(p, ".egg/EGG-INFO/PKG-INFO")))
			continue;
		if (skip_dir(p, rpm, dpkg))
			continue;
		size_t before = out->n_pkgs;
		int rc = py_one(files, f, out);
		if (rc < 0)
			return rc;
		found += out->n_pkgs - before;
	}
	if (found) {
		struct idx_repository repo = {.name = "pypi", .uri = PYPI};
		return scan_result_add_repository(out, &repo);
	}
	return 0;
}

const struct scanner_desc scanner_python = {
	.name = "python",
	.version = "5",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "python",
	.want = py_want,
	.scan = py_scan,
};

int scanners_fuzz_python(const uint8_t *data, size_t n)
{
	int rc = scanners_fuzz_one(&scanner_python, "usr/lib/python3.11/site-packages/x-1.0.dist-info/METADATA", data,
				   n);
	if (rc < 0)
		return rc;
	return scanners_fuzz_one(&scanner_python, "usr/lib/python3.11/site-packages/x-1.0.egg-info", data, n);
}
