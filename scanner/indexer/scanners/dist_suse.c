/* suse distribution scanner (claircore suse/distributionscanner.go). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/util.h"

static int suse_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "etc/SuSE-release") == 0);
}

static int suse_one(const struct layer_file *f, struct scan_result *out, int *done)
{
	const char *t = (const char *)f->data;
	char *cpe = NULL, *fs = NULL;
	int rc = scutil_osrelease_get(t, f->len, "CPE_NAME", &cpe);
	if (rc == -ENOMEM)
		return rc;
	rc = 0;
	if (!cpe)
		return 0;
	if (scutil_cpe_to_fs(cpe, &fs) == -ENOMEM) {
		rc = -ENOMEM;
		goto out;
	}
	if (!fs)
		goto out;
	char vendor[64], product[64], ver[64], out_v[64], pretty[128];
	if (scutil_cpe_fs_attr(fs, 1, vendor, sizeof(vendor)) < 0 ||
	    scutil_cpe_fs_attr(fs, 2, product, sizeof(product)) < 0 || scutil_cpe_fs_attr(fs, 3, ver, sizeof(ver)) < 0)
		goto out;
	if (strcmp(vendor, "opensuse") == 0 && strcmp(product, "leap") == 0) {
		snprintf(pretty, sizeof(pretty), "openSUSE Leap %s", ver);
		rc = dist_add(out, "opensuse-leap", "openSUSE Leap", ver, NULL, ver, NULL, pretty);
		*done = 1;
	} else if (strcmp(vendor, "suse") == 0 && strcmp(product, "sles") == 0) {
		/* Masterminds semver major: leading digits (optionally after 'v') */
		const char *p = ver;
		if (*p == 'v' || *p == 'V')
			p++;
		size_t l = strspn(p, "0123456789");
		if (l == 0 || l > 18 || (p[l] && p[l] != '.' && p[l] != '-' && p[l] != '+'))
			goto out;
		unsigned long long major = strtoull(p, NULL, 10);
		snprintf(out_v, sizeof(out_v), "%llu", major);
		snprintf(pretty, sizeof(pretty), "SUSE Linux Enterprise Server %s", out_v);
		rc = dist_add(out, "sles", "SLES", out_v, NULL, out_v, NULL, pretty);
		*done = 1;
	}
out:
	free(cpe);
	free(fs);
	return rc;
}

static int suse_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	static const char *const paths[] = {"etc/os-release", "etc/SuSE-release"};
	for (size_t i = 0; i < 2; i++) {
		const struct layer_file *f = dist_file(files, paths[i]);
		if (!f || scutil_osrelease_valid((const char *)f->data, f->len) < 0)
			continue;
		int done = 0, rc = suse_one(f, out, &done);
		if (rc < 0 || done)
			return rc;
	}
	return 0;
}

const struct scanner_desc scanner_dist_suse = {
	.name = "suse",
	.version = "v0.0.1",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "rpm",
	.want = suse_want,
	.scan = suse_scan,
};
