/* photon distribution scanner (claircore photon/distributionscanner.go). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"

static int ph_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "etc/photon-release") == 0);
}

/* `^.*"VMware Photon( OS)?"\sVERSION="N.0"`: on the first line, then one space char. */
static int ph_match(const char *t, const char *name, char ver)
{
	const char *nl = strchr(t, '\n');
	size_t first = nl ? (size_t)(nl - t) : strlen(t);
	size_t nlen = strlen(name);
	for (const char *p = strstr(t, name); p && (size_t)(p - t) + nlen <= first; p = strstr(p + 1, name)) {
		const char *q = p + nlen;
		if (!isspace((unsigned char)*q))
			continue;
		q++;
		if (strncmp(q, "VERSION=\"", 9) == 0 && q[9] == ver && q[10] && q[11] == '0' && q[12] == '"')
			return 1;
	}
	return 0;
}

static int ph_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	static const char *const paths[] = {"etc/os-release", "etc/photon-release"};
	for (size_t i = 0; i < 2; i++) {
		const struct layer_file *f = dist_file(files, paths[i]);
		if (!f)
			continue;
		const char *t = (const char *)f->data;
		for (char v = '1'; v <= '5'; v++) {
			if (!ph_match(t, v == '1' ? "\"VMware Photon\"" : "\"VMware Photon OS\"", v))
				continue;
			char ver[8];
			snprintf(ver, sizeof(ver), "%c.0", v);
			return dist_add(out, "photon", "VMware Photon OS", ver, NULL, ver, NULL, "VMware Photon OS/Linux");
		}
	}
	return 0;
}

const struct scanner_desc scanner_dist_photon = {
	.name = "photon",
	.version = "v0.0.1",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "rpm",
	.want = ph_want,
	.scan = ph_scan,
};
