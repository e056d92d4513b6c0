/* match_test: decision tables of every matcher (filter, constraints, vulnerable) with hand-written
 * records and vulns, including the edge rules of claircore-spec §7.2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/matcher/match.h"

static const struct matcher *M(const char *name)
{
	const struct matcher *m = match_matcher_find(name);
	assert_non_null(m);
	return m;
}

/* record with a distribution */
static struct match_record rec_dist(const char *did, const char *dname, const char *version)
{
	struct match_record r;
	match_record_init(&r);
	r.pkg_id = "1";
	r.name = "pkg";
	r.kind = "binary";
	r.version = version;
	r.has_dist = 1;
	r.dist_id = "1";
	r.did = did;
	r.dist_name = dname;
	return r;
}

struct vcase {
	const char *rec_version;
	const char *fixed;
	int want;
};

static void run_table(const char *matcher, const char *did, const struct vcase *c, size_t n)
{
	const struct matcher *m = M(matcher);
	for (size_t i = 0; i < n; i++) {
		struct match_record r = rec_dist(did, "", c[i].rec_version);
		struct vuln v = {0};
		v.fixed_in_version = (char *)c[i].fixed;
		int got = m->vulnerable(&r, &v);
		if (got != c[i].want)
			fail_msg("%s: record %s fixed \"%s\": got %d want %d", matcher, c[i].rec_version, c[i].fixed,
			         got, c[i].want);
	}
}

static void test_alpine(void **state)
{
	(void)state;
	static const struct vcase c[] = {
	    {"1.2-r0", "", 1},
	    {"1.2-r0", "0", 0},
	    {"1.2-r0", "1.2-r1", 1},
	    {"1.2-r1", "1.2-r1", 0},
	    {"1.2-r2", "1.2-r1", 0},
	    {"1.0_rc1-r0", "1.0-r0", 1},
	    {"1.0_p1-r0", "1.0-r0", 0},
	    {"1.0.2h-r1", "1.0.2h-r3", 1},
	    {"1.0.2k-r0", "1.0.2h-r3", 0},
	    {"", "1.0-r0", 0},
	    {"9.11.0_p5-r0", "9.11.2_p1-r0", 1},
	    /* invalid fixed versions from secdb, compared as apk-tools does */
	    {"1.8.16-r0", "1.11-20-r0", 1},
	    {"4.7.2-r2", "4.10-1-r1", 1},
	    {"4.11.0-r0", "4.10-1-r1", 0},
	};
	run_table("alpine-matcher", "alpine", c, sizeof(c) / sizeof(c[0]));
}

static void test_debian(void **state)
{
	(void)state;
	static const struct vcase c[] = {
	    {"1.0-1", "", 1},
	    {"1.0-1", "0", 0},
	    {"1.0-1", "1.0-2", 1},
	    {"1.0-2", "1.0-2", 0},
	    {"2.0-1", "1:1.0-1", 1}, /* epoch wins */
	    {"1:2.0-1", "1:1.0-1", 0},
	    {"1.0~rc1-1", "1.0-1", 1}, /* ~ sorts first */
	    {"1.0-1+deb10u1", "1.0-1+deb10u2", 1},
	    {"1.0-1+deb10u3", "1.0-1+deb10u2", 0},
	    {"1.0", "1.00", 0}, /* equal */
	};
	run_table("debian-matcher", "debian", c, sizeof(c) / sizeof(c[0]));
}

static void test_ubuntu(void **state)
{
	(void)state;
	static const struct vcase c[] = {
	    {"1.0-1", "", 1},
	    {"1.0-1", "0", 1}, /* Ubuntu: "0" = not fixed yet, unlike Debian */
	    {"1.0-1", "0:0", 1},
	    {"1.0-1ubuntu1", "1.0-1ubuntu2", 1},
	    {"1.0-1ubuntu2", "1.0-1ubuntu2", 0},
	    {"1:0.9", "1.0", 0},
	    {"2.27-3ubuntu1", "2.27-3ubuntu1.2", 1},
	};
	run_table("ubuntu-matcher", "ubuntu", c, sizeof(c) / sizeof(c[0]));
}

