/* match: matchers of claircore-spec §7.2 with the exact comparators of scanner/matcher/version. */
#include "scanner/matcher/match.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/matcher/version/version.h"

#define S(x) ((x) ? (x) : "")

void match_record_init(struct match_record *r)
{
	r->pkg_id = r->name = r->version = r->kind = r->module = r->arch = r->norm_kind = "";
	r->src_name = r->src_version = r->src_kind = "";
	r->has_dist = 0;
	r->dist_id = r->did = r->dist_name = r->dist_version = r->dist_version_code_name = "";
	r->dist_version_id = r->dist_arch = r->dist_cpe = r->dist_pretty_name = "";
	r->has_repo = 0;
	r->repo_id = r->repo_name = r->repo_key = r->repo_uri = r->repo_cpe = "";
}

/* ---- fields ---- */

const char *match_field_column(enum match_field f)
{
	switch (f) {
	case MATCH_PACKAGE_MODULE:
		return "package_module";
	case MATCH_DIST_DID:
		return "dist_id";
	case MATCH_DIST_NAME:
		return "dist_name";
	case MATCH_DIST_VERSION:
		return "dist_version";
	case MATCH_DIST_VERSION_ID:
		return "dist_version_id";
	case MATCH_DIST_VERSION_CODE_NAME:
		return "dist_version_code_name";
	case MATCH_DIST_PRETTY_NAME:
		return "dist_pretty_name";
	case MATCH_DIST_CPE:
		return "dist_cpe";
	case MATCH_DIST_ARCH:
		return "dist_arch";
	case MATCH_REPO_NAME:
		return "repo_name";
	case MATCH_REPO_KEY:
		return "repo_key";
	}
	return "";
}

const char *match_field_record(const struct match_record *r, enum match_field f)
{
	switch (f) {
	case MATCH_PACKAGE_MODULE:
		return S(r->module);
	case MATCH_DIST_DID:
		return S(r->did);
	case MATCH_DIST_NAME:
		return S(r->dist_name);
	case MATCH_DIST_VERSION:
		return S(r->dist_version);
	case MATCH_DIST_VERSION_ID:
		return S(r->dist_version_id);
	case MATCH_DIST_VERSION_CODE_NAME:
		return S(r->dist_version_code_name);
	case MATCH_DIST_PRETTY_NAME:
		return S(r->dist_pretty_name);
	case MATCH_DIST_CPE:
		return S(r->dist_cpe);
	case MATCH_DIST_ARCH:
		return S(r->dist_arch);
	case MATCH_REPO_NAME:
		return S(r->repo_name);
	case MATCH_REPO_KEY:
		return S(r->repo_key);
	}
	return "";
}

const char *match_field_vuln(const struct vuln *v, enum match_field f)
{
	switch (f) {
	case MATCH_PACKAGE_MODULE:
		return S(v->pkg.module);
	case MATCH_DIST_DID:
		return S(v->dist.did);
	case MATCH_DIST_NAME:
		return S(v->dist.name);
	case MATCH_DIST_VERSION:
		return S(v->dist.version);
	case MATCH_DIST_VERSION_ID:
		return S(v->dist.version_id);
	case MATCH_DIST_VERSION_CODE_NAME:
		return S(v->dist.version_code_name);
	case MATCH_DIST_PRETTY_NAME:
		return S(v->dist.pretty_name);
	case MATCH_DIST_CPE:
		return S(v->dist.cpe);
	case MATCH_DIST_ARCH:
		return S(v->dist.arch);
	case MATCH_REPO_NAME:
		return S(v->repo.name);
	case MATCH_REPO_KEY:
		return S(v->repo.key);
	}
	return "";
}

/* ---- filters ---- */

static int eq(const char *a, const char *b)
{
	return strcmp(S(a), S(b)) == 0;
}

static int filter_alpine(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "alpine") || eq(r->dist_name, "Alpine Linux"));
}

static int filter_aws(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "amzn") || eq(r->dist_name, "Amazon Linux") ||
	                       eq(r->dist_name, "Amazon Linux AMI") || eq(r->dist_name, "Amazon Linux 2"));
}

