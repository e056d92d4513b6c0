/* feeds_test: the alpine, aws, debian, pyupio and osv updater sets on the real samples under
 * $SHARED_DIR/testdata/feeds (read in place), counts cross-checked with python3 (json,
 * xml.etree, yaml), the worked examples in testdata/expected, severity tables, malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/matcher/version/version.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

static const char *shared(void)
{
	const char *s = getenv("SHARED_DIR");
	return s && *s ? s : NULL;
}

#define NEED_SHARED()                                                                                              \
	do {                                                                                                       \
		if (!shared()) {                                                                                   \
			print_message("SKIP: SHARED_DIR is unset, real feed samples unavailable\n");               \
			skip();                                                                                    \
		}                                                                                                  \
	} while (0)

static void feed_path(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/testdata/%s", shared(), rel);
}

static const char *tmpdir(void)
{
	const char *t = getenv("TEST_TMPDIR");
	return t && *t ? t : "/tmp";
}

/* Runs a shell command, returns its stdout's first line as a number (-1 on failure). */
static long py_count(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[64] = "";
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	int st = pclose(f);
	if (st != 0 || !line[0])
		return -1;
	return strtol(line, NULL, 10);
}

static struct updater_src *expand_one(const struct updater_set *set, const char *cfgjson, const char *want_name)
{
	json_error_t je;
	json_t *cfg = cfgjson ? json_loads(cfgjson, 0, &je) : NULL;
	struct updater_src *arr = NULL, *ret = NULL;
	size_t n = 0;
	struct diag d = {{0}};
	assert_int_equal(set->expand(cfg, NULL, &arr, &n, &d), 0);
	for (size_t i = 0; i < n; i++) {
		if (!ret && !strcmp(arr[i].name, want_name)) {
			ret = malloc(sizeof(*ret));
			*ret = arr[i];
		} else {
			updater_src_release(&arr[i]);
		}
	}
	free(arr);
	json_decref(cfg);
	assert_non_null(ret);
	return ret;
}

static void src_free(struct updater_src *u)
{
	updater_src_release(u);
	free(u);
}

static int parse_into(const struct updater_src *u, const char *path, struct vuln_list *l, struct diag *d)
{
	struct vuln_sink sink = {vuln_sink_list_add, l};
	return u->parse(u, path, &sink, d);
}

static const struct vuln *find(const struct vuln_list *l, const char *pkg, const char *name, const char *fixed)
{
	for (size_t i = 0; i < l->n; i++)
		if ((!pkg || !strcmp(l->v[i].pkg.name, pkg)) && (!name || !strcmp(l->v[i].name, name)) &&
		    (!fixed || !strcmp(l->v[i].fixed_in_version, fixed)))
			return &l->v[i];
	return NULL;
}

/* ---- alpine ---------------------------------------------------------------------------- */

static void alpine_one(const char *rel, const char *repo, const char *file, const char *fmt)
{
	char path[1024], cfg[256], name[128];
	feed_path(path, sizeof(path), file);
	snprintf(cfg, sizeof(cfg), "{\"releases\":[\"%s\"],\"repos\":[\"%s\"]}", rel, repo);
	snprintf(name, sizeof(name), "alpine-%s-%s-updater", repo, rel);
	struct updater_src *u = expand_one(&updater_set_alpine, cfg, name);
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, path, &l, &d);
	if (rc)
		print_error("%s\n", d.msg);
	assert_int_equal(rc, 0);
	long want = py_count("python3 -c 'import %s,sys; d=%s(open(sys.argv[1])); "
			     "print(sum(len([i for i in (v or []) if i is not None]) for p in (d.get(\"packages\") or []) "
			     "for k,v in (p[\"pkg\"].get(\"secfixes\") or {}).items()))' '%s'",
			     fmt, !strcmp(fmt, "yaml") ? "yaml.safe_load" : "json.load", path);
	assert_true(want >= 0);
	assert_int_equal((long)l.n, want);
	char vid[16], pretty[40];
	snprintf(vid, sizeof(vid), "%s", !strcmp(rel, "edge") ? "edge" : rel + 1);
	snprintf(pretty, sizeof(pretty), "Alpine Linux %s", rel);
	for (size_t i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].updater, name);
		assert_string_equal(l.v[i].pkg.kind, "source");
		assert_string_equal(l.v[i].dist.did, "alpine");
		assert_string_equal(l.v[i].dist.name, "Alpine Linux");
		assert_string_equal(l.v[i].dist.version_id, vid);
		assert_string_equal(l.v[i].dist.pretty_name, pretty);
		assert_int_equal(l.v[i].normalized_severity, SEV_UNKNOWN);
		assert_true(strncmp(l.v[i].links, "https://security.alpinelinux.org/vuln/", 38) == 0);
		assert_string_equal(l.v[i].links + 38, l.v[i].name);
	}
	vuln_list_release(&l);
	src_free(u);
}

static void test_alpine_samples(void **state)
{
	(void)state;
	NEED_SHARED();
	for (int m = 3; m <= 9; m++) {
		char rel[8], f[128];
		snprintf(rel, sizeof(rel), "v3.%d", m);
		snprintf(f, sizeof(f), "feeds/alpine/secdb-yaml/%s/main.yaml", rel);
		alpine_one(rel, "main", f, "yaml");
		snprintf(f, sizeof(f), "feeds/alpine/secdb-yaml/%s/community.yaml", rel);
		alpine_one(rel, "community", f, "yaml");
	}
	alpine_one("v3.10", "community", "feeds/alpine/secdb-json/v3.10-community.truncated.json", "json");
	alpine_one("v3.15", "main", "feeds/alpine/secdb-json/v3.15-main.truncated.json", "json");
	alpine_one("v3.16", "main", "feeds/alpine/secdb-json/v3.16-main.excerpt.json", "json");
	alpine_one("edge", "community", "feeds/alpine/secdb-json/edge-community.excerpt.json", "json");
}