static void test_rpm_rule(void **state)
{
	(void)state;
	static const struct vcase c[] = {
	    {"1.0-1.el8", "1.0-2.el8", 1},
	    {"1.0-2.el8", "0:1.0-2.el8", 0}, /* epoch 0 == absent */
	    {"1.0-1", "1:0.5-1", 1},         /* epoch */
	    {"1:1.0-1", "0.5-1", 0},
	    {"1.0", "1.1-1", 0},                    /* record without a dash: parse error */
	    {"7.61.1-8.el8", "0:7.61.1-11.el8", 1}, /* curl on ubi8 */
	    {"2.9-3.el8", "2.9-3.el8_1", 1},
	    {"1.0-1.el8.x86_64", "1.0-1.el8", 0}, /* arch split off the release */
	    {"name-1.0-1.el8", "1.0-2.el8", 1},   /* NEVRA: name dropped */
	};
	static const char *const ms[] = {"aws-matcher", "oracle", "suse", "photon"};
	static const char *const dids[] = {"amzn", "ol", "sles", "photon"};
	for (size_t i = 0; i < 4; i++)
		run_table(ms[i], dids[i], c, sizeof(c) / sizeof(c[0]));

	/* no fixed_in_version: record <= vuln package version; neither: always */
	struct match_record r = rec_dist("ol", "", "1.0-5");
	struct vuln v = {0};
	v.pkg.version = "1.0-5";
	assert_int_equal(match_rpm_vulnerable(&r, &v), 1);
	r.version = "1.0-6";
	assert_int_equal(match_rpm_vulnerable(&r, &v), 0);
	v.pkg.version = "";
	assert_int_equal(match_rpm_vulnerable(&r, &v), 1);
	r.version = "nodash";
	assert_int_equal(match_rpm_vulnerable(&r, &v), 0);
}

