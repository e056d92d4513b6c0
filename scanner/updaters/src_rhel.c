/* src_rhel: Red Hat OVAL (v2) updaters, claircore's OVAL-era rhel set (claircore-spec §5.6).
 *
 * Config (updaters.config.rhel):
 *   url:              base of the OVAL v2 tree, default "https://security.access.redhat.com/data/oval/v2/"
 *   releases:         major releases, default [6, 7, 8, 9]
 *   ignore_unpatched: true drops "cve" (unpatched) definitions (default false)
 *   urls:             {"RHEL8-rhel-8": "https://..."} per-updater URL override
 * Updaters: "RHEL<N>-rhel-<N>" fetching <url>RHEL<N>/rhel-<N>.oval.xml.bz2 (claircore's PULP_MANIFEST path
 * with '/'→'-' minus ".oval.xml.bz2"; the manifest itself is not read: offline default list).
 *
 * Vulns: one per (rpminfo leaf × enabled module × affected_cpe_list cpe); definitions of type
 * unaffected / none are skipped. name = title, repo {name = the cpe, key "rhel-cpe-repository"},
 * dist = RHEL N as the rhel distribution scanner reports it (cpe in 2.3 form). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/updaters/oval/oval_common.h"

struct rhel_ctx {
	const struct oval_src *src;
	struct vuln_sink *sink;
	const struct oval_def *def;
};

static int rhel_leaf(void *vctx, const struct oval_leaf *lf)
{
	struct rhel_ctx *c = vctx;
	struct vuln v;
	oval_vuln_proto(&v, c->src, c->def);
	oval_vuln_leaf(&v, lf, "binary");
	v.repo.key = (char *)"rhel-cpe-repository";
	for (size_t i = 0; i < c->def->ncpes; i++) {
		if (!c->def->cpes[i][0])
			continue;
		v.repo.name = c->def->cpes[i];
		int rc = c->sink->add(c->sink->ctx, &v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int rhel_cpe_ok(const char *s)
{
	return !strncmp(s, "cpe:/", 5) || !strncmp(s, "cpe:2.3:", 8);
}

static int rhel_def(void *vctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct rhel_ctx *c = vctx;
	char type[32];
	oval_def_type(def->id, type, sizeof(type));
	if (!strcmp(type, "unaffected") || !strcmp(type, "none"))
		return 0;
	if (c->src->ignore_unpatched && !strcmp(type, "cve"))
		return 0;
	for (size_t i = 0; i < def->ncpes; i++)
		if (def->cpes[i][0] && !rhel_cpe_ok(def->cpes[i]))
			return 0; /* claircore: a CPE that does not unbind drops the definition */
	c->def = def;
	return oval_def_leaves(doc, def, OVAL_PKG_RPM, rhel_leaf, c);
}

static int rhel_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct rhel_ctx c = {u->priv, sink, NULL};
	int rc = oval_parse_file(path, rhel_def, &c, d);
	if (rc < 0 && rc != -EBADMSG && rc != -ENOMEM)
		diag_prefix(d, "%s", u->name);
	return rc;
}

static int rhel_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		       struct diag *d)
{
	(void)http;
	const char *base = oval_cfg_str(cfg, "url", "https://security.access.redhat.com/data/oval/v2/");
	int ignore = oval_cfg_bool(cfg, "ignore_unpatched", 0);
	char **rels = NULL;
	size_t nrels = 0;
	static const char *const defrels[] = {"6", "7", "8", "9"};
	int rc = oval_cfg_list(cfg, "releases", &rels, &nrels, d);
	if (rc < 0)
		return rc;
	size_t n = nrels ? nrels : 4;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *r = nrels ? rels[i] : defrels[i];
		char *end = NULL;
		long maj = strtol(r, &end, 10);
		if (!r[0] || *end || maj < 1 || maj > 99) {
			rc = diag_fail(d, -EINVAL, "rhel: releases: %s is not a major release number", r);
			break;
		}
		char name[64], url[1024], cpe[96], pretty[96], ver[8];
		snprintf(ver, sizeof(ver), "%ld", maj);
		snprintf(name, sizeof(name), "RHEL%ld-rhel-%ld", maj, maj);
		snprintf(url, sizeof(url), "%s%sRHEL%ld/rhel-%ld.oval.xml.bz2", base,
			 base[0] && base[strlen(base) - 1] == '/' ? "" : "/", maj, maj);
		snprintf(cpe, sizeof(cpe), "cpe:2.3:o:redhat:enterprise_linux:%ld:*:*:*:*:*:*:*", maj);
		snprintf(pretty, sizeof(pretty), "Red Hat Enterprise Linux Server %ld", maj);
		struct oval_src *p = oval_src_new(name, OVAL_VENDOR_RHEL, "rhel", "Red Hat Enterprise Linux Server", ver,
						  "", ver, cpe, pretty);
		if (p)
			p->ignore_unpatched = ignore;
		rc = oval_src_push(ret, ret_n, name, oval_cfg_url(cfg, name, url), rhel_parse, p, d);
	}
	oval_cfg_strv_free(rels, nrels);
	return rc;
}

const struct updater_set updater_set_rhel = {"rhel", rhel_expand};
