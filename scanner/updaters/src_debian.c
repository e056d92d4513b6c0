/* src_debian: Debian security tracker JSON (claircore-spec §5.3, current claircore updater).
 *
 * Config block updaters.config.debian (all optional):
 *   url         the tracker JSON, default "https://security-tracker.debian.org/tracker/data/json"
 *               (claircore's key "json_url" is accepted too)
 *   mirror_url  the archive used for release discovery, default "https://deb.debian.org/debian/"
 *   releases    object codename -> major version, e.g. {"bookworm": "12", "trixie": "13"};
 *               when absent: discovered from <mirror_url>dists/ + dists/<name>/Release if an
 *               http client is given (falling back to the built-in table on failure), else the
 *               built-in table wheezy 7 .. trixie 13
 * One updater, "debian/updater", for all releases.
 *
 * Every (source package, CVE, known codename) becomes one vuln: name = the id, description,
 * links https://security-tracker.debian.org/tracker/<id>, severity = urgency as written,
 * normalized_severity per the shifted table (unimportant Low, low Medium, medium High, high
 * Critical, anything else - including "high**" and "not yet assigned" - Unknown; exactly
 * claircore), package {source name, kind "source"}, fixed_in_version = fixed_version ("" when
 * absent = still vulnerable; "0" = not affected), dist {did debian, name "Debian GNU/Linux",
 * version_id "12", version "12 (bookworm)", version_code_name bookworm, pretty_name
 * "Debian GNU/Linux 12 (bookworm)"} as the debian distribution scanner emits it. Codenames not
 * in the release table (sid, unreleased) are skipped; "releases": [] (seen in real data) means
 * none. The tracker JSON is streamed one source package at a time. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

#define DEBIAN_JSON "https://security-tracker.debian.org/tracker/data/json"
#define DEBIAN_MIRROR "https://deb.debian.org/debian/"

static const char *const debian_default[][2] = {
	{"wheezy", "7"},   {"jessie", "8"},    {"stretch", "9"}, {"buster", "10"},
	{"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"},
};

struct debian_priv {
	json_t *releases; /* codename -> "N" */
};

static void debian_priv_free(void *p)
{
	struct debian_priv *dp = p;
	if (!dp)
		return;
	json_decref(dp->releases);
	free(dp);
}

struct debian_ctx {
	const char *updater;
	const char *path;
	json_t *releases;
	struct vuln_sink *sink;
	struct buf link;
};

static int debian_bad(const struct debian_ctx *c, struct diag *d, const char *pkg, const char *id, const char *why)
{
	return diag_fail(d, -EBADMSG, "%s: package \"%.64s\"%s%.64s%s: %s", c->path, pkg, id ? " \"" : "", id ? id : "",
			 id ? "\"" : "", why);
}

static int debian_member(void *ctx, const char *pkg, json_t *vulns, struct diag *d)
{
	struct debian_ctx *c = ctx;
	if (!json_is_object(vulns))
		return debian_bad(c, d, pkg, NULL, "not an object of vulnerabilities");
	const char *id;
	json_t *vd;
	json_object_foreach(vulns, id, vd)
	{
		if (!json_is_object(vd))
			return debian_bad(c, d, pkg, id, "not an object");
		json_t *desc = json_object_get(vd, "description");
		if (desc && !json_is_string(desc) && !json_is_null(desc))
			return debian_bad(c, d, pkg, id, "description is not a string");
		json_t *rels = json_object_get(vd, "releases");
		if (!rels || json_is_null(rels) || (json_is_array(rels) && json_array_size(rels) == 0))
			continue;
		if (!json_is_object(rels))
			return debian_bad(c, d, pkg, id, "releases is not an object");
		buf_reset(&c->link);
		if (buf_printf(&c->link, "https://security-tracker.debian.org/tracker/%s", id) < 0)
			return diag_fail(d, -ENOMEM, "out of memory");
		const char *code;
		json_t *rd;
		json_object_foreach(rels, code, rd)
		{
			if (!json_is_object(rd))
				return debian_bad(c, d, pkg, id, "a release entry is not an object");
			const char *num = json_string_value(json_object_get(c->releases, code));
			if (!num)
				continue;
			json_t *fv = json_object_get(rd, "fixed_version"), *urg = json_object_get(rd, "urgency");
			if ((fv && !json_is_string(fv) && !json_is_null(fv)) || (urg && !json_is_string(urg) && !json_is_null(urg)))
				return debian_bad(c, d, pkg, id, "fixed_version / urgency is not a string");
			char version[96], pretty[128];
			snprintf(version, sizeof(version), "%s (%s)", num, code);
			snprintf(pretty, sizeof(pretty), "Debian GNU/Linux %s (%s)", num, code);
			struct vuln v = {0};
			v.updater = (char *)c->updater;
			v.name = (char *)id;
			v.description = (char *)(json_string_value(desc) ? json_string_value(desc) : "");
			v.issued = "";
			v.links = c->link.data;
			v.severity = (char *)(json_string_value(urg) ? json_string_value(urg) : "");
			v.normalized_severity = feed_sev_debian(v.severity);
			v.pkg.name = (char *)pkg;
			v.pkg.kind = "source";
			v.dist.did = "debian";
			v.dist.name = "Debian GNU/Linux";
			v.dist.version = version;
			v.dist.version_code_name = (char *)code;
			v.dist.version_id = (char *)num;
			v.dist.pretty_name = pretty;
			v.fixed_in_version = (char *)(json_string_value(fv) ? json_string_value(fv) : "");
			int rc = c->sink->add(c->sink->ctx, &v);
			if (rc < 0)
				return diag_fail(d, rc, "%s: sink refused a vulnerability", c->path);
		}
	}
	return 0;
}

