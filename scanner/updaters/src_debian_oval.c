/* src_debian_oval: Debian OVAL updaters, claircore's OVAL-era debian set (claircore-spec §5.3 "OVAL era").
 *
 * Config (updaters.config.debian-oval):
 *   url:      base, default "https://www.debian.org/security/oval/"
 *   releases: codenames, default ["buster", "bullseye", "bookworm", "trixie"]
 *   urls:     {"debian/updater/bookworm": "https://..."} per-updater URL override
 * Updaters: "debian/updater/<codename>" fetching <url>oval-definitions-<codename>.xml.
 *
 * Vulns: one per dpkginfo leaf: name = title, description, issued (advisory issued, else metadata/debian/date),
 * links, severity "" / Unknown; dist {did debian, name "Debian GNU/Linux", version "12 (bookworm)",
 * version_code_name bookworm, version_id 12, pretty "Debian GNU/Linux 12 (bookworm)"}.
 * Debian's dpkginfo objects name SOURCE packages; claircore expanded them to binary names through the
 * mirror's Sources.gz. We do not fetch Sources: the package is recorded with kind "source", which the
 * matcher's query (package name/kind OR source name/kind) matches for every binary built from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/updaters/oval/oval_common.h"

static const struct {
	const char *code, *ver;
} debian_rel[] = {
	{"wheezy", "7"}, {"jessie", "8"}, {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
	{"trixie", "13"}, {"forky", "14"},
};

struct deb_ctx {
	const struct oval_src *src;
	struct vuln_sink *sink;
	const struct oval_def *def;
};

static int deb_leaf(void *vctx, const struct oval_leaf *lf)
{
	struct deb_ctx *c = vctx;
	struct vuln v;
	oval_vuln_proto(&v, c->src, c->def);
	v.severity = (char *)"";
	v.normalized_severity = SEV_UNKNOWN;
	oval_vuln_leaf(&v, lf, "source");
	return c->sink->add(c->sink->ctx, &v);
}

static int deb_def(void *vctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct deb_ctx *c = vctx;
	c->def = def;
	return oval_def_leaves(doc, def, OVAL_PKG_DPKG, deb_leaf, c);
}

static int deb_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct deb_ctx c = {u->priv, sink, NULL};
	return oval_parse_file(path, deb_def, &c, d);
}

static int deb_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		      struct diag *d)
{
	(void)http;
	static const char *const defs[] = {"buster", "bullseye", "bookworm", "trixie"};
	const char *base = oval_cfg_str(cfg, "url", "https://www.debian.org/security/oval/");
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
		for (size_t k = 0; k < sizeof(debian_rel) / sizeof(debian_rel[0]); k++)
			if (!strcmp(debian_rel[k].code, code))
				ver = debian_rel[k].ver;
		if (!ver) {
			rc = diag_fail(d, -EINVAL, "debian-oval: releases: unknown release %s", code);
			break;
		}
		char name[96], url[1024], version[96], pretty[128];
		snprintf(name, sizeof(name), "debian/updater/%s", code);
		snprintf(url, sizeof(url), "%s%soval-definitions-%s.xml", base, sep, code);
		snprintf(version, sizeof(version), "%s (%s)", ver, code);
		snprintf(pretty, sizeof(pretty), "Debian GNU/Linux %s (%s)", ver, code);
		rc = oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), deb_parse,
				   oval_src_new(name, OVAL_VENDOR_DEBIAN, "debian", "Debian GNU/Linux", version, code, ver, "",
						pretty),
				   d);
	}
	oval_cfg_strv_free(rels, nrels);
	return rc;
}

const struct updater_set updater_set_debian_oval = {"debian-oval", deb_expand};