static int filter_debian(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "debian") || eq(r->dist_name, "Debian GNU/Linux"));
}

static int filter_ubuntu(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "ubuntu") || eq(r->dist_name, "Ubuntu"));
}

static int filter_oracle(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "ol") || eq(r->dist_name, "Oracle Linux Server"));
}

static int filter_suse(const struct match_record *r)
{
	return r->has_dist && (eq(r->did, "sles") || eq(r->did, "opensuse") || eq(r->did, "opensuse-leap") ||
	                       eq(r->dist_name, "SLES") || eq(r->dist_name, "openSUSE Leap"));
}

static int filter_photon(const struct match_record *r)
{
	return r->has_dist && eq(r->did, "photon");
}

#define RHEL_REPO_KEY "rhel-cpe-repository"

static int filter_rhel(const struct match_record *r)
{
	return r->has_repo && eq(r->repo_key, RHEL_REPO_KEY);
}

static int filter_python(const struct match_record *r)
{
	return eq(r->norm_kind, "pep440");
}

/* ---- rules ---- */

/* alpine: "" -> yes; "0" -> no; else apk_version_compare(pkg, fixed) < 0. Unlike claircore
 * (go-apk-version rejects invalid strings: not vulnerable) strings apk_version_validate()
 * rejects are still compared the way apk-tools does, token by token: secdb carries fixed
 * versions such as "1.11-20-r0" and "4.10-1-r1", and the worked examples
 * (testdata/expected/alpine) count those as affecting older packages. An empty installed
 * version is never vulnerable. */
static int vuln_alpine(const struct match_record *r, const struct vuln *v)
{
	const char *fixed = S(v->fixed_in_version);
	if (!*fixed)
		return 1;
	if (strcmp(fixed, "0") == 0)
		return 0;
	if (!*S(r->version))
		return 0;
	return version_apk_cmp(r->version, fixed) < 0;
}

static int vuln_debian(const struct match_record *r, const struct vuln *v)
{
	const char *fixed = S(v->fixed_in_version);
	if (!*fixed)
		return 1;
	if (strcmp(fixed, "0") == 0)
		return 0;
	if (!*S(r->version))
		return 0;
	return version_dpkg_cmp(r->version, fixed) < 0;
}

/* dpkg version string whose parsed form prints as "0" (epoch 0 is not printed). */
static int dpkg_is_zero(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	if (strncmp(s, "0:", 2) == 0)
		s += 2;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n == 1 && s[0] == '0';
}

static int vuln_ubuntu(const struct match_record *r, const struct vuln *v)
{
	const char *fixed = S(v->fixed_in_version);
	if (!*fixed)
		return 1;
	if (dpkg_is_zero(fixed))
		return 1; /* Ubuntu: "0" means not fixed yet */
	if (!*S(r->version))
		return 0;
	return version_dpkg_cmp(r->version, fixed) < 0;
}

static const char *const rpm_arches[] = {"aarch64", "i686", "noarch", "ppc64le", "riscv", "s390x", "src", "x86_64"};

/* claircore rpmver.Parse reduced to what the comparison needs: the EVR (into evr) and the arch
 * split off the release. -EINVAL without a dash. */
static int rpm_parse(const char *s, char *evr, size_t n, const char **arch)
{
	const char *dashes[2] = {NULL, NULL}; /* last, second-to-last */
	size_t ndash = 0, len;
	*arch = "";
	s = S(s);
	for (const char *p = s; *p; p++)
		if (*p == '-') {
			dashes[1] = dashes[0];
			dashes[0] = p;
			ndash++;
		}
	if (ndash == 0)
		return -EINVAL;
	if (ndash >= 2)
		s = dashes[1] + 1; /* drop the name */
	len = strlen(s);
	if (len + 1 > n)
		return -EINVAL;
	memcpy(evr, s, len + 1);
	char *dot = strrchr(evr, '.');
	char *dash = strrchr(evr, '-');
	if (dot && dash && dot > dash) {
		for (size_t i = 0; i < sizeof(rpm_arches) / sizeof(rpm_arches[0]); i++)
			if (strcmp(dot + 1, rpm_arches[i]) == 0) {
				*arch = rpm_arches[i];
				*dot = '\0';
				break;
			}
	}
	return 0;
}

