/* src_pyupio: pyup.io safety-db insecure_full.json (claircore-spec §5.10; removed from claircore
 * in 2023 but kept here for old configurations).
 *
 * Config block updaters.config.pyupio (optional):
 *   url   default "https://github.com/pyupio/safety-db/archive/master.tar.gz"; the feed may be
 *         that tarball (the entry ending in "insecure_full.json" is read) or the JSON file itself
 * Updater name: "pyupio".
 *
 * Format {"$meta": {...}, "<pkg>": [{advisory, cve|null, id, specs: ["<1.2,>=1.0", ...], v}]}.
 * One vuln per (package, advisory, spec): name = id, plus " (<cve>)" when cve is set;
 * description = advisory; package {name lower-cased, kind "binary"}; repo {name "pypi", uri
 * "https://pypi.org/simple"}; version_kind "pep440"; severity Unknown. Each spec is converted
 * to a range when it is at most one ">=X" plus at most one "<Y" or "<=Y" (plain versions, no
 * wildcards): range_introduced X, range_fixed Y / range_last_affected Y, and fixed_in_version
 * carries claircore's query form ("fixed=Y&introduced=X", see feed_range_query). Any other
 * spec ("==", "!=", ">", "~=", wildcards, two upper bounds...) is kept whole in pkg.version
 * with empty ranges and empty fixed_in_version: the matcher then evaluates it with
 * version_pep440_spec_contains. A spec that is not valid PEP 440 is skipped (as claircore
 * skipped entries whose range did not parse). Known divergence of the conversion: PEP 440's
 * "<Y" excludes pre-releases of Y itself, the range form includes them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/matcher/version/version.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

#define PYUP_URL "https://github.com/pyupio/safety-db/archive/master.tar.gz"

struct pyup_ctx {
	const char *updater;
	const char *path;
	struct vuln_sink *sink;
	size_t skipped;
};

struct pyup_range {
	char intro[PEP440_MAX_LEN + 1], fixed[PEP440_MAX_LEN + 1], last[PEP440_MAX_LEN + 1];
};

static void trim(char **s, size_t *l)
{
	while (*l && isspace((unsigned char)**s))
		(*s)++, (*l)--;
	while (*l && isspace((unsigned char)(*s)[*l - 1]))
		(*l)--;
}

/* 1 converted, 0 not convertible. */
static int pyup_convert(const char *spec, struct pyup_range *r)
{
	memset(r, 0, sizeof(*r));
	const char *p = spec;
	int have_lo = 0, have_hi = 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char *c = (char *)p;
		trim(&c, &l);
		char *dst = NULL;
		size_t op = 0;
		if (l > 2 && !strncmp(c, ">=", 2) && !have_lo)
			dst = r->intro, op = 2, have_lo = 1;
		else if (l > 2 && !strncmp(c, "<=", 2) && !have_hi)
			dst = r->last, op = 2, have_hi = 1;
		else if (l > 1 && c[0] == '<' && c[1] != '=' && !have_hi)
			dst = r->fixed, op = 1, have_hi = 1;
		if (!dst)
			return 0;
		char *v = c + op;
		size_t vl = l - op;
		trim(&v, &vl);
		if (vl == 0 || vl > PEP440_MAX_LEN || memchr(v, '*', vl))
			return 0;
		memcpy(dst, v, vl);
		dst[vl] = 0;
		struct pep440 pv;
		if (version_pep440_parse(dst, &pv) < 0)
			return 0;
		p = e ? e + 1 : p + strlen(p);
	}
	return have_lo || have_hi;
}