static void test_alpine_records(void **state)
{
	(void)state;
	NEED_SHARED();
	char path[1024];
	struct diag d = {{0}};
	struct vuln_list l = {0};
	struct updater_src *u = expand_one(&updater_set_alpine, "{\"releases\":[\"v3.15\"]}", "alpine-main-v3.15-updater");
	assert_string_equal(u->url, "https://secdb.alpinelinux.org/v3.15/main.json");
	feed_path(path, sizeof(path), "feeds/alpine/secdb-json/v3.15-main.truncated.json");
	assert_int_equal(parse_into(u, path, &l, &d), 0);
	const struct vuln *v = find(&l, "busybox", "CVE-2021-42376", NULL);
	assert_non_null(v);
	assert_string_equal(v->fixed_in_version, "0");
	v = find(&l, "bash", "CVE-2016-0634", NULL);
	assert_non_null(v);
	assert_string_equal(v->fixed_in_version, "4.4.12-r1");
	assert_string_equal(v->links, "https://security.alpinelinux.org/vuln/CVE-2016-0634");
	vuln_list_release(&l);
	src_free(u);

	/* free-text ids stay as written */
	u = expand_one(&updater_set_alpine, "{\"releases\":[\"v3.8\"],\"format\":\"yaml\"}", "alpine-main-v3.8-updater");
	assert_string_equal(u->url, "https://secdb.alpinelinux.org/v3.8/main.yaml");
	feed_path(path, sizeof(path), "feeds/alpine/secdb-yaml/v3.8/main.yaml");
	assert_int_equal(parse_into(u, path, &l, &d), 0);
	long spaced = py_count("python3 -c 'import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); "
			       "print(sum(1 for p in d[\"packages\"] for v in (p[\"pkg\"].get(\"secfixes\") or {}).values() "
			       "for i in (v or []) if \" \" in str(i)))' '%s'",
			       path);
	size_t ours = 0;
	for (size_t i = 0; i < l.n; i++)
		ours += strchr(l.v[i].name, ' ') != NULL;
	assert_true(spaced > 0);
	assert_int_equal((long)ours, spaced);
	vuln_list_release(&l);
	src_free(u);
}

static void alpine_expected(const char *tsv, const char *rel)
{
	char path[1024];
	struct vuln_list l = {0};
	struct diag d = {{0}};
	const char *repos[] = {"main", "community"};
	for (int i = 0; i < 2; i++) {
		char cfg[128], name[64], f[128];
		snprintf(cfg, sizeof(cfg), "{\"releases\":[\"%s\"]}", rel);
		snprintf(name, sizeof(name), "alpine-%s-%s-updater", repos[i], rel);
		snprintf(f, sizeof(f), "feeds/alpine/secdb-yaml/%s/%s.yaml", rel, repos[i]);
		feed_path(path, sizeof(path), f);
		struct updater_src *u = expand_one(&updater_set_alpine, cfg, name);
		assert_int_equal(parse_into(u, path, &l, &d), 0);
		src_free(u);
	}
	feed_path(path, sizeof(path), tsv);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		char *col[8] = {0};
		char *p = line;
		line[strcspn(line, "\n")] = 0;
		for (int c = 0; c < 7; c++) {
			col[c] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		assert_non_null(col[6]);
		const char *vname = !strcmp(col[5], "name") ? col[0] : col[2];
		const struct vuln *v = find(&l, vname, col[3], col[4]);
		if (!v)
			print_error("missing %s %s %s\n", vname, col[3], col[4]);
		assert_non_null(v);
		assert_string_equal(v->pkg.kind, "source");
		assert_true(version_apk_cmp(col[1], v->fixed_in_version) < 0);
		n++;
	}
	fclose(f);
	assert_true(n > 50);
	vuln_list_release(&l);
}

static void test_alpine_expected(void **state)
{
	(void)state;
	NEED_SHARED();
	alpine_expected("expected/alpine/shared-secdb-v3.4__alpine-3.4.installed.expected.tsv", "v3.4");
	alpine_expected("expected/alpine/shared-secdb-v3.8__v3.8-probe1.expected.tsv", "v3.8");
}

static void test_alpine_expand(void **state)
{
	(void)state;
	struct updater_src *arr = NULL;
	size_t n = 0;
	struct diag d = {{0}};
	assert_int_equal(updater_set_alpine.expand(NULL, NULL, &arr, &n, &d), 0);
	assert_int_equal(n, 21 * 2);
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(arr[i].name, "alpine-main-v3.18-updater")) {
			assert_string_equal(arr[i].url, "https://secdb.alpinelinux.org/v3.18/main.json");
			found++;
		}
		if (!strcmp(arr[i].name, "alpine-community-edge-updater"))
			found++;
		updater_src_release(&arr[i]);
	}
	free(arr);
	assert_int_equal(found, 2);
	json_t *cfg = json_pack("{s:s,s:[s]}", "url", "http://mirror.local/secdb", "releases", "bad");
	arr = NULL;
	n = 0;
	assert_int_equal(updater_set_alpine.expand(cfg, NULL, &arr, &n, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "releases[0]"));
	for (size_t i = 0; i < n; i++)
		updater_src_release(&arr[i]);
	free(arr);
	json_decref(cfg);
	struct updater_src *u = expand_one(&updater_set_alpine, "{\"url\":\"http://mirror.local/secdb\",\"releases\":[\"v3.9\"]}",
					   "alpine-community-v3.9-updater");
	assert_string_equal(u->url, "http://mirror.local/secdb/v3.9/community.json");
	src_free(u);
}

/* A fake http client: url -> body table. */
struct fake_http {
	const char *const (*map)[2];
	size_t n;
	int calls;
};

