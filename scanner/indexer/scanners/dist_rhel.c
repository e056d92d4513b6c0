/* rhel distribution scanner (claircore rhel/distributionscanner.go, HEAD: os-release only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/util.h"

static int rhel_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "usr/lib/os-release") == 0 ||
			   strcmp(path, "etc/redhat-release") == 0);
}

static int rhel_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	static const char *const paths[] = {"etc/os-release", "usr/lib/os-release"};
	for (size_t i = 0; i < 2; i++) {
		const struct layer_file *f = dist_file(files, paths[i]);
		if (!f)
			continue;
		const char *t = (const char *)f->data;
		char num[32];
		if (dist_regex(t,
			       "Red Hat Enterprise Linux (Server|Atomic Host)?[[:space:]]*(release)?[[:space:]]*([0-9]+)",
			       0, NULL, 0)) {
			char buf[64];
			const char *p = strstr(t, "Red Hat Enterprise Linux ");
			num[0] = 0;
			while (p) {
				if (dist_regex(p,
					       "^Red Hat Enterprise Linux (Server|Atomic Host)?[[:space:]]*(release)?"
					       "[[:space:]]*[0-9]+",
					       0, NULL, 0)) {
					const char *q = p + 25;
					while (*q && !(*q >= '0' && *q <= '9'))
						q++;
					size_t l = strspn(q, "0123456789");
					if (l >= sizeof(buf))
						l = sizeof(buf) - 1;
					memcpy(buf, q, l);
					buf[l] = 0;
					while (buf[0] == '0' && buf[1])
						memmove(buf, buf + 1, strlen(buf));
					snprintf(num, sizeof(num), "%s", buf);
					break;
				}
				p = strstr(p + 1, "Red Hat Enterprise Linux ");
			}
			if (num[0] && strlen(num) <= 18) {
				char pretty[96], cpe[96];
				snprintf(pretty, sizeof(pretty), "Red Hat Enterprise Linux Server %s", num);
				snprintf(cpe, sizeof(cpe), "cpe:/o:redhat:enterprise_linux:%s", num);
				return dist_add(out, "rhel", "Red Hat Enterprise Linux Server", num, NULL, num, cpe,
						pretty);
			}
		}
		if (scutil_osrelease_valid(t, f->len) < 0)
			continue;
		char *id = NULL;
		if (scutil_osrelease_get(t, f->len, "ID", &id) == -ENOMEM)
			return -ENOMEM;
		int hb = id && strcasecmp(id, "hummingbird") == 0;
		if (!hb) {
			free(id);
			continue;
		}
		char *name = NULL, *vid = NULL, *ver = NULL, *pretty = NULL, *cpe = NULL;
		int rc = 0;
		if (scutil_osrelease_get(t, f->len, "NAME", &name) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "VERSION_ID", &vid) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "VERSION", &ver) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "PRETTY_NAME", &pretty) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "CPE_NAME", &cpe) == -ENOMEM)
			rc = -ENOMEM;
		else
			rc = dist_add(out, id, name, ver, NULL, vid, cpe, pretty);
		free(id), free(name), free(vid), free(ver), free(pretty), free(cpe);
		return rc;
	}
	return 0;
}

const struct scanner_desc scanner_dist_rhel = {
	.name = "rhel",
	.version = "3",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "rhel",
	.want = rhel_want,
	.scan = rhel_scan,
};
