/* oracle distribution scanner (claircore oracle/distributionscanner.go). */
#include <stdio.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"

static int ol_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "etc/issue") == 0 ||
			   strcmp(path, "etc/oracle-release") == 0);
}

static int ol_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	static const char *const paths[] = {"etc/os-release", "etc/issue"};
	static const char *const res[] = {"Oracle Linux Server release ?5", "Oracle Linux Server 6",
					  "Oracle Linux Server 7", "Oracle Linux Server 8",
					  "Oracle Linux Server 9"};
	for (size_t i = 0; i < 2; i++) {
		const struct layer_file *f = dist_file(files, paths[i]);
		if (!f)
			continue;
		for (int k = 0; k < 5; k++) {
			if (!dist_regex((const char *)f->data, res[k], 1, NULL, 0))
				continue;
			char v[4], pretty[64], code[64];
			snprintf(v, sizeof(v), "%d", k + 5);
			snprintf(pretty, sizeof(pretty), "Oracle Linux Server %d", k + 5);
			snprintf(code, sizeof(code), "Oracle Linux %d", k + 5);
			return dist_add(out, "ol", "Oracle Linux Server", v, code, v, NULL, pretty);
		}
	}
	return 0;
}

const struct scanner_desc scanner_dist_oracle = {
	.name = "oracle",
	.version = "1",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "rpm",
	.want = ol_want,
	.scan = ol_scan,
};