static int fake_get(void *ctx, const char *url, long *status, struct buf *body, struct diag *d)
{
	(void)d;
	struct fake_http *h = ctx;
	h->calls++;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->map[i][0], url)) {
			*status = 200;
			if (h->map[i][1][0] == '@') {
				FILE *f = fopen(h->map[i][1] + 1, "r");
				char tmp[4096];
				size_t k;
				while (f && (k = fread(tmp, 1, sizeof(tmp), f)) > 0)
					buf_append(body, tmp, k);
				if (f)
					fclose(f);
			} else {
				buf_puts(body, h->map[i][1]);
			}
			return 0;
		}
	*status = 404;
	return 0;
}

static void test_discovery(void **state)
{
	(void)state;
	static const char *const alp[][2] = {
		{"https://secdb.alpinelinux.org/",
		 "<a href=\"../\">../</a><a href=\"edge/\">edge/</a><a href=\"v3.17/\">v3.17/</a><a href=\"v3.18/\">x</a>"
		 "<a href=\"last-update\">last-update</a>"},
	};
	struct fake_http fh = {alp, 1, 0};
	struct updater_http http = {fake_get, &fh};
	struct updater_src *arr = NULL;
	size_t n = 0;
	struct diag d = {{0}};
	assert_int_equal(updater_set_alpine.expand(NULL, &http, &arr, &n, &d), 0);
	assert_int_equal(n, 6);
	assert_string_equal(arr[0].name, "alpine-main-edge-updater");
	assert_string_equal(arr[5].name, "alpine-community-v3.18-updater");
	for (size_t i = 0; i < n; i++)
		updater_src_release(&arr[i]);
	free(arr);

	static const char *const deb[][2] = {
		{"https://deb.debian.org/debian/dists/",
		 "<a href=\"bookworm/\">bookworm/</a><a href=\"bookworm-updates/\">x</a><a href=\"sid/\">sid</a>"
		 "<a href=\"stable/\">stable</a><a href=\"trixie/\">trixie/</a><a href=\"forky/\">forky/</a>"},
		{"https://deb.debian.org/debian/dists/bookworm/Release", "Origin: Debian\nVersion: 12.7\nCodename: bookworm\n"},
		{"https://deb.debian.org/debian/dists/trixie/Release", "Origin: Debian\nVersion: 13.1\n"},
		{"https://deb.debian.org/debian/dists/forky/Release", "Origin: Debian\nSuite: testing\n"},
	};
	struct fake_http fd = {deb, 4, 0};
	http.ctx = &fd;
	arr = NULL;
	n = 0;
	assert_int_equal(updater_set_debian.expand(NULL, &http, &arr, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(arr[0].name, "debian/updater");
	assert_string_equal(arr[0].url, "https://security-tracker.debian.org/tracker/data/json");
	/* parse a tiny tracker file: only the discovered codenames yield vulns */
	char p[1024];
	snprintf(p, sizeof(p), "%s/deb-disc.json", tmpdir());
	FILE *f = fopen(p, "w");
	fputs("{\"openssl\":{\"CVE-1\":{\"description\":\"x\",\"releases\":{\"bookworm\":{\"status\":\"open\",\"urgency\":\"low\"},"
	      "\"trixie\":{\"fixed_version\":\"3.0\",\"urgency\":\"unimportant\"},\"bullseye\":{\"fixed_version\":\"1\"},"
	      "\"sid\":{\"fixed_version\":\"3.0\"}}}}}",
	      f);
	fclose(f);
	struct vuln_list l = {0};
	assert_int_equal(parse_into(&arr[0], p, &l, &d), 0);
	assert_int_equal(l.n, 2);
	const struct vuln *v = find(&l, "openssl", "CVE-1", "");
	assert_non_null(v);
	assert_string_equal(v->dist.version_code_name, "bookworm");
	assert_string_equal(v->dist.version_id, "12");
	assert_int_equal(v->normalized_severity, SEV_MEDIUM);
	vuln_list_release(&l);
	updater_src_release(&arr[0]);
	free(arr);

	char repomd[1024];
	feed_path(repomd, sizeof(repomd), "feeds/aws/repomd.xml");
	char at[1100];
	snprintf(at, sizeof(at), "@%s", repomd);
	const char *const aws[][2] = {
		{"https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list", "https://cdn.amazonlinux.com/2/core/2.0/x86_64/abc\n"},
		{"https://cdn.amazonlinux.com/2/core/2.0/x86_64/abc/repodata/repomd.xml", shared() ? at : "<repomd/>"},
	};
	struct fake_http fa = {aws, 2, 0};
	http.ctx = &fa;
	arr = NULL;
	n = 0;
	json_t *acfg = json_pack("{s:[s]}", "releases", "AL2");
	assert_int_equal(updater_set_aws.expand(acfg, &http, &arr, &n, &d), 0);
	json_decref(acfg);
	assert_int_equal(n, 1);
	assert_string_equal(arr[0].name, "aws-AL2-updater");
	assert_string_equal(arr[0].url, "https://cdn.amazonlinux.com/2/core/2.0/x86_64/abc/repodata/updateinfo.xml.gz");
	updater_src_release(&arr[0]);
	free(arr);
}

/* ---- aws ------------------------------------------------------------------------------- */

static void aws_one(const char *rel, const char *file, int gz)
{
	char path[1024], cfg[512], name[64];
	feed_path(path, sizeof(path), file);
	snprintf(cfg, sizeof(cfg), "{\"urls\":{\"%s\":\"file://x\"}}", rel);
	snprintf(name, sizeof(name), "aws-%s-updater", rel);
	struct updater_src *u = expand_one(&updater_set_aws, cfg, name);
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, path, &l, &d);
	if (rc)
		print_error("%s\n", d.msg);
	assert_int_equal(rc, 0);
	long want = py_count("python3 -c 'import xml.etree.ElementTree as E,gzip,sys; "
			     "r=E.parse(%s(sys.argv[1])).getroot(); print(len(r.findall(\"update/pkglist/collection/package\")))' '%s'",
			     gz ? "gzip.open" : "open", path);
	assert_true(want > 0);
	assert_int_equal((long)l.n, want);
	/* the first package, independently */
	char first[512] = "";
	snprintf(cfg, sizeof(cfg),
		 "python3 -c 'import xml.etree.ElementTree as E,gzip,sys; r=E.parse(%s(sys.argv[1])).getroot(); "
		 "u=r.find(\"update\"); p=u.find(\"pkglist/collection/package\"); "
		 "print(u.findtext(\"id\")+\"|\"+p.get(\"name\")+\"|\"+(p.get(\"epoch\")+\":\" if p.get(\"epoch\")!=\"0\" else \"\")"
		 "+p.get(\"version\")+\"-\"+p.get(\"release\")+\"|\"+p.get(\"arch\")+\"|\"+u.findtext(\"severity\"))' '%s'",
		 gz ? "gzip.open" : "open", path);
	FILE *f = popen(cfg, "r");
	assert_non_null(f);
	assert_non_null(fgets(first, sizeof(first), f));
	pclose(f);
	first[strcspn(first, "\n")] = 0;
	char mine[512];
	snprintf(mine, sizeof(mine), "%s|%s|%s|%s|%s", l.v[0].name, l.v[0].pkg.name, l.v[0].fixed_in_version,
		 l.v[0].pkg.arch, l.v[0].severity);
	assert_string_equal(mine, first);
	for (size_t i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].dist.did, "amzn");
		assert_string_equal(l.v[i].pkg.kind, "binary");
		assert_string_equal(l.v[i].arch_op, "equals");
		assert_string_equal(l.v[i].updater, name);
		assert_int_equal(strlen(l.v[i].issued), 20);
		assert_int_equal(l.v[i].normalized_severity, feed_sev_aws(l.v[i].severity));
	}
	vuln_list_release(&l);
	src_free(u);
}

