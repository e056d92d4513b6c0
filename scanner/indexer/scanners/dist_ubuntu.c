/* ubuntu distribution scanner (claircore ubuntu/distributionscanner.go). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/util.h"

static int ubu_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "etc/lsb-release") == 0);
}

static int ubu_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	const char *idk = "DISTRIB_ID", *verk = "DISTRIB_RELEASE", *namek = "DISTRIB_CODENAME";
	const struct layer_file *f = dist_file(files, "etc/lsb-release");
	if (!f) {
		f = dist_file(files, "etc/os-release");
		idk = "ID", verk = "VERSION_ID", namek = "VERSION_CODENAME";
	}
	if (!f)
		return 0;
	char ver[128] = "", name[128] = "";
	int has_id = 0;
	const char *t = (const char *)f->data;
	size_t i = 0, len = strnlen(t, f->len);
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - t) + 1 : len;
		const char *ls = t + i, *eq = memchr(ls, '=', e - i);
		size_t ll = e - i;
		i = e;
		if (!eq)
			continue;
		size_t kl = (size_t)(eq - ls);
		const char *vs = eq + 1, *ve = ls + ll;
		while (vs < ve && (*vs == '"' || *vs == '\r' || *vs == '\n'))
			vs++;
		while (ve > vs && (ve[-1] == '"' || ve[-1] == '\r' || ve[-1] == '\n'))
			ve--;
		int vl = (int)(ve - vs);
		if (kl == strlen(idk) && memcmp(ls, idk, kl) == 0) {
			if (vl != 6 || strncasecmp(vs, "ubuntu", 6) != 0)
				return 0;
			has_id = 1;
		} else if (kl == strlen(namek) && memcmp(ls, namek, kl) == 0) {
			snprintf(name, sizeof(name), "%.*s", vl, vs);
		} else if (kl == strlen(verk) && memcmp(ls, verk, kl) == 0) {
			snprintf(ver, sizeof(ver), "%.*s", vl, vs);
		}
	}
	if (!has_id || !name[0] || !ver[0])
		return 0;
	char title[128], v[300], pretty[160];
	snprintf(title, sizeof(title), "%s", name);
	/* strings.Title: upper-case the first letter of each word */
	for (size_t k = 0; title[k]; k++)
		if (k == 0 || !isalnum((unsigned char)title[k - 1]))
			title[k] = (char)toupper((unsigned char)title[k]);
	snprintf(v, sizeof(v), "%s (%s)", ver, title);
	snprintf(pretty, sizeof(pretty), "Ubuntu %s", ver);
	return dist_add(out, "ubuntu", "Ubuntu", v, name, ver, NULL, pretty);
}

const struct scanner_desc scanner_dist_ubuntu = {
	.name = "ubuntu",
	.version = "3",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "dpkg",
	.want = ubu_want,
	.scan = ubu_scan,
};
