/* src_oracle: Oracle Linux ELSA OVAL updaters (claircore-spec §5.7).
 *
 * Config (updaters.config.oracle):
 *   url:   base, default "https://linux.oracle.com/security/oval/"
 *   years: list of years, default 2007 .. the current year (one updater each)
 *   all:   true → one updater "oracle-all-updater" on com.oracle.elsa-all.xml.bz2 instead of per year
 *   urls:  {"oracle-2023-updater": "https://..."} per-updater URL override
 * Updaters: "oracle-<year>-updater" fetching <url>com.oracle.elsa-<year>.xml.bz2.
 *
 * Vulns: one per (rpminfo leaf × module × affected platform "Oracle Linux 5".."Oracle Linux 9");
 * definitions whose every affected CPE has edition userspace_ksplice are dropped. name = title,
 * severity = advisory severity (LOW/MODERATE/IMPORTANT/CRITICAL), dist {did "ol", name "Oracle Linux
 * Server", version N, version_code_name "Oracle Linux N", version_id N, pretty "Oracle Linux Server N"}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner/updaters/oval/oval_common.h"

struct ora_ctx {
	const struct oval_src *src;
	struct vuln_sink *sink;
	const struct oval_def *def;
	int majors[16];
	size_t nmajors;
};

static int ora_leaf(void *vctx, const struct oval_leaf *lf)
{
	struct ora_ctx *c = vctx;
	for (size_t i = 0; i < c->nmajors; i++) {
		char ver[8], code[32], pretty[48];
		snprintf(ver, sizeof(ver), "%d", c->majors[i]);
		snprintf(code, sizeof(code), "Oracle Linux %d", c->majors[i]);
		snprintf(pretty, sizeof(pretty), "Oracle Linux Server %d", c->majors[i]);
		struct vuln v;
		oval_vuln_proto(&v, c->src, c->def);
		v.dist.did = (char *)"ol";
		v.dist.name = (char *)"Oracle Linux Server";
		v.dist.version = ver;
		v.dist.version_id = ver;
		v.dist.version_code_name = code;
		v.dist.pretty_name = pretty;
		v.dist.cpe = (char *)"";
		v.dist.arch = (char *)"";
		oval_vuln_leaf(&v, lf, "binary");
		int rc = c->sink->add(c->sink->ctx, &v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* edition attribute of a CPE (URI "cpe:/part:vendor:product:version:update:edition" or 2.3 form);
 * 0 and out filled, or -1 when it does not look like a CPE. */
static int ora_cpe_edition(const char *s, char *out, size_t n)
{
	const char *p;
	if (!strncmp(s, "cpe:/", 5))
		p = s + 5;
	else if (!strncmp(s, "cpe:2.3:", 8))
		p = s + 8;
	else
		return -1;
	out[0] = 0;
	for (int i = 0; i < 5; i++) {
		p = strchr(p, ':');
		if (!p)
			return 0;
		p++;
	}
	size_t l = strcspn(p, ":");
	snprintf(out, n, "%.*s", (int)l, p);
	return 0;
}

static int ora_def(void *vctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct ora_ctx *c = vctx;
	c->nmajors = 0;
	for (size_t i = 0; i < def->nplatforms && c->nmajors < 16; i++) {
		const char *p = def->platforms[i];
		if (!strncmp(p, "Oracle Linux ", 13) && p[13] >= '5' && p[13] <= '9' && !p[14])
			c->majors[c->nmajors++] = p[13] - '0';
	}
	if (!c->nmajors)
		return 0; /* "could not determine dist" */
	int only_ksplice = def->ncpes > 0;
	for (size_t i = 0; i < def->ncpes; i++) {
		char ed[64];
		if (ora_cpe_edition(def->cpes[i], ed, sizeof(ed)) < 0) {
			only_ksplice = 0;
			break;
		}
		if (strcmp(ed, "userspace_ksplice") != 0)
			only_ksplice = 0;
	}
	if (only_ksplice)
		return 0;
	c->def = def;
	return oval_def_leaves(doc, def, OVAL_PKG_RPM, ora_leaf, c);
}

static int ora_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct ora_ctx c;
	memset(&c, 0, sizeof(c));
	c.src = u->priv;
	c.sink = sink;
	return oval_parse_file(path, ora_def, &c, d);
}

static int ora_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		      struct diag *d)
{
	(void)http;
	const char *base = oval_cfg_str(cfg, "url", "https://linux.oracle.com/security/oval/");
	const char *sep = base[0] && base[strlen(base) - 1] == '/' ? "" : "/";
	char name[64], url[1024];
	if (oval_cfg_bool(cfg, "all", 0)) {
		snprintf(name, sizeof(name), "oracle-all-updater");
		snprintf(url, sizeof(url), "%s%scom.oracle.elsa-all.xml.bz2", base, sep);
		return oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), ora_parse,
				     oval_src_new(name, OVAL_VENDOR_ORACLE, "ol", "Oracle Linux Server", "", "", "", "", ""),
				     d);
	}
	char **years = NULL;
	size_t nyears = 0;
	int rc = oval_cfg_list(cfg, "years", &years, &nyears, d);
	if (rc < 0)
		return rc;
	time_t now = time(NULL);
	struct tm tm;
	int cur = gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 2026;
	size_t n = nyears ? nyears : (size_t)(cur - 2007 + 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		long y;
		if (nyears) {
			char *end = NULL;
			y = strtol(years[i], &end, 10);
			if (!years[i][0] || *end || y < 1990 || y > 9999) {
				rc = diag_fail(d, -EINVAL, "oracle: years: %s is not a year", years[i]);
				break;
			}
		} else {
			y = 2007 + (long)i;
		}
		snprintf(name, sizeof(name), "oracle-%ld-updater", y);
		snprintf(url, sizeof(url), "%s%scom.oracle.elsa-%ld.xml.bz2", base, sep, y);
		rc = oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), ora_parse,
				   oval_src_new(name, OVAL_VENDOR_ORACLE, "ol", "Oracle Linux Server", "", "", "", "", ""), d);
	}
	oval_cfg_strv_free(years, nyears);
	return rc;
}

const struct updater_set updater_set_oracle = {"oracle", ora_expand};