static void test_aws_samples(void **state)
{
	(void)state;
	NEED_SHARED();
	aws_one("AL1", "feeds/aws/amazon_linux_1_updateinfo.excerpt.xml", 0);
	aws_one("AL2", "feeds/aws/amazon_linux_2_updateinfo.excerpt.xml", 0);
	aws_one("AL2023", "feeds/aws/updateinfo_2023.excerpt.xml.gz", 1);

	char path[1024];
	feed_path(path, sizeof(path), "feeds/aws/amazon_linux_2_updateinfo.excerpt.xml");
	struct updater_src *u = expand_one(&updater_set_aws, "{\"urls\":{\"AL2\":\"http://x/updateinfo.xml\"}}", "aws-AL2-updater");
	assert_string_equal(u->url, "http://x/updateinfo.xml");
	struct vuln_list l = {0};
	struct diag d = {{0}};
	assert_int_equal(parse_into(u, path, &l, &d), 0);
	const struct vuln *v = find(&l, "kernel", "ALAS2-2018-939", "4.9.76-38.79.amzn2");
	assert_non_null(v);
	assert_string_equal(v->issued, "2018-01-11T21:05:00Z");
	assert_string_equal(v->severity, "critical");
	assert_int_equal(v->normalized_severity, SEV_CRITICAL);
	assert_string_equal(v->links, "http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5754 "
				      "http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5715");
	assert_string_equal(v->dist.name, "Amazon Linux");
	assert_string_equal(v->dist.version_id, "2");
	assert_string_equal(v->dist.pretty_name, "Amazon Linux 2");
	assert_string_equal(v->dist.cpe, "cpe:2.3:o:amazon:amazon_linux:2:*:*:*:*:*:*:*");
	assert_string_equal(v->pkg.arch, "x86_64");
	assert_non_null(strstr(v->description, "CVE-2017-5754 hw: cpu"));
	vuln_list_release(&l);
	src_free(u);

	/* offline without urls: nothing (with a warning) */
	struct updater_src *arr = NULL;
	size_t n = 0;
	assert_int_equal(updater_set_aws.expand(NULL, NULL, &arr, &n, &d), 0);
	assert_int_equal(n, 0);
	free(arr);
}

/* ---- debian ---------------------------------------------------------------------------- */

static void test_debian_sample(void **state)
{
	(void)state;
	NEED_SHARED();
	char path[1024];
	feed_path(path, sizeof(path), "feeds/debian/security-tracker-excerpt.json");
	struct updater_src *u = expand_one(&updater_set_debian, NULL, "debian/updater");
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, path, &l, &d);
	if (rc)
		print_error("%s\n", d.msg);
	assert_int_equal(rc, 0);
	long want = py_count("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			     "K={\"wheezy\",\"jessie\",\"stretch\",\"buster\",\"bullseye\",\"bookworm\",\"trixie\"}; "
			     "print(sum(1 for p in d.values() for c in p.values() if isinstance(c.get(\"releases\"),dict) "
			     "for r in c[\"releases\"] if r in K))' '%s'",
			     path);
	assert_true(want > 0);
	assert_int_equal((long)l.n, want);
	const struct vuln *v = NULL;
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].pkg.name, "prototypejs") && !strcmp(l.v[i].name, "CVE-2008-7220") &&
		    !strcmp(l.v[i].dist.version_code_name, "stretch"))
			v = &l.v[i];
	assert_non_null(v);
	assert_string_equal(v->fixed_in_version, "1.6.0.2-1");
	assert_string_equal(v->severity, "high**");
	assert_int_equal(v->normalized_severity, SEV_UNKNOWN); /* claircore: exact words only */
	assert_string_equal(v->pkg.kind, "source");
	assert_string_equal(v->links, "https://security-tracker.debian.org/tracker/CVE-2008-7220");
	assert_string_equal(v->dist.did, "debian");
	assert_string_equal(v->dist.name, "Debian GNU/Linux");
	assert_string_equal(v->dist.version_id, "9");
	assert_string_equal(v->dist.version, "9 (stretch)");
	assert_string_equal(v->dist.pretty_name, "Debian GNU/Linux 9 (stretch)");
	assert_non_null(strstr(v->description, "Prototype JavaScript framework"));
	assert_null(find(&l, "chromium-browser", "CVE-2022-0358", NULL));
	/* every fixed_in_version equals the tracker's (or "" when absent) */
	long nofix = py_count("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			      "K={\"wheezy\",\"jessie\",\"stretch\",\"buster\",\"bullseye\",\"bookworm\",\"trixie\"}; "
			      "print(sum(1 for p in d.values() for c in p.values() if isinstance(c.get(\"releases\"),dict) "
			      "for r,x in c[\"releases\"].items() if r in K and not x.get(\"fixed_version\")))' '%s'",
			      path);
	size_t ours = 0;
	for (size_t i = 0; i < l.n; i++)
		ours += l.v[i].fixed_in_version[0] == 0;
	assert_int_equal((long)ours, nofix);
	vuln_list_release(&l);
	src_free(u);

	u = expand_one(&updater_set_debian, "{\"json_url\":\"http://t/json\",\"releases\":{\"buster\":\"10\"}}", "debian/updater");
	assert_string_equal(u->url, "http://t/json");
	assert_int_equal(parse_into(u, path, &l, &d), 0);
	for (size_t i = 0; i < l.n; i++)
		assert_string_equal(l.v[i].dist.version_code_name, "buster");
	assert_true(l.n > 0);
	vuln_list_release(&l);
	src_free(u);
}