#define RPM_MAX 512

/* -2 on a parse error, else the comparison of a and b. */
static int rpm_cmp(const char *a, const char *b)
{
	char ea[RPM_MAX], eb[RPM_MAX];
	const char *aa, *ab;
	if (rpm_parse(a, ea, sizeof(ea), &aa) < 0 || rpm_parse(b, eb, sizeof(eb), &ab) < 0)
		return -2;
	int c = version_rpm_evrcmp(ea, eb);
	if (c)
		return c;
	c = strcmp(aa, ab);
	return c < 0 ? -1 : c > 0;
}

int match_arch_op_cmp(const char *op, const char *record_arch, const char *vuln_arch)
{
	op = S(op);
	if (!*S(vuln_arch))
		return 1;
	if (!*S(record_arch))
		return 0;
	if (strcmp(op, "equals") == 0)
		return strcmp(record_arch, vuln_arch) == 0;
	if (strcmp(op, "not equals") == 0)
		return strcmp(record_arch, vuln_arch) != 0;
	if (strcmp(op, "pattern match") == 0) {
		regex_t re;
		if (strlen(vuln_arch) > 1024 || regcomp(&re, vuln_arch, REG_EXTENDED | REG_NOSUB) != 0)
			return 0;
		int ok = regexec(&re, record_arch, 0, NULL, 0) == 0;
		regfree(&re);
		return ok;
	}
	return 0; /* unset / invalid operation: claircore's ArchOp.Cmp answers false */
}

int match_rpm_vulnerable(const struct match_record *r, const struct vuln *v)
{
	int c;
	if (!match_arch_op_cmp(v->arch_op, r->arch, v->pkg.arch))
		return 0;
	if (*S(v->fixed_in_version)) {
		c = rpm_cmp(r->version, v->fixed_in_version);
		return c != -2 && c < 0;
	}
	if (*S(v->pkg.version)) {
		c = rpm_cmp(r->version, v->pkg.version);
		return c != -2 && c <= 0;
	}
	char tmp[RPM_MAX];
	const char *a;
	return rpm_parse(r->version, tmp, sizeof(tmp), &a) == 0; /* <= 65535:65535-65535 */
}

/* ---- CPE (simplified WFN: 11 attributes, "" = ANY) ---- */

#define CPE_ATTRS 11
#define CPE_ATTR_MAX 128

struct cpe {
	char a[CPE_ATTRS][CPE_ATTR_MAX];
};

static int cpe_parse(const char *s, struct cpe *c)
{
	memset(c, 0, sizeof(*c));
	s = S(s);
	int fs;
	if (strncmp(s, "cpe:2.3:", 8) == 0) {
		s += 8;
		fs = 1;
	} else if (strncmp(s, "cpe:/", 5) == 0) {
		s += 5;
		fs = 0;
	} else {
		return -EINVAL;
	}
	size_t i = 0, k = 0;
	for (; *s; s++) {
		if (fs && *s == '\\' && s[1]) {
			s++;
		} else if (*s == ':') {
			if (++i >= CPE_ATTRS)
				return -EINVAL;
			k = 0;
			continue;
		}
		if (k + 1 >= CPE_ATTR_MAX)
			return -EINVAL;
		c->a[i][k++] = (char)tolower((unsigned char)*s);
	}
	if (!fs && i > 6)
		return -EINVAL;
	for (i = 0; i < CPE_ATTRS; i++)
		if (strcmp(c->a[i], "*") == 0)
			c->a[i][0] = '\0';
	return 0;
}

/* vuln (source) is a superset of (or equal to) record (target). */
static int cpe_superset(const struct cpe *src, const struct cpe *tgt)
{
	for (size_t i = 0; i < CPE_ATTRS; i++)
		if (src->a[i][0] && strcmp(src->a[i], tgt->a[i]) != 0)
			return 0;
	return 1;
}

