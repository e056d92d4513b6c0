/* debian distribution scanner (claircore debian/distributionscanner.go). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/util.h"

static int deb_want(const char *path, int is_dir)
{
	return !is_dir && strcmp(path, "etc/os-release") == 0;
}

static int deb_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	const struct layer_file *f = dist_file(files, "etc/os-release");
	if (!f || scutil_osrelease_valid((const char *)f->data, f->len) < 0)
		return 0;
	const char *t = (const char *)f->data;
	char *id = NULL, *code = NULL, *ver = NULL, *vid = NULL;
	int rc = 0;
	if (scutil_osrelease_get(t, f->len, "ID", &id) == -ENOMEM ||
	    scutil_osrelease_get(t, f->len, "VERSION_CODENAME", &code) == -ENOMEM ||
	    scutil_osrelease_get(t, f->len, "VERSION", &ver) == -ENOMEM ||
	    scutil_osrelease_get(t, f->len, "VERSION_ID", &vid) == -ENOMEM) {
		rc = -ENOMEM;
		goto out;
	}
	if (!id || strcmp(id, "debian") != 0)
		goto out;
	char name[128] = "";
	if (code) {
		snprintf(name, sizeof(name), "%s", code);
	} else if (ver) {
		/* `\(\w+\)$` then trim non-letters */
		size_t l = strlen(ver);
		if (l >= 3 && ver[l - 1] == ')') {
			size_t s = l - 1;
			while (s > 0 && (isalnum((unsigned char)ver[s - 1]) || ver[s - 1] == '_'))
				s--;
			if (s > 0 && s < l - 1 && ver[s - 1] == '(') {
				size_t a = s, b = l - 1;
				while (a < b && !isalpha((unsigned char)ver[a]))
					a++;
				while (b > a && !isalpha((unsigned char)ver[b - 1]))
					b--;
				snprintf(name, sizeof(name), "%.*s", (int)(b - a), ver + a);
			}
		}
	}
	if (!name[0] || !vid || !*vid)
		goto out;
	char *end;
	errno = 0;
	long n = strtol(vid, &end, 10);
	if (*end || errno || n > 2147483647L || n < -2147483647L - 1 || isspace((unsigned char)vid[0]))
		goto out;
	char v[192], vi[32], pretty[256];
	snprintf(vi, sizeof(vi), "%ld", n);
	snprintf(v, sizeof(v), "%ld (%s)", n, name);
	snprintf(pretty, sizeof(pretty), "Debian GNU/Linux %ld (%s)", n, name);
	rc = dist_add(out, "debian", "Debian GNU/Linux", v, name, vi, NULL, pretty);
out:
	free(id), free(code), free(ver), free(vid);
	return rc;
}

const struct scanner_desc scanner_dist_debian = {
	.name = "debian",
	.version = "3",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "dpkg",
	.want = deb_want,
	.scan = deb_scan,
};