/* ---- pyup ------------------------------------------------------------------------------ */

/* Is version inside v's range / spec? */
static int py_in(const struct vuln *v, const char *ver)
{
	int c, in = 0;
	if (!v->range_introduced[0] && !v->range_fixed[0] && !v->range_last_affected[0]) {
		if (!v->pkg.version || !v->pkg.version[0])
			return 1;
		assert_int_equal(version_pep440_spec_contains(v->pkg.version, ver, 1, &in), 0);
		return in;
	}
	if (v->range_introduced[0] && strcmp(v->range_introduced, "0")) {
		assert_int_equal(version_pep440_cmp_str(ver, v->range_introduced, &c), 0);
		if (c < 0)
			return 0;
	}
	if (v->range_fixed[0]) {
		assert_int_equal(version_pep440_cmp_str(ver, v->range_fixed, &c), 0);
		return c < 0;
	}
	if (v->range_last_affected[0]) {
		assert_int_equal(version_pep440_cmp_str(ver, v->range_last_affected, &c), 0);
		return c <= 0;
	}
	return 1;
}

static void pypi_expected(const struct vuln_list *l, const char *tsv, int pyup)
{
	char path[1024];
	feed_path(path, sizeof(path), tsv);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		char *col[6] = {0}, *p = line;
		line[strcspn(line, "\n")] = 0;
		for (int c = 0; c < 6 && p; c++) {
			col[c] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		assert_non_null(col[4]);
		int hit = 0;
		size_t idl = strlen(col[2]);
		for (size_t i = 0; i < l->n && !hit; i++) {
			const struct vuln *v = &l->v[i];
			if (strcasecmp(v->pkg.name, col[0]) || strncmp(v->name, col[2], idl) ||
			    (v->name[idl] && v->name[idl] != ' '))
				continue;
			assert_string_equal(v->repo.name, "pypi");
			assert_string_equal(v->version_kind, "pep440");
			hit = py_in(v, col[1]);
		}
		if (!hit)
			print_error("expected %s %s %s not matched\n", col[0], col[1], col[2]);
		assert_true(hit);
		n++;
	}
	fclose(f);
	assert_true(n >= 5);
	(void)pyup;
}

static void test_pyup_sample(void **state)
{
	(void)state;
	NEED_SHARED();
	char path[1024];
	feed_path(path, sizeof(path), "feeds/pyupio/insecure_full.json");
	struct updater_src *u = expand_one(&updater_set_pyupio, NULL, "pyupio");
	assert_string_equal(u->url, "https://github.com/pyupio/safety-db/archive/master.tar.gz");
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, path, &l, &d);
	if (rc)
		print_error("%s\n", d.msg);
	assert_int_equal(rc, 0);
	long total = py_count("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			      "print(sum(len(a[\"specs\"]) for k,v in d.items() if k!=\"$meta\" for a in v))' '%s'",
			      path);
	assert_true(total > 1000);
	/* a few specs are not PEP 440 (the README: packaging rejects 3 of them) */
	assert_true((long)l.n <= total && (long)l.n >= total - 10);
	const struct vuln *v = find(&l, "cryptography", "pyup.io-36351 (CVE-2018-10903)", NULL);
	assert_non_null(v);
	assert_string_equal(v->range_introduced, "1.9.0");
	assert_string_equal(v->range_fixed, "2.3");
	assert_string_equal(v->fixed_in_version, "fixed=2.3&introduced=1.9.0");
	assert_string_equal(v->pkg.kind, "binary");
	assert_string_equal(v->repo.uri, "https://pypi.org/simple");
	size_t raw = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].pkg.version[0]) {
			raw++;
			assert_string_equal(l.v[i].range_fixed, "");
			assert_string_equal(l.v[i].fixed_in_version, "");
		}
	}
	assert_true(raw > 0);
	pypi_expected(&l, "expected/pypi/shared-pyup-2021-07__mitmproxy.expected.tsv", 1);
	/* the specifier oracle: for every spec of the vectors file present in the feed, our vuln
	 * (range or raw spec) agrees with packaging's prereleases=True answer for non-pre versions */
	vuln_list_release(&l);
	src_free(u);
}

