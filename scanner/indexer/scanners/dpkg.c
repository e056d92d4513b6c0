/* dpkg: var/lib/dpkg/status (wherever a directory holds both "status" and "info/"). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

#define DPKG_MAX_PKGS 100000 /* all of Debian is ~65k binary packages per architecture */
#define STR_(x) #x
#define STR(x) STR_(x)

static int dpkg_want(const char *path, int is_dir)
{
	const char *b = scutil_base(path);
	if (is_dir)
		return strcmp(b, "info") == 0;
	if (strcmp(b, "status") == 0)
		return 1;
	if (scutil_has_suffix(b, ".md5sums") && b - path >= 5 && memcmp(b - 5, "info/", 5) == 0)
		return 1;
	return 0;
}

static int status_ok_installed(const char *st)
{
	int ok = 0, inst = 0;
	const char *p = st;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 2 && memcmp(s, "ok", 2) == 0)
			ok = 1;
		else if (n == 9 && memcmp(s, "installed", 9) == 0)
			inst = 1;
	}
	return ok && inst;
}

/* name -> index maps (jansson objects are hash tables): a status file can hold hundreds of
 * thousands of stanzas, so lookups must not be linear */
static long map_get(json_t *map, const char *name)
{
	json_t *v = json_object_get(map, name);
	return v ? (long)json_integer_value(v) : -1;
}

int dpkg_parse(const char *data, size_t len, const char *package_db, int mode, struct scan_result *out)
{
	size_t pos = 0, base = out->n_pkgs;
	struct scutil_stanza st;
	int rc = 0;
	/* source packages seen in this database: name -> index into src_vers */
	json_t *src_map = json_object(), *pkg_map = json_object();
	char **src_vers = NULL;
	size_t n_src = 0, cap_src = 0;
	char *name = NULL, *ver = NULL, *arch = NULL, *status = NULL, *source = NULL, *tmp = NULL;

	if (!src_map || !pkg_map)
		goto nomem;
	while (scutil_stanza_next(data, len, &pos, &st)) {
		free(name), free(ver), free(arch), free(status), free(source), free(tmp);
		name = ver = arch = status = source = tmp = NULL;
		if (scutil_stanza_get(&st, "Package", &name) || scutil_stanza_get(&st, "Version", &ver) ||
		    scutil_stanza_get(&st, "Architecture", &arch) || scutil_stanza_get(&st, "Status", &status) ||
		    scutil_stanza_get(&st, "Source", &source))
			goto nomem;
		if (out->n_pkgs - base >= DPKG_MAX_PKGS) {
			rc = -EFBIG;
			goto out;
		}
		struct idx_package p = {
			.name = name,
			.version = ver,
			.kind = "binary",
			.arch = arch,
			.package_db = (char *)package_db,
		};
		if (mode == 1) {
			if (source && *source) {
				p.src_name = source;
				p.src_version = ver;
			}
			if (scan_result_add_package(out, &p) < 0)
				goto nomem;
			continue;
		}
		if (!status || !status_ok_installed(status))
			continue;
		if (!name || !*name || !ver || !*ver || !arch || !*arch) {
			rc = (scutil_stanza_has(&st, "Port-Version") || scutil_stanza_has(&st, "Default-Features") ||
			      scutil_stanza_has(&st, "Feature"))
				     ? -ENOTSUP
				     : -EINVAL;
			goto out;
		}
		const char *sname = name, *sver = ver;
		if (source && *source) {
			char *sp = strchr(source, ' ');
			if (sp) {
				*sp = 0;
				char *v = sp + 1;
				size_t vl = strlen(v);
				while (*v == '(' || *v == ')')
					v++, vl--;
				while (vl && (v[vl - 1] == '(' || v[vl - 1] == ')'))
					v[--vl] = 0;
				sver = v;
			}
			sname = source;
			long i = map_get(src_map, sname);
			if (i >= 0) {
				sver = src_vers[i];
			} else {
				if (n_src == cap_src) {
					size_t nc = cap_src ? cap_src * 2 : 64;
					char **a = realloc(src_vers, nc * sizeof(*a));
					if (!a)
						goto nomem;
					src_vers = a;
					cap_src = nc;
				}
				src_vers[n_src] = strdup(sver);
				if (!src_vers[n_src] ||
				    json_object_set_new(src_map, sname, json_integer((json_int_t)n_src)) < 0) {
					free(src_vers[n_src]);
					goto nomem;
				}
				sver = src_vers[n_src];
				n_src++;
			}
		}
		p.src_name = (char *)sname;
		p.src_version = (char *)sver;
		/* the last stanza of a name wins (claircore keeps a map by name) */
		long old = map_get(pkg_map, name);
		if (scan_result_add_package(out, &p) < 0)
			goto nomem;
		if (old >= 0) {
			/* the new stanza (the last element) takes the old one's place */
			idx_package_release(&out->pkgs[old]);
			out->pkgs[old] = out->pkgs[--out->n_pkgs];
		} else if (json_object_set_new(pkg_map, name, json_integer((json_int_t)(out->n_pkgs - 1))) < 0) {
			goto nomem;
		}
	}
	goto out;
nomem:
	rc = -ENOMEM;
out:
	free(name), free(ver), free(arch), free(status), free(source), free(tmp);
	for (size_t i = 0; i < n_src; i++)
		free(src_vers[i]);
	free(src_vers);
	json_decref(src_map);
	json_decref(pkg_map);
	if (rc < 0) {
		/* a database that fails yields no packages */
		while (out->n_pkgs > base)
			idx_package_release(&out->pkgs[--out->n_pkgs]);
	}
	return rc;
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct idx_package *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->version, y->version);
}

