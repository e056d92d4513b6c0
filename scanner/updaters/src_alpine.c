/* src_alpine: Alpine secdb (claircore-spec §5.1), JSON (current) and YAML (pre-2020) forms.
 *
 * Config block updaters.config.alpine (all optional):
 *   url       base URL, default "https://secdb.alpinelinux.org/"; feeds are <url><release>/<repo>.json
 *   releases  list of releases, e.g. ["v3.18", "edge"]; when absent: discovered from the base
 *             URL's directory listing if an http client is given, else the default list
 *             v3.3 .. v3.22 and edge
 *   repos     list of repositories, default ["main", "community"]
 *   format    "json" (default) or "yaml": the file name suffix used in the URLs
 * Updater names: alpine-<repo>-<release>-updater (e.g. alpine-main-v3.18-updater).
 *
 * Every (package, fixed version, id) becomes one vuln: name = the id text as given (free text,
 * e.g. "CVE-2018-3639   XSA-263"), package {name, kind "source"}, fixed_in_version = the secfixes
 * key ("0" = not affected, kept as is), links https://security.alpinelinux.org/vuln/<id>,
 * severity Unknown, dist {did alpine, name "Alpine Linux", version_id "3.18" | "edge",
 * pretty_name "Alpine Linux v3.18" | "Alpine Linux edge"}. The release comes from the updater
 * (or, for an updater without one, from the file's distroversion). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

#define ALPINE_BASE "https://secdb.alpinelinux.org/"

struct alpine_priv {
	char *release; /* "v3.18" / "edge" */
	char *repo;
};

static void alpine_priv_free(void *p)
{
	struct alpine_priv *a = p;
	if (!a)
		return;
	free(a->release);
	free(a->repo);
	free(a);
}

struct alpine_ctx {
	const char *updater;
	const char *path;
	struct vuln_sink *sink;
	char version_id[64];
	char pretty[96];
	struct buf link;
};

static int alpine_set_release(struct alpine_ctx *c, const char *rel)
{
	if (!rel || !*rel)
		return -EINVAL;
	if (!strcmp(rel, "edge")) {
		snprintf(c->version_id, sizeof(c->version_id), "edge");
		snprintf(c->pretty, sizeof(c->pretty), "Alpine Linux edge");
		return 0;
	}
	const char *v = rel[0] == 'v' ? rel + 1 : rel;
	snprintf(c->version_id, sizeof(c->version_id), "%s", v);
	snprintf(c->pretty, sizeof(c->pretty), "Alpine Linux v%s", v);
	return 0;
}

static int alpine_emit(struct alpine_ctx *c, const char *pkg, const char *fixed, const char *id, struct diag *d)
{
	buf_reset(&c->link);
	if (buf_printf(&c->link, "https://security.alpinelinux.org/vuln/%s", id) < 0)
		return diag_fail(d, -ENOMEM, "out of memory");
	struct vuln v = {0};
	v.updater = (char *)c->updater;
	v.name = (char *)id;
	v.description = "";
	v.issued = "";
	v.links = c->link.data;
	v.severity = "";
	v.normalized_severity = SEV_UNKNOWN;
	v.pkg.name = (char *)pkg;
	v.pkg.kind = "source";
	v.dist.did = "alpine";
	v.dist.name = "Alpine Linux";
	v.dist.version_id = c->version_id;
	v.dist.pretty_name = c->pretty;
	v.fixed_in_version = (char *)fixed;
	int rc = c->sink->add(c->sink->ctx, &v);
	if (rc < 0)
		return diag_fail(d, rc, "%s: sink refused a vulnerability", c->path);
	return 0;
}

static int alpine_bad(const struct alpine_ctx *c, struct diag *d, size_t i, const char *what)
{
	return diag_fail(d, -EBADMSG, "%s: packages[%zu]: %s", c->path, i, what);
}