static void test_pyup_tarball(void **state)
{
	(void)state;
	char dir[1024], cmd[4096], tgz[1100];
	snprintf(dir, sizeof(dir), "%s/pyuptar/safety-db-master/data", tmpdir());
	snprintf(tgz, sizeof(tgz), "%s/pyup.tar.gz", tmpdir());
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && printf '%%s' '{\"$meta\":{},\"Django\":[{\"advisory\":\"a\",\"cve\":null,\"id\":\"pyup.io-1\","
		 "\"specs\":[\">=1.0,<1.2\",\"<=0.9\",\"==2.0\",\"<3,>=2.1,>2.2\"],\"v\":\"x\"}]}' > '%s/insecure_full.json' && "
		 "echo '{}' > '%s/insecure.json' && tar -C '%s/pyuptar' -czf '%s' safety-db-master",
		 dir, dir, dir, tmpdir(), tgz);
	assert_int_equal(system(cmd), 0);
	struct updater_src *u = expand_one(&updater_set_pyupio, "{\"url\":\"http://x/t.tgz\"}", "pyupio");
	assert_string_equal(u->url, "http://x/t.tgz");
	struct vuln_list l = {0};
	struct diag d = {{0}};
	assert_int_equal(parse_into(u, tgz, &l, &d), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].pkg.name, "django");
	assert_string_equal(l.v[0].name, "pyup.io-1");
	assert_string_equal(l.v[0].range_introduced, "1.0");
	assert_string_equal(l.v[0].range_fixed, "1.2");
	assert_string_equal(l.v[1].range_last_affected, "0.9");
	assert_string_equal(l.v[1].fixed_in_version, "lastAffected=0.9");
	assert_string_equal(l.v[2].pkg.version, "==2.0");
	assert_string_equal(l.v[3].pkg.version, "<3,>=2.1,>2.2");
	vuln_list_release(&l);
	src_free(u);
}

/* ---- osv ------------------------------------------------------------------------------- */

static const char *osv_count_py =
	"python3 -c 'import yaml,sys,glob,os\n"
	"n=0\n"
	"for f in sorted(glob.glob(os.path.join(sys.argv[1],\"**\",\"*.yaml\"),recursive=True)):\n"
	"  d=yaml.safe_load(open(f))\n"
	"  if d.get(\"withdrawn\") or not d.get(\"affected\"): continue\n"
	"  if any(\"-\" not in a for a in d.get(\"aliases\") or []): continue\n"
	"  for a in d[\"affected\"]:\n"
	"    if a.get(\"package\",{}).get(\"ecosystem\")!=\"PyPI\": continue\n"
	"    for r in a.get(\"ranges\") or []:\n"
	"      if r[\"type\"] not in (\"ECOSYSTEM\",\"SEMVER\"): continue\n"
	"      n+=sum(1 for e in r[\"events\"] if \"introduced\" in e)\n"
	"print(n)' '%s'";

static void test_osv_samples(void **state)
{
	(void)state;
	NEED_SHARED();
	char path[1024];
	feed_path(path, sizeof(path), "feeds/osv-pypi/vulns");
	struct updater_src *u = expand_one(&updater_set_osv, NULL, "osv/pypi");
	assert_string_equal(u->url, "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip");
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, path, &l, &d);
	if (rc)
		print_error("%s\n", d.msg);
	assert_int_equal(rc, 0);
	long want = py_count(osv_count_py, path);
	assert_true(want > 1000);
	assert_int_equal((long)l.n, want);
	const struct vuln *v = find(&l, "aiohttp", "PYSEC-2021-76", NULL);
	assert_non_null(v);
	assert_string_equal(v->range_introduced, "0");
	assert_string_equal(v->range_fixed, "3.7.4");
	assert_string_equal(v->fixed_in_version, "fixed=3.7.4");
	assert_string_equal(v->issued, "2021-02-26T03:15:00Z");
	assert_non_null(strstr(v->links, "https://osv.dev/vulnerability/CVE-2021-21330"));
	assert_non_null(strstr(v->links, "https://pypi.org/project/aiohttp/"));
	assert_string_equal(v->repo.name, "pypi");
	assert_string_equal(v->version_kind, "pep440");
	/* severities: the CVSS records carry their vector and a band from the base score */
	size_t cvss = 0;
	for (size_t i = 0; i < l.n; i++)
		if (!strncmp(l.v[i].severity, "CVSS:3", 6)) {
			cvss++;
			assert_true(l.v[i].normalized_severity >= SEV_LOW);
		}
	assert_true(cvss > 50);
	pypi_expected(&l, "expected/pypi/shared-osv-half__mitmproxy.expected.tsv", 0);
	vuln_list_release(&l);

	/* the same records as a zip of JSON files (the real feed's shape), and as one JSON array */
	char zip[1100], arr[1100], cmd[4096];
	snprintf(zip, sizeof(zip), "%s/osv.zip", tmpdir());
	snprintf(arr, sizeof(arr), "%s/osv-array.json", tmpdir());
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import yaml,json,sys,glob,zipfile,datetime\n"
		 "fs=sorted(glob.glob(sys.argv[1]+\"/aiohttp/*.yaml\"))\n"
		 "ds=[yaml.load(open(f),Loader=yaml.BaseLoader) for f in fs]\n"
		 "z=zipfile.ZipFile(sys.argv[2],\"w\",zipfile.ZIP_DEFLATED)\n"
		 "[z.writestr(d[\"id\"]+\".json\",json.dumps(d)) for d in ds]\n"
		 "z.close(); json.dump(ds,open(sys.argv[3],\"w\"))' '%s' '%s' '%s'",
		 path, zip, arr);
	assert_int_equal(system(cmd), 0);
	char sub[1100];
	snprintf(sub, sizeof(sub), "%s/aiohttp", path);
	struct vuln_list a = {0}, b = {0}, c = {0};
	assert_int_equal(parse_into(u, sub, &a, &d), 0);
	assert_int_equal(parse_into(u, zip, &b, &d), 0);
	assert_int_equal(parse_into(u, arr, &c, &d), 0);
	assert_true(a.n > 0);
	assert_int_equal(a.n, b.n);
	assert_int_equal(a.n, c.n);
	for (size_t i = 0; i < a.n; i++) {
		char h1[33], h2[33], h3[33];
		assert_int_equal(vuln_hash(&a.v[i], h1), 0);
		assert_int_equal(vuln_hash(&b.v[i], h2), 0);
		assert_int_equal(vuln_hash(&c.v[i], h3), 0);
		assert_string_equal(h1, h2);
		assert_string_equal(h1, h3);
	}
	vuln_list_release(&a);
	vuln_list_release(&b);
	vuln_list_release(&c);
	src_free(u);
}

