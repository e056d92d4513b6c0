/* apk: lib/apk/db/installed (claircore apk/scanner.go). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

#define APK_DB "lib/apk/db/installed"

static int apk_want(const char *path, int is_dir)
{
	return !is_dir && strcmp(path, APK_DB) == 0;
}

static char *trimdup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' ||
		     s[n - 1] == '\v' || s[n - 1] == '\f'))
		n--;
	return scutil_strndup(s, n);
}

struct apk_src {
	char *name, *version;
};

static int apk_parse(const char *b, size_t len, struct scan_result *out)
{
	struct apk_src *srcs = NULL;
	size_t n_src = 0, cap_src = 0;
	int rc = 0;
	size_t pos = 0;
	char *f[4] = {0}; /* P V A c */
	while (pos < len) {
		/* entry = up to the next "\n\n" (exclusive) */
		const char *e = memmem(b + pos, len - pos, "\n\n", 2);
		size_t end = e ? (size_t)(e - b) : len;
		size_t next = e ? end + 2 : len;
		if (end == pos) {
			pos = next;
			continue;
		}
		for (int k = 0; k < 4; k++) {
			free(f[k]);
			f[k] = NULL;
		}
		const char *sname = NULL, *sver = NULL;
		size_t i = pos;
		while (i < end) {
			const char *nl = memchr(b + i, '\n', end - i);
			if (!nl)
				break; /* the last line of an entry (no newline) is never processed */
			size_t le = (size_t)(nl - b), ll = le + 1 - i;
			const char *line = b + i;
			i = le + 1;
			if (ll < 2)
				continue;
			int slot = -1;
			switch (line[0]) {
			case 'P':
				slot = 0;
				break;
			case 'V':
				slot = 1;
				break;
			case 'A':
				slot = 2;
				break;
			case 'c':
				slot = 3;
				break;
			case 'o': {
				char *o = trimdup(line + 2, ll - 2);
				if (!o)
					goto nomem;
				size_t k;
				for (k = 0; k < n_src; k++)
					if (strcmp(srcs[k].name, o) == 0)
						break;
				if (k == n_src) {
					if (n_src == cap_src) {
						size_t nc = cap_src ? cap_src * 2 : 32;
						struct apk_src *a = realloc(srcs, nc * sizeof(*a));
						if (!a) {
							free(o);
							goto nomem;
						}
						srcs = a;
						cap_src = nc;
					}
					srcs[k].name = o;
					srcs[k].version = strdup(f[1] ? f[1] : "");
					if (!srcs[k].version) {
						free(o);
						goto nomem;
					}
					n_src++;
				} else {
					free(o);
				}
				sname = srcs[k].name;
				sver = srcs[k].version;
				continue;
			}
			default:
				continue;
			}
			free(f[slot]);
			f[slot] = trimdup(line + 2, ll - 2);
			if (!f[slot])
				goto nomem;
		}
		pos = next;
		if (!f[0] || !*f[0])
			continue; /* claircore would emit a nameless package; nothing can match it */
		struct idx_package p = {
			.name = f[0],
			.version = f[1],
			.kind = "binary",
			.arch = f[2],
			.repository_hint = f[3],
			.package_db = APK_DB,
			.src_name = (char *)sname,
			.src_version = (char *)sver,
		};
		if (scan_result_add_package(out, &p) < 0)
			goto nomem;
	}
	goto out;
nomem:
	rc = -ENOMEM;
out:
	for (int k = 0; k < 4; k++)
		free(f[k]);
	for (size_t k = 0; k < n_src; k++) {
		free(srcs[k].name);
		free(srcs[k].version);
	}
	free(srcs);
	return rc;
}

static int apk_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	const struct layer_file *f = layer_files_get(files, APK_DB);
	if (!f || f->type != LAYER_FILE_REG)
		return 0;
	return apk_parse((const char *)f->data, f->len, out);
}

const struct scanner_desc scanner_apk = {
	.name = "apk",
	.version = "v0.0.1",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "alpine",
	.want = apk_want,
	.scan = apk_scan,
};

int scanners_fuzz_apk(const uint8_t *data, size_t n)
{
	return scanners_fuzz_one(&scanner_apk, APK_DB, data, n);
}