static int pyup_member(void *ctx, const char *key, json_t *val, struct diag *d)
{
	struct pyup_ctx *c = ctx;
	if (!strcmp(key, "$meta"))
		return 0;
	if (!json_is_array(val))
		return diag_fail(d, -EBADMSG, "%s: package \"%.64s\": not a list of advisories", c->path, key);
	char lname[256];
	size_t kl = strlen(key);
	if (kl >= sizeof(lname))
		return diag_fail(d, -EBADMSG, "%s: package name \"%.64s...\" too long", c->path, key);
	memcpy(lname, key, kl + 1);
	version_pep503_name(lname); /* as the python scanner names packages */
	size_t i;
	json_t *adv;
	json_array_foreach(val, i, adv)
	{
		json_t *id = json_object_get(adv, "id"), *cve = json_object_get(adv, "cve"),
		       *text = json_object_get(adv, "advisory"), *specs = json_object_get(adv, "specs");
		if (!json_is_object(adv) || !json_is_string(id) || (cve && !json_is_null(cve) && !json_is_string(cve)) ||
		    (text && !json_is_null(text) && !json_is_string(text)) || !json_is_array(specs))
			return diag_fail(d, -EBADMSG, "%s: package \"%.64s\" advisory %zu: want {id, advisory, cve, specs[]}",
					 c->path, key, i);
		char name[512];
		if (json_string_length(cve))
			snprintf(name, sizeof(name), "%s (%s)", json_string_value(id), json_string_value(cve));
		else
			snprintf(name, sizeof(name), "%s", json_string_value(id));
		size_t j;
		json_t *sp;
		json_array_foreach(specs, j, sp)
		{
			if (!json_is_string(sp))
				return diag_fail(d, -EBADMSG, "%s: package \"%.64s\" advisory %zu: spec %zu is not a string",
						 c->path, key, i, j);
			const char *spec = json_string_value(sp);
			int in;
			if (!*spec || version_pep440_spec_contains(spec, "0", 1, &in) < 0) {
				c->skipped++;
				continue;
			}
			struct pyup_range r;
			int conv = pyup_convert(spec, &r);
			char *fiv = conv ? feed_range_query(r.intro, r.fixed, r.last) : strdup("");
			if (!fiv)
				return diag_fail(d, -ENOMEM, "out of memory");
			struct vuln v = {0};
			v.updater = (char *)c->updater;
			v.name = name;
			v.description = (char *)(json_string_value(text) ? json_string_value(text) : "");
			v.issued = "";
			v.links = "";
			v.severity = "";
			v.normalized_severity = SEV_UNKNOWN;
			v.pkg.name = lname;
			v.pkg.kind = "binary";
			v.pkg.version = conv ? "" : (char *)spec;
			v.repo.name = "pypi";
			v.repo.uri = "https://pypi.org/simple";
			v.fixed_in_version = fiv;
			v.range_introduced = conv ? r.intro : "";
			v.range_fixed = conv ? r.fixed : "";
			v.range_last_affected = conv ? r.last : "";
			v.version_kind = "pep440";
			int rc = c->sink->add(c->sink->ctx, &v);
			free(fiv);
			if (rc < 0)
				return diag_fail(d, rc, "%s: sink refused a vulnerability", c->path);
		}
	}
	return 0;
}

static int pyup_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct pyup_ctx c = {.updater = u && u->name ? u->name : "pyupio", .path = path, .sink = sink};
	struct feed_reader r;
	int rc = feed_reader_open(&r, path, d);
	if (rc < 0)
		return rc;
	if (!r.raw) {
		for (;;) {
			size_t l = strlen(r.entry);
			if (l >= 18 && !strcmp(r.entry + l - 18, "insecure_full.json"))
				break;
			rc = feed_reader_next(&r, d);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				rc = diag_fail(d, -EBADMSG, "%s: archive has no insecure_full.json", path);
				goto out;
			}
		}
	}
	rc = feed_json_object_each(&r, pyup_member, &c, d);
	if (rc == 0 && c.skipped)
		log_info("updater/pyupio", "skipped specs that are not PEP 440", "{s:s,s:i}", "file", path, "count",
			 (json_int_t)c.skipped);
out:
	feed_reader_close(&r);
	return rc;
}

static int pyup_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		       struct diag *d)
{
	(void)http;
	int rc = updater_src_push(ret, ret_n, "pyupio", feed_cfg_str(cfg, "url", PYUP_URL), pyup_parse, NULL, NULL);
	return rc < 0 ? diag_fail(d, rc, "out of memory") : 0;
}

const struct updater_set updater_set_pyupio = {"pyupio", pyup_expand};
