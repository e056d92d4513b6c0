/* dpkg-distroless: every file of a "status.d" directory (except *.md5sums). */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

static int in_status_d(const char *path)
{
	const char *b = scutil_base(path);
	return b - path >= 9 && memcmp(b - 9, "status.d/", 9) == 0 && (b - path == 9 || b[-10] == '/');
}

static int distroless_want(const char *path, int is_dir)
{
	return !is_dir && in_status_d(path) && !scutil_has_suffix(path, ".md5sums");
}

static int distroless_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	for (size_t i = 0; i < files->n_files; i++) {
		const struct layer_file *f = &files->files[i];
		if (f->type != LAYER_FILE_REG || !distroless_want(f->path, 0))
			continue;
		int rc = dpkg_parse((const char *)f->data, f->len, f->path, 1, out);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			log_warn("indexer", "dpkg-distroless: database skipped", "{s:s}", "path", f->path);
	}
	return 0;
}

const struct scanner_desc scanner_dpkg_distroless = {
	.name = "dpkg-distroless",
	.version = "1",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "dpkg",
	.want = distroless_want,
	.scan = distroless_scan,
};

int scanners_fuzz_distroless(const uint8_t *data, size_t n)
{
	return scanners_fuzz_one(&scanner_dpkg_distroless, "var/lib/dpkg/status.d/base", data, n);
}
