/* src_osv: OSV advisories, PyPI ecosystem (claircore-spec §5.11).
 *
 * Config block updaters.config.osv (all optional):
 *   url        root, default "https://osv-vulnerabilities.storage.googleapis.com/"; the feed is
 *              <url>PyPI/all.zip
 *   zip_url    the whole feed URL (overrides url)
 *   allowlist  list of ecosystems (claircore's key); only "pypi" is implemented: other names are
 *              ignored with a warning, and a list without "pypi" yields no updater
 * Updater name: "osv/pypi".
 *
 * Accepted input: a zip of JSON records (the real feed), a tar, a single JSON record, a JSON
 * array of records, a YAML record (pypa/advisory-database form), or a directory walked
 * recursively for *.json / *.yaml / *.yml.
 *
 * Per record: skipped when withdrawn in the past, when it has no "affected", or when an alias
 * has no '-' (claircore drops those). name = id; description = summary; issued = published;
 * links = reference URLs, then https://osv.dev/vulnerability/<alias> per alias; severity = the
 * last CVSS_V2/V3/V4 vector in severity[] (normalized from its base score for v2/v3; a v4 vector
 * gives Unknown), else database_specific.severity. Per affected[] with ecosystem PyPI and per
 * ECOSYSTEM (or SEMVER) range: one vuln per [introduced, fixed) / [introduced, last_affected]
 * span of its events (a new "introduced" starts a new span; a span with no end is open):
 * range_introduced / range_fixed / range_last_affected raw, fixed_in_version = claircore's
 * query form, package {package.name, kind "binary"}, repo {name "pypi", uri
 * "https://pypi.org/simple"}, version_kind "pep440". GIT ranges and the explicit "versions"
 * list are not used. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "scanner/matcher/version/version.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

#define OSV_ROOT "https://osv-vulnerabilities.storage.googleapis.com/"
#define OSV_MAX_DEPTH 16

struct osv_ctx {
	const char *updater;
	struct vuln_sink *sink;
	char now[32];
	struct buf links;
	struct buf doc;
};

static int osv_bad(const char *name, const char *id, struct diag *d, const char *why)
{
	return diag_fail(d, -EBADMSG, "%s: record \"%.80s\": %s", name, id ? id : "?", why);
}

static int osv_emit(struct osv_ctx *c, const struct vuln *tmpl, const char *intro, const char *fixed, const char *last,
		    const char *name, struct diag *d)
{
	struct vuln v = *tmpl;
	char *fiv = feed_range_query(intro, fixed, last);
	if (!fiv)
		return diag_fail(d, -ENOMEM, "out of memory");
	v.fixed_in_version = fiv;
	v.range_introduced = (char *)(intro ? intro : "");
	v.range_fixed = (char *)(fixed ? fixed : "");
	v.range_last_affected = (char *)(last ? last : "");
	int rc = c->sink->add(c->sink->ctx, &v);
	free(fiv);
	if (rc < 0)
		return diag_fail(d, rc, "%s: sink refused a vulnerability", name);
	return 0;
}

static int osv_str_field(json_t *o, const char *k, const char **ret)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v)) {
		*ret = "";
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	*ret = json_string_value(v);
	return 0;
}

static int osv_record(struct osv_ctx *c, json_t *rec, const char *name, struct diag *d)
{
	if (!json_is_object(rec))
		return diag_fail(d, -EBADMSG, "%s: a record is not an object", name);
	const char *id, *summary, *published, *withdrawn;
	if (osv_str_field(rec, "id", &id) < 0 || !*id)
		return diag_fail(d, -EBADMSG, "%s: record without a string \"id\"", name);
	if (osv_str_field(rec, "summary", &summary) < 0 || osv_str_field(rec, "published", &published) < 0 ||
	    osv_str_field(rec, "withdrawn", &withdrawn) < 0)
		return osv_bad(name, id, d, "summary / published / withdrawn is not a string");
	if (*withdrawn && strcmp(withdrawn, c->now) <= 0)
		return 0;
	json_t *aff = json_object_get(rec, "affected");
	if (!aff || json_is_null(aff))
		return 0;
	if (!json_is_array(aff))
		return osv_bad(name, id, d, "\"affected\" is not a list");
	json_t *aliases = json_object_get(rec, "aliases"), *refs = json_object_get(rec, "references");
	if ((aliases && !json_is_null(aliases) && !json_is_array(aliases)) || (refs && !json_is_null(refs) && !json_is_array(refs)))
		return osv_bad(name, id, d, "\"aliases\" / \"references\" is not a list");
	size_t i;
	json_t *x;
	buf_reset(&c->links);
	if (buf_append(&c->links, "", 0) < 0)
		return diag_fail(d, -ENOMEM, "out of memory");
	json_array_foreach(refs, i, x)
	{
		const char *u = json_string_value(json_object_get(x, "url"));
		if (!json_is_object(x) || !u)
			return osv_bad(name, id, d, "a reference has no string \"url\"");
		if ((c->links.len && buf_putc(&c->links, ' ') < 0) || buf_puts(&c->links, u) < 0)
			return diag_fail(d, -ENOMEM, "out of memory");
	}
	json_array_foreach(aliases, i, x)
	{
		if (!json_is_string(x))
			return osv_bad(name, id, d, "an alias is not a string");
		if (!strchr(json_string_value(x), '-'))
			return 0; /* claircore drops the advisory */
		if ((c->links.len && buf_putc(&c->links, ' ') < 0) ||
		    buf_printf(&c->links, "https://osv.dev/vulnerability/%s", json_string_value(x)) < 0)
			return diag_fail(d, -ENOMEM, "out of memory");
	}
	const char *sev = "";
	enum severity nsev = SEV_UNKNOWN;
	int have_cvss = 0;
	json_t *sevs = json_object_get(rec, "severity");
	if (sevs && !json_is_null(sevs) && !json_is_array(sevs))
		return osv_bad(name, id, d, "\"severity\" is not a list");
	json_array_foreach(sevs, i, x)
	{
		const char *t = json_string_value(json_object_get(x, "type")), *s = json_string_value(json_object_get(x, "score"));
		if (!t || !s)
			return osv_bad(name, id, d, "a severity entry has no string type / score");
		int v2 = !strcmp(t, "CVSS_V2");
		if (!v2 && strcmp(t, "CVSS_V3") && strcmp(t, "CVSS_V4"))
			continue;
		double score;
		sev = s;
		have_cvss = 1;
		nsev = feed_cvss_score(s, &score) == 0 ? feed_sev_cvss(score, v2) : SEV_UNKNOWN;
	}
	if (!have_cvss) {
		const char *ds = json_string_value(json_object_get(json_object_get(rec, "database_specific"), "severity"));
		if (ds) {
			sev = ds;
			nsev = feed_sev_osv_db(ds);
		}
	}
	struct vuln t = {0};
	t.updater = (char *)c->updater;
	t.name = (char *)id;
	t.description = (char *)summary;
	t.issued = (char *)published;
	t.links = c->links.data;
	t.severity = (char *)sev;
	t.normalized_severity = nsev;
	t.pkg.kind = "binary";
	t.repo.name = "pypi";
	t.repo.uri = "https://pypi.org/simple";
	t.version_kind = "pep440";
	json_array_foreach(aff, i, x)
	{
		json_t *pkg = json_object_get(x, "package");
		if (!json_is_object(x) || (pkg && !json_is_object(pkg)))
			return osv_bad(name, id, d, "an affected entry is not an object");
		const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
		const char *pname = json_string_value(json_object_get(pkg, "name"));
		if (!eco || strcasecmp(eco, "PyPI") || !pname || !*pname)
			continue;
		char nname[256];
		snprintf(nname, sizeof(nname), "%s", pname);
		version_pep503_name(nname); /* as the python scanner names packages */
		t.pkg.name = nname;
		json_t *ranges = json_object_get(x, "ranges");
		if (ranges && !json_is_null(ranges) && !json_is_array(ranges))
			return osv_bad(name, id, d, "\"ranges\" is not a list");
		size_t j;
		json_t *rg;
		json_array_foreach(ranges, j, rg)
		{
			const char *type = json_string_value(json_object_get(rg, "type"));
			json_t *evs = json_object_get(rg, "events");
			if (!type || !json_is_array(evs))
				return osv_bad(name, id, d, "a range has no type or no events list");
			if (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER"))
				continue;
			const char *intro = NULL;
			int open = 0;
			size_t k;
			json_t *ev;
			json_array_foreach(evs, k, ev)
			{
				if (!json_is_object(ev) || json_object_size(ev) != 1)
					return osv_bad(name, id, d, "an event is not a one-key object");
				const char *key = json_object_iter_key(json_object_iter(ev));
				const char *val = json_string_value(json_object_iter_value(json_object_iter(ev)));
				if (!val)
					return osv_bad(name, id, d, "an event value is not a string");
				int rc = 0;
				if (!strcmp(key, "introduced")) {
					if (open)
						rc = osv_emit(c, &t, intro, NULL, NULL, name, d);
					intro = val;
					open = 1;
				} else if (!strcmp(key, "fixed")) {
					rc = osv_emit(c, &t, intro, val, NULL, name, d);
					open = 0;
					intro = NULL;
				} else if (!strcmp(key, "last_affected")) {
					rc = osv_emit(c, &t, intro, NULL, val, name, d);
					open = 0;
					intro = NULL;
				}
				if (rc < 0)
					return rc;
			}
			if (open) {
				int rc = osv_emit(c, &t, intro, NULL, NULL, name, d);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static int osv_doc(struct osv_ctx *c, const char *name, struct diag *d)
{
	json_t *root = NULL;
	int rc = feed_doc_parse(c->doc.data, c->doc.len, name, &root, d);
	if (rc < 0)
		return rc;
	if (json_is_array(root)) {
		size_t i;
		json_t *x;
		json_array_foreach(root, i, x) if ((rc = osv_record(c, x, name, d)) < 0) break;
	} else {
		rc = osv_record(c, root, name, d);
	}
	json_decref(root);
	return rc;
}

static int osv_wanted_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && !strcasecmp(n + l - 5, ".json")) || (l > 5 && !strcasecmp(n + l - 5, ".yaml")) ||
	       (l > 4 && !strcasecmp(n + l - 4, ".yml"));
}

static int osv_file(struct osv_ctx *c, const char *path, struct diag *d)
{
	struct feed_reader r;
	int rc = feed_reader_open(&r, path, d);
	if (rc < 0)
		return rc;
	for (;;) {
		if (r.raw || osv_wanted_name(r.entry)) {
			char name[1024];
			snprintf(name, sizeof(name), "%s%s%s", path, r.raw ? "" : ":", r.entry);
			if ((rc = feed_reader_slurp(&r, FEED_MAX_DOC, &c->doc, d)) < 0 || (rc = osv_doc(c, name, d)) < 0)
				break;
		}
		rc = feed_reader_next(&r, d);
		if (rc <= 0)
			break;
	}
	feed_reader_close(&r);
	return rc;
}

static int osv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int osv_dir(struct osv_ctx *c, const char *path, int depth, struct diag *d)
{
	if (depth > OSV_MAX_DEPTH)
		return diag_fail(d, -ELOOP, "%s: directories nested too deep", path);
	DIR *dir = opendir(path);
	if (!dir)
		return diag_fail(d, -errno, "%s: cannot open directory", path);
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
			names = nn, cap = nc;
		}
		if (!(names[n] = malloc(strlen(path) + strlen(e->d_name) + 2))) {
			rc = diag_fail(d, -ENOMEM, "out of memory");
			goto out;
		}
		snprintf(names[n], strlen(path) + strlen(e->d_name) + 2, "%s/%s", path, e->d_name);
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), osv_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;
		if (stat(names[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = osv_dir(c, names[i], depth + 1, d);
		else if (S_ISREG(st.st_mode) && osv_wanted_name(names[i]))
			rc = osv_file(c, names[i], d);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return rc;
}

static int osv_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct osv_ctx c = {.updater = u && u->name ? u->name : "osv/pypi", .sink = sink};
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(c.now, sizeof(c.now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct stat st;
	int rc;
	if (stat(path, &st) < 0)
		rc = diag_fail(d, -errno, "%s: cannot stat", path);
	else if (S_ISDIR(st.st_mode))
		rc = osv_dir(&c, path, 0, d);
	else
		rc = osv_file(&c, path, d);
	buf_release(&c.links);
	buf_release(&c.doc);
	return rc;
}

static int osv_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		      struct diag *d)
{
	(void)http;
	json_t *allow = cfg ? json_object_get(cfg, "allowlist") : NULL;
	if (allow && !json_is_array(allow))
		return diag_fail(d, -EINVAL, "updaters.config.osv.allowlist: want a list of ecosystems");
	int want = !allow;
	size_t i;
	json_t *x;
	json_array_foreach(allow, i, x)
	{
		const char *e = json_string_value(x);
		if (!e)
			return diag_fail(d, -EINVAL, "updaters.config.osv.allowlist[%zu]: want a string", i);
		if (!strcasecmp(e, "pypi"))
			want = 1;
		else
			log_warn("updater/osv", "ecosystem not supported, ignored", "{s:s}", "ecosystem", e);
	}
	if (!want)
		return 0;
	char url[2048];
	const char *zip = feed_cfg_str(cfg, "zip_url", NULL);
	if (zip)
		snprintf(url, sizeof(url), "%s", zip);
	else {
		const char *root = feed_cfg_str(cfg, "url", OSV_ROOT);
		snprintf(url, sizeof(url), "%s%sPyPI/all.zip", root, root[strlen(root) - 1] == '/' ? "" : "/");
	}
	int rc = updater_src_push(ret, ret_n, "osv/pypi", url, osv_parse, NULL, NULL);
	return rc < 0 ? diag_fail(d, rc, "out of memory") : 0;
}

const struct updater_set updater_set_osv = {"osv", osv_expand};