static void cpe_format(const struct cpe *c, char *out, size_t n)
{
	size_t off = 0;
	int w = snprintf(out, n, "cpe:2.3");
	if (w < 0 || (size_t)w >= n)
		return;
	off = (size_t)w;
	for (size_t i = 0; i < CPE_ATTRS && off < n; i++) {
		w = snprintf(out + off, n - off, ":%s", c->a[i][0] ? c->a[i] : "*");
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

int match_rhel_cpe_ok(const struct match_record *r, const struct vuln *v)
{
	struct cpe vc, rc;
	char vs[CPE_ATTRS * CPE_ATTR_MAX + 16], rs[CPE_ATTRS * CPE_ATTR_MAX + 16];
	if (!*S(v->repo.name))
		return 1;
	if (cpe_parse(v->repo.name, &vc) < 0)
		return 0;
	if (cpe_parse(*S(r->repo_cpe) ? r->repo_cpe : r->repo_name, &rc) < 0)
		return 0;
	if (cpe_superset(&vc, &rc))
		return 1;
	/* record CPE string starts with the vuln CPE string minus trailing ':' and '*' */
	cpe_format(&vc, vs, sizeof(vs));
	cpe_format(&rc, rs, sizeof(rs));
	size_t n = strlen(vs);
	while (n && (vs[n - 1] == ':' || vs[n - 1] == '*'))
		n--;
	return strncmp(rs, vs, n) == 0;
}

static int vuln_rhel(const struct match_record *r, const struct vuln *v)
{
	if (!r->has_repo || !eq(v->repo.key, RHEL_REPO_KEY))
		return 0;
	if (!match_rhel_cpe_ok(r, v))
		return 0;
	return match_rpm_vulnerable(r, v);
}

/* ---- python ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* url.ParseQuery(q).Get(key) into out ("" when absent). -EINVAL on bad escapes / size. */
static int query_get(const char *q, const char *key, char *out, size_t n)
{
	out[0] = '\0';
	size_t klen = strlen(key);
	while (*q) {
		const char *end = strchr(q, '&');
		if (!end)
			end = q + strlen(q);
		const char *eqs = memchr(q, '=', (size_t)(end - q));
		const char *kend = eqs ? eqs : end;
		if ((size_t)(kend - q) == klen && strncmp(q, key, klen) == 0) {
			size_t k = 0;
			for (const char *p = eqs ? eqs + 1 : end; p < end; p++) {
				int c = (unsigned char)*p;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (end - p < 3)
						return -EINVAL;
					int h = hexval(p[1]), l = hexval(p[2]);
					if (h < 0 || l < 0)
						return -EINVAL;
					c = h * 16 + l;
					p += 2;
				}
				if (k + 1 >= n)
					return -EINVAL;
				out[k++] = (char)c;
			}
			out[k] = '\0';
			return 0; /* Get returns the first value */
		}
		q = *end ? end + 1 : end;
	}
	return 0;
}

/* -2 on parse error, else the pep440 comparison. */
static int pep_cmp(const char *a, const char *b)
{
	int c;
	if (version_pep440_cmp_str(a, b, &c) < 0)
		return -2;
	return c;
}

static int python_range(const char *ver, const char *intro, const char *fixed, const char *last)
{
	int c;
	if (*intro) {
		c = pep_cmp(ver, intro);
		if (c == -2 || c < 0)
			return 0;
	}
	if (*fixed) {
		c = pep_cmp(ver, fixed);
		return c != -2 && c < 0;
	}
	if (*last) {
		c = pep_cmp(ver, last);
		return c != -2 && c <= 0;
	}
	struct pep440 p;
	return version_pep440_parse(ver, &p) == 0;
}

static int vuln_python(const struct match_record *r, const struct vuln *v)
{
	const char *intro = S(v->range_introduced), *fixed = S(v->range_fixed), *last = S(v->range_last_affected);
	if (*intro || *fixed || *last)
		return python_range(r->version, intro, fixed, last);
	if (*S(v->pkg.version)) { /* a specifier set (pyup "specs") */
		int in = 0;
		if (version_pep440_spec_contains(v->pkg.version, r->version, 1, &in) < 0)
			return 0;
		return in;
	}
	const char *fiv = S(v->fixed_in_version);
	if (!*fiv)
		return 1;
	if (strchr(fiv, '=')) { /* claircore's url-encoded "introduced=..&fixed=..&lastAffected=.." */
		char qi[PEP440_MAX_LEN + 1], qf[PEP440_MAX_LEN + 1], ql[PEP440_MAX_LEN + 1];
		if (query_get(fiv, "introduced", qi, sizeof(qi)) < 0 || query_get(fiv, "fixed", qf, sizeof(qf)) < 0 ||
		    query_get(fiv, "lastAffected", ql, sizeof(ql)) < 0)
			return 0;
		return python_range(r->version, qi, qf, ql);
	}
	return python_range(r->version, "", fiv, "");
}

/* ---- table ---- */

const struct matcher match_matchers[] = {
    {"alpine-matcher", filter_alpine, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_PRETTY_NAME}, 3, vuln_alpine, 1},
    {"aws-matcher", filter_aws, {MATCH_DIST_DID, MATCH_DIST_VERSION_ID}, 2, match_rpm_vulnerable, 0},
    {"debian-matcher", filter_debian, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_VERSION_ID}, 3, vuln_debian, 1},
    {"ubuntu-matcher", filter_ubuntu, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_VERSION_ID}, 3, vuln_ubuntu, 1},
    {"oracle", filter_oracle, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_VERSION}, 3, match_rpm_vulnerable, 1},
    {"suse", filter_suse, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_VERSION}, 3, match_rpm_vulnerable, 1},
    {"photon", filter_photon, {MATCH_DIST_DID, MATCH_DIST_NAME, MATCH_DIST_VERSION}, 3, match_rpm_vulnerable, 1},
    {"rhel", filter_rhel, {MATCH_PACKAGE_MODULE, MATCH_REPO_KEY}, 2, vuln_rhel, 1},
    {"python", filter_python, {MATCH_REPO_NAME}, 1, vuln_python, 0},
};
const size_t match_matchers_n = sizeof(match_matchers) / sizeof(match_matchers[0]);

