/* dist_common: helpers for the distribution scanners. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/util.h"

const struct layer_file *dist_file(const struct layer_files *files, const char *path)
{
	const struct layer_file *f = layer_files_get(files, path);
	return f && f->type == LAYER_FILE_REG && f->data ? f : NULL;
}

int dist_add(struct scan_result *out, const char *did, const char *name, const char *version, const char *code,
	     const char *version_id, const char *cpe, const char *pretty)
{
	char *fs = NULL;
	if (cpe && *cpe) {
		int rc = scutil_cpe_to_fs(cpe, &fs);
		if (rc == -ENOMEM)
			return rc;
	}
	struct idx_distribution d = {
		.did = (char *)did,
		.name = (char *)name,
		.version = (char *)version,
		.version_code_name = (char *)code,
		.version_id = (char *)version_id,
		.cpe = fs,
		.pretty_name = (char *)pretty,
	};
	int rc = scan_result_add_distribution(out, &d);
	free(fs);
	return rc;
}

int dist_regex(const char *text, const char *re, int icase, char *m1, size_t m1n)
{
	regex_t rx;
	regmatch_t m[2];
	if (regcomp(&rx, re, REG_EXTENDED | (icase ? REG_ICASE : 0)) != 0)
		return 0;
	int ok = regexec(&rx, text, 2, m, 0) == 0;
	if (ok && m1 && m1n) {
		m1[0] = 0;
		if (m[1].rm_so >= 0) {
			size_t l = (size_t)(m[1].rm_eo - m[1].rm_so);
			if (l >= m1n)
				l = m1n - 1;
			memcpy(m1, text + m[1].rm_so, l);
			m1[l] = 0;
		}
	}
	regfree(&rx);
	return ok;
}