static void test_osv_events(void **state)
{
	(void)state;
	char p[1024];
	snprintf(p, sizeof(p), "%s/osv-ev.json", tmpdir());
	FILE *f = fopen(p, "w");
	fputs("{\"id\":\"PYSEC-X-1\",\"summary\":\"s\",\"aliases\":[\"CVE-1-2\"],"
	      "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N\"}],"
	      "\"affected\":[{\"package\":{\"name\":\"Foo\",\"ecosystem\":\"PyPI\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
	      "\"events\":[{\"introduced\":\"1.0\"},{\"fixed\":\"1.5+x\"},{\"introduced\":\"2.0\"},{\"last_affected\":\"2.3\"},"
	      "{\"introduced\":\"3.0\"}]}]},{\"package\":{\"name\":\"bar\",\"ecosystem\":\"npm\"},\"ranges\":[{\"type\":\"SEMVER\","
	      "\"events\":[{\"introduced\":\"0\"}]}]}]}",
	      f);
	fclose(f);
	struct vuln_list l = {0};
	struct diag d = {{0}};
	struct updater_src *u = expand_one(&updater_set_osv, "{\"zip_url\":\"http://m/all.zip\"}", "osv/pypi");
	assert_string_equal(u->url, "http://m/all.zip");
	assert_int_equal(parse_into(u, p, &l, &d), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].fixed_in_version, "fixed=1.5%2Bx&introduced=1.0");
	assert_string_equal(l.v[1].fixed_in_version, "introduced=2.0&lastAffected=2.3");
	assert_string_equal(l.v[2].fixed_in_version, "introduced=3.0");
	assert_string_equal(l.v[2].range_fixed, "");
	assert_string_equal(l.v[0].severity, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N");
	assert_int_equal(l.v[0].normalized_severity, SEV_MEDIUM); /* 6.1 */
	assert_string_equal(l.v[0].links, "https://osv.dev/vulnerability/CVE-1-2");
	vuln_list_release(&l);
	/* withdrawn and alias-without-dash records are dropped */
	f = fopen(p, "w");
	fputs("[{\"id\":\"A-1\",\"withdrawn\":\"2020-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"name\":\"x\",\"ecosystem\":\"PyPI\"},"
	      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]},"
	      "{\"id\":\"A-2\",\"aliases\":[\"nodash\"],\"affected\":[{\"package\":{\"name\":\"x\",\"ecosystem\":\"PyPI\"},"
	      "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}]",
	      f);
	fclose(f);
	assert_int_equal(parse_into(u, p, &l, &d), 0);
	assert_int_equal(l.n, 0);
	src_free(u);
	struct updater_src *arr = NULL;
	size_t n = 0;
	json_t *cfg = json_pack("{s:[s]}", "allowlist", "npm");
	assert_int_equal(updater_set_osv.expand(cfg, NULL, &arr, &n, &d), 0);
	assert_int_equal(n, 0);
	json_decref(cfg);
	free(arr);
}

/* ---- severities ------------------------------------------------------------------------ */