static int has_info_dir(const struct layer_files *files, const char *dir)
{
	size_t dl = strlen(dir);
	for (size_t i = 0; i < files->n_files; i++) {
		const char *p = files->files[i].path;
		if (strncmp(p, dir, dl) != 0 || strncmp(p + dl, "info", 4) != 0)
			continue;
		if (p[dl + 4] == 0 && files->files[i].type == LAYER_FILE_DIR)
			return 1;
		if (p[dl + 4] == '/')
			return 1;
	}
	return 0;
}

static int dpkg_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	size_t first = out->n_pkgs;
	int rc = 0;
	char *dir = NULL;
	for (size_t i = 0; i < files->n_files; i++) {
		const struct layer_file *f = &files->files[i];
		if (f->type != LAYER_FILE_REG || strcmp(scutil_base(f->path), "status") != 0)
			continue;
		free(dir);
		dir = scutil_strndup(f->path, (size_t)(scutil_base(f->path) - f->path));
		if (!dir)
			return -ENOMEM;
		if (!has_info_dir(files, dir))
			continue;
		size_t base = out->n_pkgs;
		rc = dpkg_parse((const char *)f->data, f->len, f->path, 0, out);
		if (rc == -ENOMEM)
			goto out;
		if (rc == -ENOTSUP) {
			log_debug("indexer", "dpkg: not a dpkg database (vcpkg)", "{s:s}", "path", f->path);
			rc = 0;
			continue;
		}
		if (rc < 0) {
			log_warn("indexer", "dpkg: invalid status file skipped", "{s:s,s:s}", "path", f->path, "reason",
				 rc == -EFBIG ? "more than " STR(DPKG_MAX_PKGS) " packages"
					      : "package missing Package, Version or Architecture");
			rc = 0;
			continue;
		}
		/* repository hints from info/<pkg>[:arch].md5sums (name -> index map: no n^2) */
		size_t dl = strlen(dir);
		json_t *names = json_object();
		if (!names) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t k = base; k < out->n_pkgs; k++)
			if (!json_object_get(names, out->pkgs[k].name))
				json_object_set_new(names, out->pkgs[k].name, json_integer((json_int_t)k));
		for (size_t j = 0; j < files->n_files; j++) {
			const struct layer_file *m = &files->files[j];
			const char *p = m->path;
			if (m->type != LAYER_FILE_REG || strncmp(p, dir, dl) != 0 || strncmp(p + dl, "info/", 5) != 0)
				continue;
			const char *b = p + dl + 5;
			if (strchr(b, '/') || !scutil_has_suffix(b, ".md5sums"))
				continue;
			size_t kl = strlen(b) - 8;
			const char *colon = memchr(b, ':', kl);
			if (colon)
				kl = (size_t)(colon - b);
			char key[512];
			if (kl >= sizeof(key))
				continue;
			memcpy(key, b, kl);
			key[kl] = '\0';
			json_t *hit = json_object_get(names, key);
			for (size_t k = hit ? (size_t)json_integer_value(hit) : out->n_pkgs; k < out->n_pkgs; k++) {
				struct idx_package *pk = &out->pkgs[k];
				char hex[33];
				if (scutil_md5_hex(m->data, m->len, hex) < 0)
					break;
				char *h = strdup(hex);
				if (!h) {
					json_decref(names);
					rc = -ENOMEM;
					goto out;
				}
				free(pk->repository_hint);
				pk->repository_hint = h;
				break;
			}
		}
		json_decref(names);
	}
	if (out->n_pkgs > first)
		qsort(out->pkgs + first, out->n_pkgs - first, sizeof(*out->pkgs), pkg_cmp);
out:
	free(dir);
	return rc;
}

const struct scanner_desc scanner_dpkg = {
	.name = "dpkg",
	.version = "7",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "dpkg",
	.want = dpkg_want,
	.scan = dpkg_scan,
};

int scanners_fuzz_one(const struct scanner_desc *desc, const char *path, const uint8_t *data, size_t n)
{
	struct layer_file lf[2] = {0};
	struct layer_files files = {.files = lf, .n_files = 1};
	struct scan_result res = {0};
	unsigned char *copy = malloc(n + 1);
	if (!copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, data, n);
	copy[n] = 0;
	lf[0].path = (char *)path;
	lf[0].type = LAYER_FILE_REG;
	lf[0].data = copy;
	lf[0].len = n;
	lf[0].mode = 0644;
	/* dpkg needs the info/ directory next to status */
	if (strcmp(scutil_base(path), "status") == 0) {
		lf[1].path = (char *)"var/lib/dpkg/info";
		lf[1].type = LAYER_FILE_DIR;
		files.n_files = 2;
	}
	int rc = desc->scan(&files, &res, NULL);
	scan_result_release(&res);
	free(copy);
	return rc == -ENOMEM ? rc : 0;
}

int scanners_fuzz_dpkg(const uint8_t *data, size_t n)
{
	return scanners_fuzz_one(&scanner_dpkg, "var/lib/dpkg/status", data, n);
}
