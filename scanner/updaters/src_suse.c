/* src_suse: SUSE / openSUSE OVAL updaters (claircore-spec §5.8).
 *
 * Config (updaters.config.suse):
 *   url:      base of the OVAL directory, default "https://ftp.suse.com/pub/projects/security/oval/"
 *   products: list of file stems, default ["suse.linux.enterprise.server.12", "suse.linux.enterprise.server.15",
 *             "opensuse.leap.15.5", "opensuse.leap.15.6"] (the index page is not read: offline list)
 *   urls:     {"suse-updater-suse.linux.enterprise.server.15": "https://..."} per-updater URL override
 * Updaters: "suse-updater-<stem>" (claircore: lower-cased pretty name, spaces → '.') fetching <url><stem>.xml.gz.
 *
 * Vulns: one per rpminfo leaf (state with evr): name = title, description, links, severity (SUSE table),
 * no issued date; package kind "binary" with arch / arch_op; dist SLES N {did sles, name SLES, version N,
 * version_id N, pretty "SUSE Linux Enterprise Server N"} or Leap X.Y {did opensuse-leap, name "openSUSE Leap",
 * version X.Y, version_id X.Y, pretty "openSUSE Leap X.Y"}. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/updaters/oval/oval_common.h"

struct suse_ctx {
	const struct oval_src *src;
	struct vuln_sink *sink;
	const struct oval_def *def;
};

static int suse_leaf(void *vctx, const struct oval_leaf *lf)
{
	struct suse_ctx *c = vctx;
	struct vuln v;
	oval_vuln_proto(&v, c->src, c->def);
	v.issued = (char *)"";
	oval_vuln_leaf(&v, lf, "binary");
	return c->sink->add(c->sink->ctx, &v);
}

static int suse_def(void *vctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct suse_ctx *c = vctx;
	c->def = def;
	return oval_def_leaves(doc, def, OVAL_PKG_RPM, suse_leaf, c);
}

static int suse_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct suse_ctx c = {u->priv, sink, NULL};
	return oval_parse_file(path, suse_def, &c, d);
}

/* "suse.linux.enterprise.server.15" → SLES 15; "opensuse.leap.15.5" → Leap 15.5. */
static struct oval_src *suse_src(const char *stem, const char *name)
{
	char ver[32], pretty[96];
	static const char sles[] = "suse.linux.enterprise.server.", leap[] = "opensuse.leap.";
	if (!strncmp(stem, sles, sizeof(sles) - 1)) {
		const char *v = stem + sizeof(sles) - 1;
		if (!v[0] || strlen(v) > 8 || strspn(v, "0123456789") != strlen(v))
			return NULL;
		snprintf(ver, sizeof(ver), "%s", v);
		snprintf(pretty, sizeof(pretty), "SUSE Linux Enterprise Server %s", ver);
		return oval_src_new(name, OVAL_VENDOR_SUSE, "sles", "SLES", ver, "", ver, "", pretty);
	}
	if (!strncmp(stem, leap, sizeof(leap) - 1)) {
		const char *v = stem + sizeof(leap) - 1;
		if (!v[0] || strlen(v) > 8 || strspn(v, "0123456789.") != strlen(v))
			return NULL;
		snprintf(ver, sizeof(ver), "%s", v);
		snprintf(pretty, sizeof(pretty), "openSUSE Leap %s", ver);
		return oval_src_new(name, OVAL_VENDOR_SUSE, "opensuse-leap", "openSUSE Leap", ver, "", ver, "", pretty);
	}
	return NULL;
}

static int suse_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		       struct diag *d)
{
	(void)http;
	static const char *const defs[] = {"suse.linux.enterprise.server.12", "suse.linux.enterprise.server.15",
					   "opensuse.leap.15.5", "opensuse.leap.15.6"};
	const char *base = oval_cfg_str(cfg, "url", "https://ftp.suse.com/pub/projects/security/oval/");
	const char *sep = base[0] && base[strlen(base) - 1] == '/' ? "" : "/";
	char **prods = NULL;
	size_t nprods = 0;
	int rc = oval_cfg_list(cfg, "products", &prods, &nprods, d);
	if (rc < 0)
		return rc;
	size_t n = nprods ? nprods : sizeof(defs) / sizeof(defs[0]);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *stem = nprods ? prods[i] : defs[i];
		char name[160], url[1024];
		snprintf(name, sizeof(name), "suse-updater-%s", stem);
		for (char *p = name; *p; p++)
			*p = *p == ' ' ? '.' : (char)tolower((unsigned char)*p);
		struct oval_src *s = suse_src(name + 13, name);
		if (!s) {
			rc = diag_fail(d, -EINVAL, "suse: products: %s is not suse.linux.enterprise.server.N or opensuse.leap.X.Y",
				       stem);
			break;
		}
		snprintf(url, sizeof(url), "%s%s%s.xml.gz", base, sep, name + 13);
		rc = oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), suse_parse, s, d);
	}
	oval_cfg_strv_free(prods, nprods);
	return rc;
}

const struct updater_set updater_set_suse = {"suse", suse_expand};