static void test_severity_tables(void **state)
{
	(void)state;
	assert_int_equal(feed_sev_aws("low"), SEV_LOW);
	assert_int_equal(feed_sev_aws("medium"), SEV_MEDIUM);
	assert_int_equal(feed_sev_aws("important"), SEV_HIGH);
	assert_int_equal(feed_sev_aws("critical"), SEV_CRITICAL);
	assert_int_equal(feed_sev_aws("Important"), SEV_UNKNOWN);
	assert_int_equal(feed_sev_aws(""), SEV_UNKNOWN);
	assert_int_equal(feed_sev_debian("unimportant"), SEV_LOW);
	assert_int_equal(feed_sev_debian("LOW"), SEV_MEDIUM);
	assert_int_equal(feed_sev_debian("medium"), SEV_HIGH);
	assert_int_equal(feed_sev_debian("High"), SEV_CRITICAL);
	assert_int_equal(feed_sev_debian("not yet assigned"), SEV_UNKNOWN);
	assert_int_equal(feed_sev_debian("high**"), SEV_UNKNOWN);
	assert_int_equal(feed_sev_osv_db("MODERATE"), SEV_MEDIUM);
	assert_int_equal(feed_sev_osv_db("negligible"), SEV_NEGLIGIBLE);
	assert_int_equal(feed_sev_osv_db("weird"), SEV_UNKNOWN);
	double s;
	assert_int_equal(feed_cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s), 0);
	assert_true(s > 9.79 && s < 9.81);
	assert_int_equal(feed_sev_cvss(s, 0), SEV_CRITICAL);
	assert_int_equal(feed_cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", &s), 0);
	assert_true(s > 5.29 && s < 5.31);
	assert_int_equal(feed_cvss_score("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:H", &s), 0);
	assert_true(s > 7.09 && s < 7.11);
	assert_int_equal(feed_sev_cvss(s, 0), SEV_HIGH);
	assert_int_equal(feed_cvss_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", &s), 0);
	assert_int_equal(feed_sev_cvss(s, 0), SEV_NEGLIGIBLE);
	assert_int_equal(feed_cvss_score("AV:N/AC:L/Au:N/C:P/I:P/A:P", &s), 0);
	assert_true(s > 7.49 && s < 7.51);
	assert_int_equal(feed_sev_cvss(s, 1), SEV_HIGH);
	assert_int_equal(feed_sev_cvss(3.9, 1), SEV_LOW);
	assert_int_equal(feed_cvss_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", &s), -EINVAL);
	assert_int_equal(feed_cvss_score("CVSS:3.1/AV:X/AC:L", &s), -EINVAL);
}

/* ---- malformed ------------------------------------------------------------------------- */

static void write_file(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void expect_bad(const struct updater_src *u, const char *p, const char *needle)
{
	struct vuln_list l = {0};
	struct diag d = {{0}};
	int rc = parse_into(u, p, &l, &d);
	if (rc != -EBADMSG)
		print_error("%s: rc %d: %s\n", p, rc, d.msg);
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(d.msg, p));
	if (needle && !strstr(d.msg, needle))
		print_error("diag \"%s\" lacks \"%s\"\n", d.msg, needle);
	if (needle)
		assert_non_null(strstr(d.msg, needle));
	vuln_list_release(&l);
}

static void test_malformed(void **state)
{
	(void)state;
	char p[1024];
	struct updater_src *deb = expand_one(&updater_set_debian, NULL, "debian/updater");
	struct updater_src *alp = expand_one(&updater_set_alpine, "{\"releases\":[\"v3.8\"]}", "alpine-main-v3.8-updater");
	struct updater_src *aws = expand_one(&updater_set_aws, "{\"urls\":{\"AL2023\":\"x\"}}", "aws-AL2023-updater");
	struct updater_src *py = expand_one(&updater_set_pyupio, NULL, "pyupio");
	struct updater_src *osv = expand_one(&updater_set_osv, NULL, "osv/pypi");
	snprintf(p, sizeof(p), "%s/bad.json", tmpdir());

	const char *trunc = "{\"pkg\": {\"CVE-1\": {\"releases\": {\"buster\": {\"fixed_version\": \"1\"}}}},\n\"pkg2\": {\"CVE-2\": {\"desc";
	write_file(p, trunc, strlen(trunc));
	expect_bad(deb, p, "line 2");
	const char *ptrunc = "{\"$meta\": {}, \"django\": [{\"id\": \"x\", \"specs\": [\"<1\"";
	write_file(p, ptrunc, strlen(ptrunc));
	expect_bad(py, p, "byte");
	const char *wrong = "{\"pkg\": [1, 2]}";
	write_file(p, wrong, strlen(wrong));
	expect_bad(deb, p, "pkg");
	expect_bad(py, p, "advisory 0");
	const char *wrong2 = "{\"pkg\": {\"CVE-1\": {\"releases\": {\"buster\": {\"fixed_version\": 12}}}}}";
	write_file(p, wrong2, strlen(wrong2));
	expect_bad(deb, p, "CVE-1");
	write_file(p, "{\"a\":{}} x", 10);
	expect_bad(deb, p, "trailing");
	write_file(p, "[]", 2);
	expect_bad(deb, p, "object");
	write_file(p, "", 0);
	expect_bad(deb, p, "empty");

	const char *ya = "packages:\n  - pkg:\n      name: x\n      secfixes:\n        1.0-r0: [a, b\n";
	write_file(p, ya, strlen(ya));
	expect_bad(alp, p, "line");
	const char *yb = "packages: 12\n";
	write_file(p, yb, strlen(yb));
	expect_bad(alp, p, "packages");
	const char *yc = "packages:\n  - pkg:\n      name: [x]\n";
	write_file(p, yc, strlen(yc));
	expect_bad(alp, p, "packages[0]");
	const char *ja = "{\"packages\":[{\"pkg\":{\"name\":\"x\",\"secfixes\":{\"1\":[3]}}}]}";
	write_file(p, ja, strlen(ja));
	expect_bad(alp, p, "packages[0]");
	write_file(p, "{\"packages\":[", 13);
	expect_bad(alp, p, "byte");
	const char *garbage = "\t\x01\x02: : - [\n";
	write_file(p, garbage, strlen(garbage));
	expect_bad(alp, p, NULL);

	const char *xml = "<updates><update><id>A</id><pkglist><collection><package name=\"x\" version=\"1\"";
	write_file(p, xml, strlen(xml));
	expect_bad(aws, p, "line");
	const char *xml2 = "<other/>";
	write_file(p, xml2, strlen(xml2));
	expect_bad(aws, p, "<updates>");
	expect_bad(osv, p, NULL); /* not JSON, YAML scalar at top */

	if (shared()) {
		char src[1024];
		feed_path(src, sizeof(src), "feeds/aws/updateinfo_2023.excerpt.xml.gz");
		FILE *f = fopen(src, "rb");
		assert_non_null(f);
		char gz[4096];
		size_t n = fread(gz, 1, sizeof(gz), f);
		fclose(f);
		assert_true(n > 800);
		snprintf(p, sizeof(p), "%s/trunc.xml.gz", tmpdir());
		write_file(p, gz, n / 2);
		expect_bad(aws, p, NULL);
		/* a truncated gzip of JSON for the streamed parsers too */
		feed_path(src, sizeof(src), "feeds/debian/security-tracker-excerpt.json");
		char cmd[3000];
		snprintf(cmd, sizeof(cmd), "gzip -c '%s' | head -c 900 > '%s/trunc.json.gz'", src, tmpdir());
		assert_int_equal(system(cmd), 0);
		snprintf(p, sizeof(p), "%s/trunc.json.gz", tmpdir());
		expect_bad(deb, p, NULL);
	}
	snprintf(p, sizeof(p), "%s/does-not-exist.json", tmpdir());
	struct vuln_list l = {0};
	struct diag d = {{0}};
	assert_int_equal(parse_into(deb, p, &l, &d), -ENOENT);
	src_free(deb);
	src_free(alp);
	src_free(aws);
	src_free(py);
	src_free(osv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_severity_tables), cmocka_unit_test(test_alpine_expand),
		cmocka_unit_test(test_discovery),       cmocka_unit_test(test_alpine_samples),
		cmocka_unit_test(test_alpine_records),  cmocka_unit_test(test_alpine_expected),
		cmocka_unit_test(test_aws_samples),     cmocka_unit_test(test_debian_sample),
		cmocka_unit_test(test_pyup_sample),     cmocka_unit_test(test_pyup_tarball),
		cmocka_unit_test(test_osv_samples),     cmocka_unit_test(test_osv_events),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests_name("feeds", tests, NULL, NULL);
}