static int alpine_walk(struct alpine_ctx *c, json_t *root, struct diag *d)
{
	if (!json_is_object(root))
		return diag_fail(d, -EBADMSG, "%s: top level is not a mapping/object", c->path);
	json_t *pkgs = json_object_get(root, "packages");
	if (json_is_null(pkgs) || !pkgs)
		return 0; /* a release/repo without entries (e.g. v3.3 community) */
	if (!json_is_array(pkgs))
		return diag_fail(d, -EBADMSG, "%s: \"packages\" is not a list", c->path);
	size_t i;
	json_t *ent;
	json_array_foreach(pkgs, i, ent)
	{
		json_t *pkg = json_object_get(ent, "pkg");
		if (!json_is_object(pkg))
			return alpine_bad(c, d, i, "no \"pkg\" mapping");
		json_t *name = json_object_get(pkg, "name");
		if (!json_is_string(name) || !json_string_length(name))
			return alpine_bad(c, d, i, "pkg.name is not a string");
		json_t *fixes = json_object_get(pkg, "secfixes");
		if (!fixes || json_is_null(fixes))
			continue;
		if (!json_is_object(fixes))
			return alpine_bad(c, d, i, "pkg.secfixes is not a mapping");
		const char *fixed;
		json_t *ids;
		json_object_foreach(fixes, fixed, ids)
		{
			if (json_is_null(ids))
				continue;
			if (json_is_string(ids)) {
				int rc = alpine_emit(c, json_string_value(name), fixed, json_string_value(ids), d);
				if (rc < 0)
					return rc;
				continue;
			}
			if (!json_is_array(ids))
				return alpine_bad(c, d, i, "a secfixes entry is not a list of ids");
			size_t j;
			json_t *id;
			json_array_foreach(ids, j, id)
			{
				if (json_is_null(id))
					continue;
				if (!json_is_string(id))
					return alpine_bad(c, d, i, "a secfixes id is not a string");
				int rc = alpine_emit(c, json_string_value(name), fixed, json_string_value(id), d);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static int alpine_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	struct feed_reader r;
	struct buf data = BUF_INIT;
	json_t *root = NULL;
	struct alpine_ctx c = {.updater = u && u->name ? u->name : "", .path = path, .sink = sink};
	int rc = feed_reader_open(&r, path, d);
	if (rc < 0)
		return rc;
	rc = feed_reader_slurp(&r, FEED_MAX_DOC, &data, d);
	if (rc < 0)
		goto out;
	rc = feed_doc_parse(data.data, data.len, path, &root, d);
	if (rc < 0)
		goto out;
	const struct alpine_priv *p = u ? u->priv : NULL;
	const char *rel = p && p->release ? p->release : NULL;
	if (!rel && json_is_object(root))
		rel = json_string_value(json_object_get(root, "distroversion"));
	if (alpine_set_release(&c, rel) < 0) {
		rc = diag_fail(d, -EBADMSG, "%s: no release (updater has none, file has no distroversion)", path);
		goto out;
	}
	rc = alpine_walk(&c, root, d);
out:
	json_decref(root);
	buf_release(&data);
	buf_release(&c.link);
	feed_reader_close(&r);
	return rc;
}

static int alpine_add(const char *base, const char *rel, const char *repo, const char *fmt, struct updater_src **ret,
		      size_t *ret_n, struct diag *d)
{
	char name[256], url[2048];
	snprintf(name, sizeof(name), "alpine-%s-%s-updater", repo, rel);
	snprintf(url, sizeof(url), "%s%s%s/%s.%s", base, base[0] && base[strlen(base) - 1] == '/' ? "" : "/", rel, repo,
		 fmt);
	struct alpine_priv *p = calloc(1, sizeof(*p));
	if (!p || !(p->release = strdup(rel)) || !(p->repo = strdup(repo))) {
		alpine_priv_free(p);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	int rc = updater_src_push(ret, ret_n, name, url, alpine_parse, p, alpine_priv_free);
	if (rc < 0) {
		alpine_priv_free(p);
		return diag_fail(d, rc, "out of memory");
	}
	return 0;
}

static int alpine_rel_ok(const char *s)
{
	if (!strcmp(s, "edge"))
		return 1;
	if (s[0] != 'v' || !isdigit((unsigned char)s[1]))
		return 0;
	for (const char *p = s + 1; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return 0;
	return strchr(s, '.') != NULL && strlen(s) < 16;
}

/* Releases from an HTML directory listing: hrefs "v3.18/" and "edge/". */
static int alpine_discover(const char *base, const struct updater_http *http, json_t *out, struct diag *d)
{
	struct buf body;
	long status = 0;
	buf_init(&body, 4 << 20);
	int rc = http->get(http->ctx, base, &status, &body, d);
	if (rc == 0 && status != 200)
		rc = diag_fail(d, -EIO, "GET %s: status %ld", base, status);
	for (const char *p = rc == 0 ? body.data : NULL; p && (p = strstr(p, "href=\"")); p++) {
		p += 6;
		const char *e = strchr(p, '"');
		if (!e || e - p > 15 || e == p)
			continue;
		char rel[16];
		size_t l = (size_t)(e - p);
		memcpy(rel, p, l);
		rel[l] = 0;
		if (l && rel[l - 1] == '/')
			rel[l - 1] = 0;
		if (!alpine_rel_ok(rel))
			continue;
		if (json_array_append_new(out, json_string(rel)) < 0) {
			rc = diag_fail(d, -ENOMEM, "out of memory");
			break;
		}
	}
	buf_release(&body);
	return rc;
}

static int alpine_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
			 struct diag *d)
{
	const char *base = feed_cfg_str(cfg, "url", ALPINE_BASE);
	const char *fmt = feed_cfg_str(cfg, "format", "json");
	json_t *rels = cfg ? json_object_get(cfg, "releases") : NULL;
	json_t *repos = cfg ? json_object_get(cfg, "repos") : NULL;
	json_t *own_rels = NULL, *own_repos = NULL;
	int rc = 0;
	if (strcmp(fmt, "json") && strcmp(fmt, "yaml"))
		return diag_fail(d, -EINVAL, "updaters.config.alpine.format: want \"json\" or \"yaml\", got \"%s\"", fmt);
	if (rels && !json_is_array(rels))
		return diag_fail(d, -EINVAL, "updaters.config.alpine.releases: want a list of strings");
	if (repos && !json_is_array(repos))
		return diag_fail(d, -EINVAL, "updaters.config.alpine.repos: want a list of strings");
	if (!rels) {
		own_rels = json_array();
		if (!own_rels)
			return diag_fail(d, -ENOMEM, "out of memory");
		if (http && http->get) {
			struct diag dd = {{0}};
			if (alpine_discover(base, http, own_rels, &dd) < 0 || json_array_size(own_rels) == 0) {
				log_warn("updater/alpine", "release discovery failed, using the default list", "{s:s,s:s}",
					 "url", base, "error", dd.msg);
				json_array_clear(own_rels);
			}
		}
		if (json_array_size(own_rels) == 0) {
			char v[16];
			for (int m = 3; m <= 22; m++) {
				snprintf(v, sizeof(v), "v3.%d", m);
				json_array_append_new(own_rels, json_string(v));
			}
			json_array_append_new(own_rels, json_string("edge"));
		}
		rels = own_rels;
	}
	if (!repos) {
		own_repos = json_pack("[ss]", "main", "community");
		if (!own_repos) {
			json_decref(own_rels);
			return diag_fail(d, -ENOMEM, "out of memory");
		}
		repos = own_repos;
	}
	size_t i, j;
	json_t *rel, *repo;
	json_array_foreach(rels, i, rel)
	{
		if (!json_is_string(rel) || !alpine_rel_ok(json_string_value(rel))) {
			rc = diag_fail(d, -EINVAL, "updaters.config.alpine.releases[%zu]: want \"vMAJ.MIN\" or \"edge\"", i);
			goto out;
		}
		json_array_foreach(repos, j, repo)
		{
			if (!json_is_string(repo) || !json_string_length(repo) || strchr(json_string_value(repo), '/')) {
				rc = diag_fail(d, -EINVAL, "updaters.config.alpine.repos[%zu]: want a repository name", j);
				goto out;
			}
			rc = alpine_add(base, json_string_value(rel), json_string_value(repo), fmt, ret, ret_n, d);
			if (rc < 0)
				goto out;
		}
	}
out:
	json_decref(own_rels);
	json_decref(own_repos);
	return rc;
}

const struct updater_set updater_set_alpine = {"alpine", alpine_expand};