static void test_arch_op(void **state)
{
	(void)state;
	struct {
		const char *op, *rec, *vuln;
		int want;
	} c[] = {
	    {"equals", "x86_64", "x86_64", 1},
	    {"equals", "aarch64", "x86_64", 0},
	    {"not equals", "aarch64", "x86_64", 1},
	    {"not equals", "x86_64", "x86_64", 0},
	    {"pattern match", "aarch64", "x86_64|aarch64", 1},
	    {"pattern match", "s390x", "x86_64|aarch64", 0},
	    {"pattern match", "x86_64", "^x86", 1},
	    {"pattern match", "x86_64", "(", 0}, /* bad pattern */
	    {"equals", "", "x86_64", 0},         /* record arch empty */
	    {"equals", "x86_64", "", 1},         /* vuln arch empty */
	    {"", "x86_64", "x86_64", 0},         /* arch without an operation */
	    {"", "", "", 1},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (match_arch_op_cmp(c[i].op, c[i].rec, c[i].vuln) != c[i].want)
			fail_msg("arch_op %zu: %s %s %s", i, c[i].op, c[i].rec, c[i].vuln);

	/* through the rpm rule */
	struct match_record r = rec_dist("amzn", "", "1.0-1");
	r.arch = "aarch64";
	struct vuln v = {0};
	v.fixed_in_version = "1.0-2";
	v.pkg.arch = "x86_64";
	v.arch_op = "equals";
	assert_int_equal(M("aws-matcher")->vulnerable(&r, &v), 0);
	v.arch_op = "not equals";
	assert_int_equal(M("aws-matcher")->vulnerable(&r, &v), 1);
}

static struct match_record rhel_rec(const char *version, const char *repo_cpe)
{
	struct match_record r;
	match_record_init(&r);
	r.pkg_id = "7";
	r.name = "curl";
	r.kind = "binary";
	r.version = version;
	r.arch = "x86_64";
	r.has_repo = 1;
	r.repo_id = "1";
	r.repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos";
	r.repo_key = "rhel-cpe-repository";
	r.repo_cpe = repo_cpe;
	return r;
}

static void test_rhel(void **state)
{
	(void)state;
	const struct matcher *m = M("rhel");
	struct match_record r = rhel_rec("7.61.1-8.el8", "cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:*:*:*:*:*");
	struct vuln v = {0};
	v.pkg.name = "curl";
	v.fixed_in_version = "0:7.61.1-11.el8";
	v.repo.key = "rhel-cpe-repository";
	v.repo.name = "cpe:/o:redhat:enterprise_linux:8::baseos";
	assert_true(m->filter(&r));
	assert_int_equal(m->vulnerable(&r, &v), 1);
	v.repo.name = "cpe:/o:redhat:enterprise_linux:8"; /* broader: superset */
	assert_int_equal(m->vulnerable(&r, &v), 1);
	v.repo.name = "cpe:/a:redhat:enterprise_linux:8::appstream";
	assert_int_equal(m->vulnerable(&r, &v), 0);
	v.repo.name = "cpe:/o:redhat:enterprise_linux:7::server";
	assert_int_equal(m->vulnerable(&r, &v), 0);
	v.repo.name = "cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:*:*:*:*:*";
	assert_int_equal(m->vulnerable(&r, &v), 1);
	/* record CPE only as the repository name (URI form) */
	r.repo_cpe = "";
	assert_int_equal(m->vulnerable(&r, &v), 1);
	/* not a Red Hat repository key on the vuln */
	v.repo.key = "other";
	assert_int_equal(m->vulnerable(&r, &v), 0);
	v.repo.key = "rhel-cpe-repository";
	/* fixed already */
	r.version = "7.61.1-11.el8";
	assert_int_equal(m->vulnerable(&r, &v), 0);
	/* filter needs the rhel repository key */
	r.repo_key = "";
	assert_false(m->filter(&r));
	r.has_repo = 0;
	assert_false(m->filter(&r));
	/* constraints: package_module and repo_key */
	r = rhel_rec("7.61.1-8.el8", "cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:*:*:*:*:*");
	v.repo.name = "cpe:/o:redhat:enterprise_linux:8::baseos";
	assert_int_equal(match_record_vuln(m, &r, &v), 1);
	v.pkg.module = "nodejs:12";
	assert_int_equal(match_record_vuln(m, &r, &v), 0);
	r.module = "nodejs:12";
	assert_int_equal(match_record_vuln(m, &r, &v), 1);
}

static void test_python(void **state)
{
	(void)state;
	const struct matcher *m = M("python");
	struct match_record r;
	match_record_init(&r);
	r.name = "cryptography";
	r.kind = "binary";
	r.norm_kind = "pep440";
	r.has_repo = 1;
	r.repo_name = "pypi";
	assert_true(m->filter(&r));
	struct {
		const char *ver, *intro, *fixed, *last, *spec, *fiv;
		int want;
	} c[] = {
	    {"0.9", "1.0", "2.0", "", "", "", 0},
	    {"1.0", "1.0", "2.0", "", "", "", 1},
	    {"1.5", "1.0", "2.0", "", "", "", 1},
	    {"2.0", "1.0", "2.0", "", "", "", 0},
	    {"2.0rc1", "1.0", "2.0", "", "", "", 1},
	    {"1.5", "", "", "1.5", "", "", 1},
	    {"1.5.post1", "", "", "1.5", "", "", 0},
	    {"1.6", "0", "", "1.5", "", "", 0},
	    {"1.6", "1.0", "", "", "", "", 1}, /* introduced only */
	    {"2.2.2", "", "", "", ">=1.9.0,<2.3", "", 1},
	    {"2.3", "", "", "", ">=1.9.0,<2.3", "", 0},
	    {"2.2.2", "", "", "", "<=3.2", "", 1},
	    {"3.3", "", "", "", "<3.3", "", 0},
	    {"2.0rc1", "", "", "", "<2.1", "", 1}, /* pre-releases count */
	    {"2.0rc1", "", "", "", "<2.0", "", 0}, /* PEP 440: <V excludes V's pre-releases */
	    {"2.2.2", "", "", "", "not a spec", "", 0},
	    {"1.5", "", "", "", "", "introduced=1.0&fixed=2.0", 1},
	    {"2.1", "", "", "", "", "introduced=1.0&fixed=2.0", 0},
	    {"1.9", "", "", "", "", "lastAffected=1.9", 1},
	    {"1.5", "", "", "", "", "fixed=1%2E4", 0}, /* url-decoded */
	    {"1.5", "", "", "", "", "2.0", 1},         /* plain fixed version */
	    {"1.5", "", "", "", "", "", 1},            /* nothing known: affected */
	    {"not.a.version!", "1.0", "2.0", "", "", "", 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vuln v = {0};
		r.version = c[i].ver;
		v.range_introduced = (char *)c[i].intro;
		v.range_fixed = (char *)c[i].fixed;
		v.range_last_affected = (char *)c[i].last;
		v.pkg.version = (char *)c[i].spec;
		v.fixed_in_version = (char *)c[i].fiv;
		int got = m->vulnerable(&r, &v);
		if (got != c[i].want)
			fail_msg("python case %zu (%s): got %d", i, c[i].ver, got);
	}
	r.norm_kind = "";
	assert_false(m->filter(&r));
}

static void test_filters(void **state)
{
	(void)state;
	struct {
		const char *matcher, *did, *name;
		int want;
	} c[] = {
	    {"alpine-matcher", "alpine", "", 1},
	    {"alpine-matcher", "", "Alpine Linux", 1},
	    {"alpine-matcher", "debian", "", 0},
	    {"aws-matcher", "amzn", "", 1},
	    {"aws-matcher", "", "Amazon Linux AMI", 1},
	    {"aws-matcher", "rhel", "", 0},
	    {"debian-matcher", "debian", "", 1},
	    {"debian-matcher", "", "Debian GNU/Linux", 1},
	    {"debian-matcher", "ubuntu", "", 0},
	    {"ubuntu-matcher", "ubuntu", "", 1},
	    {"ubuntu-matcher", "", "Ubuntu", 1},
	    {"ubuntu-matcher", "debian", "", 0},
	    {"oracle", "ol", "", 1},
	    {"oracle", "", "Oracle Linux Server", 1},
	    {"oracle", "rhel", "", 0},
	    {"suse", "sles", "", 1},
	    {"suse", "opensuse-leap", "", 1},
	    {"suse", "", "openSUSE Leap", 1},
	    {"suse", "ol", "", 0},
	    {"photon", "photon", "", 1},
	    {"photon", "", "VMware Photon OS", 0},
	    {"rhel", "rhel", "", 0}, /* rhel needs the repo key */
	    {"python", "alpine", "", 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct match_record r = rec_dist(c[i].did, c[i].name, "1");
		if (M(c[i].matcher)->filter(&r) != c[i].want)
			fail_msg("filter %s did=%s name=%s", c[i].matcher, c[i].did, c[i].name);
	}
	/* a record without a distribution is never a distro record */
	struct match_record r = rec_dist("alpine", "", "1");
	r.has_dist = 0;
	assert_false(M("alpine-matcher")->filter(&r));
	assert_int_equal(match_matchers_n, 9);
	assert_null(match_matcher_find("nope"));
}

static void test_package_and_constraints(void **state)
{
	(void)state;
	const struct matcher *m = M("alpine-matcher");
	struct match_record r = rec_dist("alpine", "Alpine Linux", "1.0.2h-r1");
	r.name = "libcrypto1.0";
	r.src_name = "openssl";
	r.src_kind = "source";
	r.dist_pretty_name = "Alpine Linux v3.4";
	struct vuln v = {0};
	v.pkg.name = "openssl";
	v.pkg.kind = "source";
	v.fixed_in_version = "1.0.2h-r3";
	v.dist.did = "alpine";
	v.dist.name = "Alpine Linux";
	v.dist.pretty_name = "Alpine Linux v3.4";
	assert_int_equal(match_package_matches(&r, &v), 1); /* via the source */
	assert_int_equal(match_record_vuln(m, &r, &v), 1);
	v.pkg.kind = "binary";
	assert_int_equal(match_package_matches(&r, &v), 0); /* kind must agree */
	v.pkg.kind = "";
	assert_int_equal(match_package_matches(&r, &v), 1); /* "" = any kind */
	v.dist.pretty_name = "Alpine Linux v3.5";
	assert_int_equal(match_constraints_hold(m, &r, &v), 0);
	assert_int_equal(match_record_vuln(m, &r, &v), 0);
	v.dist.pretty_name = "Alpine Linux v3.4";
	v.pkg.name = "busybox";
	assert_int_equal(match_record_vuln(m, &r, &v), 0);
	/* binary name */
	r.name = "busybox";
	r.src_name = "";
	v.pkg.kind = "binary";
	assert_int_equal(match_record_vuln(m, &r, &v), 1);
	/* column names */
	assert_string_equal(match_field_column(MATCH_DIST_DID), "dist_id");
	assert_string_equal(match_field_column(MATCH_REPO_KEY), "repo_key");
	assert_string_equal(match_field_column(MATCH_PACKAGE_MODULE), "package_module");
	/* debian constraints include version_id */
	const struct matcher *dm = M("debian-matcher");
	struct match_record dr = rec_dist("debian", "Debian GNU/Linux", "1.0-1");
	dr.dist_version_id = "10";
	struct vuln dv = {0};
	dv.pkg.name = "pkg";
	dv.dist.did = "debian";
	dv.dist.name = "Debian GNU/Linux";
	dv.dist.version_id = "10";
	dv.fixed_in_version = "1.0-2";
	assert_int_equal(match_record_vuln(dm, &dr, &dv), 1);
	dv.dist.version_id = "11";
	assert_int_equal(match_record_vuln(dm, &dr, &dv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alpine),
	    cmocka_unit_test(test_debian),
	    cmocka_unit_test(test_ubuntu),
	    cmocka_unit_test(test_rpm_rule),
	    cmocka_unit_test(test_arch_op),
	    cmocka_unit_test(test_rhel),
	    cmocka_unit_test(test_python),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_package_and_constraints),
	};
	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