const struct matcher *match_matcher_find(const char *name)
{
	for (size_t i = 0; i < match_matchers_n; i++)
		if (eq(match_matchers[i].name, name))
			return &match_matchers[i];
	return NULL;
}

void match_record_from_vuln(struct match_record *r, const struct vuln *v)
{
	match_record_init(r);
	r->name = S(v->pkg.name);
	r->version = S(v->pkg.version);
	r->kind = S(v->pkg.kind);
	r->module = S(v->pkg.module);
	r->arch = S(v->pkg.arch);
	r->has_dist = 1;
	r->did = S(v->dist.did);
	r->dist_name = S(v->dist.name);
	r->dist_version = S(v->dist.version);
	r->dist_version_code_name = S(v->dist.version_code_name);
	r->dist_version_id = S(v->dist.version_id);
	r->dist_arch = S(v->dist.arch);
	r->dist_cpe = S(v->dist.cpe);
	r->dist_pretty_name = S(v->dist.pretty_name);
	r->has_repo = 1;
	r->repo_name = S(v->repo.name);
	r->repo_key = S(v->repo.key);
	r->repo_uri = S(v->repo.uri);
}

static int kind_ok(const char *vk, const char *rk)
{
	return !*S(vk) || eq(vk, rk);
}

int match_package_matches(const struct match_record *r, const struct vuln *v)
{
	if (eq(v->pkg.name, r->name) && kind_ok(v->pkg.kind, r->kind))
		return 1;
	return *S(r->src_name) && eq(v->pkg.name, r->src_name) && kind_ok(v->pkg.kind, r->src_kind);
}

int match_constraints_hold(const struct matcher *m, const struct match_record *r, const struct vuln *v)
{
	for (size_t i = 0; i < m->n_constraints; i++)
		if (strcmp(match_field_record(r, m->constraints[i]), match_field_vuln(v, m->constraints[i])) != 0)
			return 0;
	return 1;
}

int match_record_vuln(const struct matcher *m, const struct match_record *r, const struct vuln *v)
{
	return match_package_matches(r, v) && match_constraints_hold(m, r, v) && m->vulnerable(r, v);
}