static json_t *debian_default_table(void)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < sizeof(debian_default) / sizeof(debian_default[0]); i++)
		if (json_object_set_new(o, debian_default[i][0], json_string(debian_default[i][1])) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static int debian_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	const struct debian_priv *p = u ? u->priv : NULL;
	struct debian_ctx c = {.updater = u && u->name ? u->name : "debian/updater", .path = path, .sink = sink};
	json_t *own = NULL;
	if (p && p->releases)
		c.releases = p->releases;
	else if (!(c.releases = own = debian_default_table()))
		return diag_fail(d, -ENOMEM, "out of memory");
	struct feed_reader r;
	int rc = feed_reader_open(&r, path, d);
	if (rc == 0) {
		rc = feed_json_object_each(&r, debian_member, &c, d);
		feed_reader_close(&r);
	}
	buf_release(&c.link);
	json_decref(own);
	return rc;
}

/* dists/ listing -> codename -> major version from each Release file's "Version:" line. */
static int debian_discover(const char *mirror, const struct updater_http *http, json_t *out, struct diag *d)
{
	static const char *const skip[] = {"-", "Debian", "sid", "stable", "testing", "experimental", "README",
					   "updates", "backports"};
	char url[2048];
	struct buf body, rel;
	long status = 0;
	buf_init(&body, 4 << 20);
	buf_init(&rel, 4 << 20);
	snprintf(url, sizeof(url), "%sdists/", mirror);
	int rc = http->get(http->ctx, url, &status, &body, d);
	if (rc == 0 && status != 200)
		rc = diag_fail(d, -EIO, "GET %s: status %ld", url, status);
	for (const char *p = rc == 0 ? body.data : NULL; p && (p = strstr(p, "href=\"")); p++) {
		p += 6;
		const char *e = strchr(p, '"');
		if (!e || e == p || e - p > 40)
			continue;
		char name[48];
		size_t l = (size_t)(e - p);
		memcpy(name, p, l);
		name[l] = 0;
		if (name[l - 1] == '/')
			name[--l] = 0;
		int bad = l == 0;
		for (size_t i = 0; !bad && i < sizeof(skip) / sizeof(skip[0]); i++)
			bad = strstr(name, skip[i]) != NULL;
		for (size_t i = 0; !bad && i < l; i++)
			bad = !islower((unsigned char)name[i]);
		if (bad)
			continue;
		snprintf(url, sizeof(url), "%sdists/%s/Release", mirror, name);
		buf_reset(&rel);
		status = 0;
		struct diag dd = {{0}};
		if (http->get(http->ctx, url, &status, &rel, &dd) < 0 || status != 200 || !rel.data)
			continue;
		const char *v = strstr(rel.data, "\nVersion:");
		if (!v)
			continue;
		v += 9;
		while (*v == ' ')
			v++;
		char num[16];
		size_t n = 0;
		while (isdigit((unsigned char)v[n]) && n < sizeof(num) - 1) {
			num[n] = v[n];
			n++;
		}
		num[n] = 0;
		if (n == 0 || v[n] != '.')
			continue;
		if (json_object_set_new(out, name, json_string(num)) < 0) {
			rc = diag_fail(d, -ENOMEM, "out of memory");
			break;
		}
	}
	buf_release(&body);
	buf_release(&rel);
	return rc;
}

static int debian_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
			 struct diag *d)
{
	const char *url = feed_cfg_str(cfg, "url", feed_cfg_str(cfg, "json_url", DEBIAN_JSON));
	const char *mirror = feed_cfg_str(cfg, "mirror_url", DEBIAN_MIRROR);
	json_t *rels = cfg ? json_object_get(cfg, "releases") : NULL;
	struct debian_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return diag_fail(d, -ENOMEM, "out of memory");
	if (rels) {
		const char *k;
		json_t *v;
		if (!json_is_object(rels)) {
			debian_priv_free(p);
			return diag_fail(d, -EINVAL, "updaters.config.debian.releases: want an object codename -> version");
		}
		json_object_foreach(rels, k, v) if (!json_is_string(v) || !json_string_length(v))
		{
			debian_priv_free(p);
			return diag_fail(d, -EINVAL, "updaters.config.debian.releases.%s: want a version string", k);
		}
		p->releases = json_deep_copy(rels);
	} else if (http && http->get) {
		struct diag dd = {{0}};
		p->releases = json_object();
		if (p->releases && (debian_discover(mirror, http, p->releases, &dd) < 0 || json_object_size(p->releases) == 0)) {
			log_warn("updater/debian", "release discovery failed, using the built-in table", "{s:s,s:s}", "mirror",
				 mirror, "error", dd.msg);
			json_decref(p->releases);
			p->releases = debian_default_table();
		}
	} else {
		p->releases = debian_default_table();
	}
	if (!p->releases) {
		debian_priv_free(p);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	int rc = updater_src_push(ret, ret_n, "debian/updater", url, debian_parse, p, debian_priv_free);
	if (rc < 0) {
		debian_priv_free(p);
		return diag_fail(d, rc, "out of memory");
	}
	return 0;
}

const struct updater_set updater_set_debian = {"debian", debian_expand};
