/* src_ubuntu: Ubuntu CVE OVAL updaters (claircore-spec §5.4).
 *
 * Config (updaters.config.ubuntu):
 *   url:      base, default "https://security-metadata.canonical.com/oval/"
 *   releases: codenames, default ["bionic", "focal", "jammy", "noble"] (Launchpad's series list is not
 *             read: the known series table below gives each codename's version)
 *   urls:     {"ubuntu/updater/jammy": "https://..."} per-updater URL override
 * Updaters: "ubuntu/updater/<codename>" fetching <url>com.ubuntu.<codename>.cve.oval.xml.bz2.
 *
 * Vulns: one per dpkginfo leaf (object names via var_ref → constant_variable values): name = title,
 * description, issued (advisory issued date, "" when absent), links, severity "" and normalized_severity
 * from advisory/severity (Ubuntu table); package kind "binary"; fixed_in_version = state evr or "" when the
 * test has no state (unfixed); dist {did ubuntu, name Ubuntu, version "22.04 (Jammy)", version_code_name
 * jammy, version_id 22.04, pretty "Ubuntu 22.04"} as the ubuntu distribution scanner reports it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/updaters/oval/oval_common.h"

static const struct {
	const char *code, *ver;
} ubuntu_series[] = {
	{"trusty", "14.04"}, {"xenial", "16.04"}, {"bionic", "18.04"}, {"focal", "20.04"},   {"jammy", "22.04"},
	{"kinetic", "22.10"}, {"lunar", "23.04"}, {"mantic", "23.10"}, {"noble", "24.04"},   {"oracular", "24.10"},
	{"plucky", "25.04"}, {"questing", "25.10"},
};

struct ub_ctx {
	const struct oval_src *src;
	struct vuln_sink *sink;
	const struct oval_def *def;
};

static int ub_leaf(void *vctx, const struct oval_leaf *lf)
{
	struct ub_ctx *c = vctx;
	struct vuln v;
	oval_vuln_proto(&v, c->src, c->def);
	v.severity = (char *)"";
	oval_vuln_leaf(&v, lf, "binary");
	return c->sink->add(c->sink->ctx, &v);
}

static int ub_def(void *vctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct ub_ctx *c = vctx;
	c->def = def;
	return oval_def_leaves(doc, def, OVAL_PKG_DPKG, ub_leaf, c);
}

static int ub_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct ub_ctx c = {u->priv, sink, NULL};
	return oval_parse_file(path, ub_def, &c, d);
}

static int ub_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		     struct diag *d)
{
	(void)http;
	static const char *const defs[] = {"bionic", "focal", "jammy", "noble"};
	const char *base = oval_cfg_str(cfg, "url", "https://security-metadata.canonical.com/oval/");
	const char *sep = base[0] && base[strlen(base) - 1] == '/' ? "" : "/";
	char **rels = NULL;
	size_t nrels = 0;
	int rc = oval_cfg_list(cfg, "releases", &rels, &nrels, d);
	if (rc < 0)
		return rc;
	size_t n = nrels ? nrels : sizeof(defs) / sizeof(defs[0]);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *code = nrels ? rels[i] : defs[i];
		const char *ver = NULL;
		for (size_t k = 0; k < sizeof(ubuntu_series) / sizeof(ubuntu_series[0]); k++)
			if (!strcmp(ubuntu_series[k].code, code))
				ver = ubuntu_series[k].ver;
		if (!ver) {
			rc = diag_fail(d, -EINVAL, "ubuntu: releases: unknown series %s", code);
			break;
		}
		char name[96], url[1024], title[64], version[96], pretty[64];
		snprintf(name, sizeof(name), "ubuntu/updater/%s", code);
		snprintf(url, sizeof(url), "%s%scom.ubuntu.%s.cve.oval.xml.bz2", base, sep, code);
		snprintf(title, sizeof(title), "%s", code);
		title[0] = (char)toupper((unsigned char)title[0]);
		snprintf(version, sizeof(version), "%s (%s)", ver, title);
		snprintf(pretty, sizeof(pretty), "Ubuntu %s", ver);
		rc = oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), ub_parse,
				   oval_src_new(name, OVAL_VENDOR_UBUNTU, "ubuntu", "Ubuntu", version, code, ver, "", pretty),
				   d);
	}
	oval_cfg_strv_free(rels, nrels);
	return rc;
}

const struct updater_set updater_set_ubuntu = {"ubuntu", ub_expand};
