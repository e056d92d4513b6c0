/* version_test: dpkg / rpm / apk / PEP 440 comparison against the oracle tables in
 * $SHARED_DIR/testdata/versions (read at run time, never copied), plus property tests on
 * generated versions and hand-picked edge cases. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/matcher/version/version.h"

#define LINE_MAX_LEN 8192
#define SHOW_MAX 8

/* ---- table plumbing ---------------------------------------------------------------------- */

/* Opens $SHARED_DIR/testdata/versions/<name>; skips the test (with a message) when SHARED_DIR
 * is not set, fails when it is set but the file is missing. */
static FILE *open_table(const char *name)
{
	const char *dir = getenv("SHARED_DIR");
	char path[4096];
	FILE *f;

	if (!dir || !*dir) {
		print_message("SKIP: SHARED_DIR is not set; oracle table %s not checked\n", name);
		skip();
	}
	snprintf(path, sizeof(path), "%s/testdata/versions/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open oracle table %s", path);
	return f;
}

/* Reads one line (without the newline) into buf; 0 at EOF. Fails on over-long lines. */
static int read_line(FILE *f, char *buf, size_t n)
{
	size_t l;
	if (!fgets(buf, (int)n, f))
		return 0;
	l = strlen(buf);
	if (l == n - 1 && buf[l - 1] != '\n')
		fail_msg("line too long in oracle table");
	while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
		buf[--l] = '\0';
	return 1;
}

/* Splits a line on tabs in place; returns the number of fields (up to max). */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		char *t = strchr(p, '\t');
		fields[n++] = p;
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

typedef int (*cmp_fn)(const char *a, const char *b);

struct tally {
	int rows;
	int bad;
};

static void tally_bad(struct tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tally_bad(struct tally *t, const char *fmt, ...)
{
	if (t->bad < SHOW_MAX) {
		va_list ap;
		char msg[1024];
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		print_message("  disagree: %s\n", msg);
	}
	t->bad++;
}

static void tally_done(const struct tally *t, const char *what)
{
	print_message("%s: %d rows, %d disagreements\n", what, t->rows, t->bad);
	assert_true(t->rows > 0);
	if (t->bad)
		fail_msg("%s: %d of %d rows disagree with the oracle", what, t->bad, t->rows);
}

/* a<TAB>b<TAB>r tables; also checks the mirrored comparison. */
static void run_cmp_table(const char *name, cmp_fn fn)
{
	FILE *f = open_table(name);
	char line[LINE_MAX_LEN];
	struct tally t = {0, 0};

	while (read_line(f, line, sizeof(line))) {
		char *fl[4];
		int want, got, back;
		if (!*line)
			continue;
		if (split_tabs(line, fl, 4) != 3)
			fail_msg("%s: malformed line", name);
		want = atoi(fl[2]) == 0 ? 0 : (fl[2][0] == '-' ? -1 : 1);
		t.rows++;
		got = sign(fn(fl[0], fl[1]));
		back = sign(fn(fl[1], fl[0]));
		if (got != want || back != -want)
			tally_bad(&t, "%s vs %s: want %d, got %d (mirrored %d)", fl[0], fl[1], want, got, back);
	}
	fclose(f);
	tally_done(&t, name);
}

/* ---- oracle tables ----------------------------------------------------------------------- */

static int pep440_cmp_or_99(const char *a, const char *b)
{
	int c;
	if (version_pep440_cmp_str(a, b, &c) < 0)
		return 99; /* never a valid answer: shows up as a disagreement */
	return c;
}

static void test_dpkg_table(void **state)
{
	(void)state;
	run_cmp_table("dpkg-vercmp.tsv", version_dpkg_cmp);
}

static void test_rpm_table(void **state)
{
	(void)state;
	run_cmp_table("rpm-vercmp.tsv", version_rpm_vercmp);
}

static void test_rpm_evr_table(void **state)
{
	(void)state;
	run_cmp_table("rpm-evrcmp.tsv", version_rpm_evrcmp);
}

static void test_apk_table(void **state)
{
	(void)state;
	run_cmp_table("apk-vercmp.tsv", version_apk_cmp);
}

static void test_pep440_table(void **state)
{
	(void)state;
	run_cmp_table("pep440-vercmp.tsv", pep440_cmp_or_99);
}

static void test_apk_validate_table(void **state)
{
	FILE *f = open_table("apk-validate.tsv");
	char line[LINE_MAX_LEN];
	struct tally t = {0, 0};
	(void)state;

	while (read_line(f, line, sizeof(line))) {
		char *fl[3];
		int want, got;
		if (!*line)
			continue;
		if (split_tabs(line, fl, 3) != 2)
			fail_msg("apk-validate.tsv: malformed line");
		want = atoi(fl[1]);
		got = version_apk_valid(fl[0]);
		t.rows++;
		if (got != want)
			tally_bad(&t, "%s: want %d, got %d", fl[0], want, got);
	}
	fclose(f);
	tally_done(&t, "apk-validate.tsv");
}

static void test_pep440_normalize_table(void **state)
{
	FILE *f = open_table("pep440-normalize.tsv");
	char line[LINE_MAX_LEN];
	struct tally t = {0, 0};
	(void)state;

	while (read_line(f, line, sizeof(line))) {
		char *fl[3], out[1024];
		int r;
		if (!*line)
			continue;
		if (split_tabs(line, fl, 3) != 2)
			fail_msg("pep440-normalize.tsv: malformed line");
		t.rows++;
		r = version_pep440_normalize(fl[0], out, sizeof(out));
		if (r < 0)
			tally_bad(&t, "%s: want %s, got error %d", fl[0], fl[1], r);
		else if (strcmp(out, fl[1]) != 0)
			tally_bad(&t, "%s: want %s, got %s", fl[0], fl[1], out);
	}
	fclose(f);
	tally_done(&t, "pep440-normalize.tsv");
}

static void test_pep440_specifier_table(void **state)
{
	FILE *f = open_table("pep440-specifiers.tsv");
	char line[LINE_MAX_LEN];
	struct tally t = {0, 0};
	(void)state;

	while (read_line(f, line, sizeof(line))) {
		char *fl[5];
		int p = -1, d = -1, rp, rd;
		if (!*line)
			continue;
		if (split_tabs(line, fl, 5) != 4)
			fail_msg("pep440-specifiers.tsv: malformed line");
		t.rows++;
		rp = version_pep440_spec_contains(fl[0], fl[1], 1, &p);
		rd = version_pep440_spec_contains(fl[0], fl[1], 0, &d);
		if (rp < 0 || rd < 0 || p != atoi(fl[2]) || d != atoi(fl[3]))
			tally_bad(&t, "%s contains %s: want P=%s D=%s, got P=%d(%d) D=%d(%d)", fl[0], fl[1], fl[2],
				  fl[3], p, rp, d, rd);
	}
	fclose(f);
	tally_done(&t, "pep440-specifiers.tsv");
}

/* "A OP B" lines (OP one of < > = ==), '#' starts a comment. */
static void run_op_file(const char *name, cmp_fn fn)
{
	FILE *f = open_table(name);
	char line[LINE_MAX_LEN];
	struct tally t = {0, 0};

	while (read_line(f, line, sizeof(line))) {
		char a[LINE_MAX_LEN], op[8], b[LINE_MAX_LEN];
		char *hash = strchr(line, '#');
		int want = 0, got, back;
		if (hash)
			*hash = '\0';
		if (sscanf(line, "%8191s %7s %8191s", a, op, b) != 3)
			continue;
		if (strcmp(op, "<") == 0)
			want = -1;
		else if (strcmp(op, ">") == 0)
			want = 1;
		else if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0)
			want = 0;
		else
			fail_msg("%s: unknown operator %s", name, op);
		t.rows++;
		got = sign(fn(a, b));
		back = sign(fn(b, a));
		if (got != want || back != -want)
			tally_bad(&t, "%s %s %s: got %d (mirrored %d)", a, op, b, got, back);
	}
	fclose(f);
	tally_done(&t, name);
}

static void test_apk_upstream(void **state)
{
	(void)state;
	run_op_file("upstream/apk-tools-version.data", version_apk_cmp);
}

static void test_rpm_upstream(void **state)
{
	(void)state;
	run_op_file("upstream/rpmvercmp.claircore", version_rpm_vercmp);
}

/* ---- property tests ---------------------------------------------------------------------- */

static uint64_t prng_state = 0x9e3779b97f4a7c15ull;

static uint32_t prng(void)
{
	/* xorshift64* with a fixed seed: reproducible */
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return (uint32_t)((prng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static size_t pick(size_t n)
{
	return prng() % n;
}

static void gen_from(char *out, size_t n, const char *const *atoms, size_t natoms, size_t maxparts)
{
	size_t len = 0, parts = 1 + pick(maxparts), i;
	out[0] = '\0';
	for (i = 0; i < parts; i++) {
		const char *a = atoms[pick(natoms)];
		size_t l = strlen(a);
		if (len + l + 1 > n)
			break;
		memcpy(out + len, a, l + 1);
		len += l;
	}
}

static void gen_dpkg(char *out, size_t n)
{
	static const char *const atoms[] = {"0", "1", "2", "10", "00", "9", ".", ".", "~", "+", "a", "b", "z",
					    "rc", "-", "~~", "99999999999999999999999"};
	char body[128];
	gen_from(body, sizeof(body), atoms, sizeof(atoms) / sizeof(atoms[0]), 6);
	if (pick(4) == 0)
		snprintf(out, n, "%u:1%s", (unsigned)pick(3), body);
	else
		snprintf(out, n, "1%s", body);
}

static void gen_rpm(char *out, size_t n)
{
	static const char *const atoms[] = {"0", "1", "2", "10", "00", "9", ".", "_", "~", "^", "a", "b", "Z",
					    "rc", "el8", "+", "99999999999999999999999"};
	gen_from(out, n, atoms, sizeof(atoms) / sizeof(atoms[0]), 6);
}

static void gen_rpm_evr(char *out, size_t n)
{
	char v[96], r[96];
	gen_rpm(v, sizeof(v));
	gen_rpm(r, sizeof(r));
	if (pick(3) == 0)
		snprintf(out, n, "%u:%s-%s", (unsigned)pick(3), v, r);
	else
		snprintf(out, n, "%s-%s", v, r);
}

static void gen_apk(char *out, size_t n)
{
	static const char *const rel[] = {"0", "1", "2", "10", "01", "00", "9"};
	static const char *const suf[] = {"_alpha", "_beta", "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p"};
	size_t len, i, parts = 1 + pick(4);
	len = (size_t)snprintf(out, n, "%s", rel[1 + pick(6)]);
	for (i = 1; i < parts && len + 8 < n; i++)
		len += (size_t)snprintf(out + len, n - len, ".%s", rel[pick(7)]);
	if (pick(3) == 0 && len + 2 < n)
		len += (size_t)snprintf(out + len, n - len, "%c", 'a' + (int)pick(3));
	while (pick(3) == 0 && len + 12 < n)
		len += (size_t)snprintf(out + len, n - len, "%s%s", suf[pick(9)], pick(2) ? rel[pick(7)] : "");
	if (pick(2) == 0 && len + 8 < n)
		snprintf(out + len, n - len, "-r%s", rel[pick(5)]);
}

static void gen_pep440(char *out, size_t n)
{
	static const char *const num[] = {"0", "1", "2", "10", "01", "00"};
	static const char *const pre[] = {"a", "b", "rc", "alpha", "c", "pre", ".beta", "-preview"};
	static const char *const post[] = {".post", "-", "post", "_rev", ".r"};
	static const char *const loc[] = {"+abc", "+1", "+1.a", "+a.1", "+0.b-2", "+ubuntu_1"};
	size_t len = 0, i, parts = 1 + pick(4);
	if (pick(6) == 0)
		len += (size_t)snprintf(out + len, n - len, "%s!", num[pick(3)]);
	for (i = 0; i < parts; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "." : "", num[pick(6)]);
	if (pick(3) == 0)
		len += (size_t)snprintf(out + len, n - len, "%s%s", pre[pick(8)], pick(2) ? num[pick(4)] : "");
	if (pick(3) == 0) {
		size_t k = pick(5);
		len += (size_t)snprintf(out + len, n - len, "%s%s", post[k], (k == 1 || pick(2)) ? num[1 + pick(3)] : "");
	}
	if (pick(3) == 0)
		len += (size_t)snprintf(out + len, n - len, ".dev%s", pick(2) ? num[pick(4)] : "");
	if (pick(5) == 0)
		snprintf(out + len, n - len, "%s", loc[pick(6)]);
}

typedef void (*gen_fn)(char *out, size_t n);

static int pep440_cmp_checked(const char *a, const char *b)
{
	int c = 0;
	assert_int_equal(version_pep440_cmp_str(a, b, &c), 0);
	return c;
}

#define POOL 300

static void run_properties(const char *what, gen_fn gen, cmp_fn fn)
{
	static char pool[POOL][160];
	static int m[POOL][POOL];
	size_t i, j, k;
	long trips = 0;

	for (i = 0; i < POOL; i++)
		gen(pool[i], sizeof(pool[i]));
	for (i = 0; i < POOL; i++) {
		assert_int_equal(fn(pool[i], pool[i]), 0);
		for (j = 0; j < POOL; j++)
			m[i][j] = sign(fn(pool[i], pool[j]));
	}
	for (i = 0; i < POOL; i++)
		for (j = 0; j < POOL; j++)
			if (m[i][j] != -m[j][i])
				fail_msg("%s: antisymmetry broken: %s vs %s gives %d / %d", what, pool[i], pool[j], m[i][j],
					 m[j][i]);
	/* transitivity on random triples: a<=b and b<=c implies a<=c (strict if either is) */
	for (k = 0; k < 200000; k++) {
		size_t a = pick(POOL), b = pick(POOL), c = pick(POOL);
		if (m[a][b] <= 0 && m[b][c] <= 0) {
			int want_strict = m[a][b] < 0 || m[b][c] < 0;
			trips++;
			if (m[a][c] > 0 || (want_strict && m[a][c] == 0))
				fail_msg("%s: transitivity broken: %s / %s / %s (%d %d %d)", what, pool[a], pool[b], pool[c],
					 m[a][b], m[b][c], m[a][c]);
		}
	}
	/* equality is an equivalence: equal items order the same against everything */
	for (i = 0; i < POOL; i++)
		for (j = i + 1; j < POOL; j++)
			if (m[i][j] == 0)
				for (k = 0; k < POOL; k++)
					if (m[i][k] != m[j][k])
						fail_msg("%s: %s == %s but they order differently against %s", what, pool[i],
							 pool[j], pool[k]);
	print_message("%s: %d generated versions, %ld ordered triples checked\n", what, POOL, trips);
}

static void test_dpkg_properties(void **state)
{
	(void)state;
	run_properties("dpkg", gen_dpkg, version_dpkg_cmp);
}

static void test_rpm_properties(void **state)
{
	(void)state;
	run_properties("rpm", gen_rpm, version_rpm_vercmp);
	run_properties("rpm-evr", gen_rpm_evr, version_rpm_evrcmp);
}

static void test_apk_properties(void **state)
{
	char buf[160];
	int i;
	(void)state;
	for (i = 0; i < 2000; i++) {
		gen_apk(buf, sizeof(buf));
		if (!version_apk_valid(buf))
			fail_msg("generated apk version %s is not valid", buf);
	}
	run_properties("apk", gen_apk, version_apk_cmp);
}

static void test_pep440_properties(void **state)
{
	char buf[160];
	struct pep440 v;
	int i;
	(void)state;
	for (i = 0; i < 2000; i++) {
		gen_pep440(buf, sizeof(buf));
		if (version_pep440_parse(buf, &v) < 0)
			fail_msg("generated pep440 version %s does not parse", buf);
	}
	run_properties("pep440", gen_pep440, pep440_cmp_checked);
}

/* ---- hand-written cases ------------------------------------------------------------------- */

static void test_equal_but_different(void **state)
{
	int c = 7;
	(void)state;
	assert_int_equal(version_dpkg_cmp("1.0", "1.00"), 0);
	assert_int_equal(version_dpkg_cmp("0:1.0", "1.0"), 0);
	assert_int_equal(version_dpkg_cmp("1.0-0", "1.0"), 0);
	assert_int_equal(version_dpkg_cmp(" 1.0 ", "1.0"), 0);
	assert_int_equal(version_rpm_vercmp("1.0", "1.00"), 0);
	assert_int_equal(version_rpm_vercmp("1.0", "1_0"), 0);
	assert_int_equal(version_rpm_vercmp("1a", "1.a"), 0);
	assert_int_equal(version_rpm_evrcmp("0:1.0-1", "1.0-1"), 0);
	assert_int_equal(version_rpm_evrcmp("1.0-01", "1.00-1"), 0);
	assert_int_equal(version_pep440_cmp_str("1.0", "1.0.0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(version_pep440_cmp_str("v1.0a", "1.0.0-alpha0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(version_pep440_cmp_str("1.0-1", "1.0.post1", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(version_pep440_cmp_str("0!1.0", "1", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(version_pep440_cmp_str("1.0+abc.01", "1.0+ABC-1", &c), 0);
	assert_int_equal(c, 0);
}

static void test_ordering_basics(void **state)
{
	int c = 7;
	(void)state;
	/* dpkg: ~ before everything, epoch dominates */
	assert_true(version_dpkg_cmp("1.0~rc1", "1.0") < 0);
	assert_true(version_dpkg_cmp("1.0", "1.0+deb12u1") < 0);
	assert_true(version_dpkg_cmp("1:0.1", "9.9") > 0);
	assert_true(version_dpkg_cmp("1.0a", "1.0+") < 0);
	/* rpm: ~ older, ^ newer than base but older than a further segment */
	assert_true(version_rpm_vercmp("1.0~rc1", "1.0") < 0);
	assert_true(version_rpm_vercmp("1.0^git1", "1.0") > 0);
	assert_true(version_rpm_vercmp("1.0^git1", "1.0.1") < 0);
	assert_true(version_rpm_evrcmp("1:1.0-1", "2.0-1") > 0);
	assert_true(version_rpm_evrcmp("1.0-1.el8", "1.0-1.el8_1") < 0);
	/* apk */
	assert_true(version_apk_cmp("1.0_rc1", "1.0") < 0);
	assert_true(version_apk_cmp("1.0_p1", "1.0") > 0);
	assert_true(version_apk_cmp("1.0-r1", "1.0-r0") > 0);
	assert_true(version_apk_cmp("1.0a", "1.0") > 0);
	assert_int_equal(version_apk_valid("1.0-r1"), 1);
	assert_int_equal(version_apk_valid("1.0-rx"), 0);
	assert_int_equal(version_apk_valid(""), 1); /* apk 2.14 accepts the empty string */
	assert_int_equal(version_apk_valid(NULL), 0);
	/* pep440: dev < a < b < rc < release < post */
	assert_int_equal(version_pep440_cmp_str("1.0.dev1", "1.0a1", &c), 0);
	assert_int_equal(c, -1);
	assert_int_equal(version_pep440_cmp_str("1.0rc1", "1.0", &c), 0);
	assert_int_equal(c, -1);
	assert_int_equal(version_pep440_cmp_str("1.0.post1", "1.0", &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(version_pep440_cmp_str("1.0+local", "1.0", &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(version_pep440_cmp_str("1.0+1", "1.0+abc", &c), 0);
	assert_int_equal(c, 1);
	assert_int_equal(version_pep440_cmp_str("not a version", "1.0", &c), -EINVAL);
	assert_int_equal(version_pep440_cmp_str("1.0", "1.0-", &c), -EINVAL);
}

static void test_huge_numbers(void **state)
{
	const char *big1 = "1.123456789012345678901234567890123456789";
	const char *big2 = "1.123456789012345678901234567890123456790";
	const char *bigz = "1.000000000000000000000000000000000000000123456789012345678901234567890123456789";
	int c = 7;
	(void)state;
	assert_int_equal(version_dpkg_cmp(big1, big2), -1);
	assert_int_equal(version_dpkg_cmp(big2, big1), 1);
	assert_int_equal(version_dpkg_cmp("99999999999999999999999999:1", "1:1"), 1);
	assert_int_equal(version_rpm_vercmp(big1, big2), -1);
	assert_int_equal(version_rpm_vercmp(bigz, big1), 0); /* leading zeros ignored */
	assert_int_equal(version_dpkg_cmp(bigz, big1), 0);
	assert_int_equal(version_rpm_vercmp(bigz, big2), -1);
	assert_int_equal(version_rpm_evrcmp("99999999999999999999999:1-1", "1:1-1"), 1);
	/* apk rejects numbers of 18+ digits but must not overflow on them */
	assert_int_equal(version_apk_valid(big1), 0);
	assert_int_equal(version_apk_valid("1.12345678901234567"), 1);
	(void)version_apk_cmp(big1, big2);
	assert_int_equal(version_pep440_cmp_str(big1, big2, &c), 0);
	assert_int_equal(c, -1);
	assert_int_equal(version_pep440_cmp_str("99999999999999999999999!1", "1!2", &c), 0);
	assert_int_equal(c, 1);
}

static void test_total_on_garbage(void **state)
{
	static const char *const junk[] = {"", ":", "-", "::--", "~", "^", "~~^^", "\xff\xfe", "a", "_", "-r",
					   "1-r", "1.", "..", "1:", ":1", "1-", "+", "!", "1!", "v", " ", "\t1\t"};
	size_t i, j, n = sizeof(junk) / sizeof(junk[0]);
	struct pep440 v;
	char out[64];
	int in;
	(void)state;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			assert_int_equal(sign(version_dpkg_cmp(junk[i], junk[j])), -sign(version_dpkg_cmp(junk[j], junk[i])));
			assert_int_equal(sign(version_rpm_vercmp(junk[i], junk[j])),
					 -sign(version_rpm_vercmp(junk[j], junk[i])));
			assert_int_equal(sign(version_rpm_evrcmp(junk[i], junk[j])),
					 -sign(version_rpm_evrcmp(junk[j], junk[i])));
			(void)version_apk_cmp(junk[i], junk[j]);
			(void)version_pep440_spec_contains(junk[i], junk[j], 0, &in);
		}
	assert_int_equal(version_dpkg_cmp(NULL, "1"), -1);
	assert_int_equal(version_rpm_vercmp("1", NULL), 1);
	assert_int_equal(version_apk_cmp(NULL, NULL), 0);
	assert_int_equal(version_pep440_parse(NULL, &v), -EINVAL);
	assert_int_equal(version_pep440_parse("", &v), -EINVAL);
	assert_int_equal(version_pep440_normalize("1.0", out, 3), -ENOSPC);
	{
		char longv[PEP440_MAX_LEN + 10];
		memset(longv, '1', sizeof(longv) - 1);
		longv[sizeof(longv) - 1] = '\0';
		assert_int_equal(version_pep440_parse(longv, &v), -EINVAL);
	}
	assert_int_equal(version_pep440_parse("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25."
					      "26.27.28.29.30.31.32.33",
					      &v),
			 -EINVAL);
}

static void test_pep440_normalize_cases(void **state)
{
	static const char *const cases[][2] = {
	    {"  V1.0RC1  ", "1.0rc1"},  {"1.0-1", "1.0.post1"},     {"01.0", "1.0"},
	    {"1.0alpha", "1.0a0"},      {"1.0.c.2", "1.0rc2"},      {"1.0-preview-3", "1.0rc3"},
	    {"1.0rev", "1.0.post0"},    {"1.0-r-2", "1.0.post2"},   {"1.0_DEV", "1.0.dev0"},
	    {"1!2.0+Ubuntu-01", "1!2.0+ubuntu.1"}, {"0!1", "1"},    {"1.0a-1", "1.0a1"},
	    {"1.0a.-1", "1.0a0.post1"}, {"1.0.post-dev", "1.0.post0.dev0"},
	};
	size_t i;
	char out[128];
	struct pep440 v;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(version_pep440_normalize(cases[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, cases[i][1]);
	}
	assert_int_equal(version_pep440_parse("1.0-", &v), -EINVAL);
	assert_int_equal(version_pep440_parse("1.0+", &v), -EINVAL);
	assert_int_equal(version_pep440_parse("1.0+a..b", &v), -EINVAL);
	assert_int_equal(version_pep440_parse("1.0-1-1", &v), -EINVAL);
	assert_int_equal(version_pep440_parse("1.0 1", &v), -EINVAL);
}

static void test_pep440_specifier_cases(void **state)
{
	static const struct {
		const char *spec, *ver;
		int p, d;
	} cases[] = {
	    {"<1.2,>=1.0", "1.1", 1, 1},      {"<1.2,>=1.0", "1.2", 0, 0},     {"<1.2,>=1.0", "1.1rc1", 1, 0},
	    {"<1.2", "1.2rc1", 0, 0},         {"==1.*", "1.9.3", 1, 1},        {"==1.*", "2.0", 0, 0},
	    {"==1.0.*", "1.0", 1, 1},         {"!=1.5", "1.5.0", 0, 0},        {"!=1.5", "1.6", 1, 1},
	    {"~=2.2", "2.9", 1, 1},           {"~=2.2", "3.0", 0, 0},          {"~=2.2.1", "2.3", 0, 0},
	    {"~=2.2.1", "2.2.5", 1, 1},       {"===1.0", "1.0", 1, 1},         {"===1.0", "1.0.0", 0, 0},
	    {">=2.0a1", "2.0b1", 1, 1},       {">1.0", "1.0.post1", 0, 0},     {">1.0", "1.0+loc", 0, 0},
	    {"", "1.0", 1, 1},                {"", "1.0a1", 1, 0},             {"==1.0+abc", "1.0+abc", 1, 1},
	    {"==1.0", "1.0+abc", 1, 1},       {" <= 1.0 , > 0.5 ", "0.9", 1, 1},
	};
	size_t i;
	int in = -1;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(version_pep440_spec_contains(cases[i].spec, cases[i].ver, 1, &in), 0);
		if (in != cases[i].p)
			fail_msg("%s contains %s (prereleases) = %d, want %d", cases[i].spec, cases[i].ver, in, cases[i].p);
		assert_int_equal(version_pep440_spec_contains(cases[i].spec, cases[i].ver, 0, &in), 0);
		if (in != cases[i].d)
			fail_msg("%s contains %s = %d, want %d", cases[i].spec, cases[i].ver, in, cases[i].d);
	}
	assert_int_equal(version_pep440_spec_contains(">=1.0.*", "1.0", 1, &in), -EINVAL);
	assert_int_equal(version_pep440_spec_contains("<1.0+abc", "1.0", 1, &in), -EINVAL);
	assert_int_equal(version_pep440_spec_contains("~=1", "1.0", 1, &in), -EINVAL);
	assert_int_equal(version_pep440_spec_contains("=1.0", "1.0", 1, &in), -EINVAL);
	assert_int_equal(version_pep440_spec_contains(">=1.0", "nope", 1, &in), -EINVAL);
}

static void test_pep440_normalized_vector(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"0.28.8", "pep440:0.0.28.8.0.0.0.0.0.0"},
	    {"1!2.3.4.5.6.7", "pep440:1.2.3.4.5.6.0.0.0.0"},
	    {"1.0a2", "pep440:0.1.0.0.0.0.-3.2.0.0"},
	    {"1.0b1.post3", "pep440:0.1.0.0.0.0.-2.1.3.0"},
	    {"1.0rc1.dev4", "pep440:0.1.0.0.0.0.-1.1.0.-4"},
	    {"1.0.post2.dev5", "pep440:0.1.0.0.0.0.0.0.2.-5"},
	    {"1.0.dev3", "pep440:0.1.0.0.0.0.-2147483645.0.0.0"},
	    {"1.0.dev0", "pep440:0.1.0.0.0.0.0.0.0.0"},
	    {"1.0+local", "pep440:0.1.0.0.0.0.0.0.0.0"},
	    {"4294967297.1", "pep440:0.1.1.0.0.0.0.0.0.0"},
	};
	size_t i;
	struct pep440 v;
	int32_t n[10];
	char out[128];
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(version_pep440_parse(cases[i].in, &v), 0);
		assert_int_equal(version_pep440_normalized(&v, n), 0);
		assert_int_equal(version_normalized_format("pep440", n, out, sizeof(out)), 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s: normalized %s, want %s", cases[i].in, out, cases[i].want);
	}
	assert_int_equal(version_pep440_parse("1.99999999999999999999", &v), 0);
	assert_int_equal(version_pep440_normalized(&v, n), -ERANGE);
	assert_int_equal(version_normalized_format("pep440", n, out, 8), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dpkg_table),
	    cmocka_unit_test(test_rpm_table),
	    cmocka_unit_test(test_rpm_evr_table),
	    cmocka_unit_test(test_apk_table),
	    cmocka_unit_test(test_apk_validate_table),
	    cmocka_unit_test(test_pep440_table),
	    cmocka_unit_test(test_pep440_normalize_table),
	    cmocka_unit_test(test_pep440_specifier_table),
	    cmocka_unit_test(test_apk_upstream),
	    cmocka_unit_test(test_rpm_upstream),
	    cmocka_unit_test(test_dpkg_properties),
	    cmocka_unit_test(test_rpm_properties),
	    cmocka_unit_test(test_apk_properties),
	    cmocka_unit_test(test_pep440_properties),
	    cmocka_unit_test(test_equal_but_different),
	    cmocka_unit_test(test_ordering_basics),
	    cmocka_unit_test(test_huge_numbers),
	    cmocka_unit_test(test_total_on_garbage),
	    cmocka_unit_test(test_pep440_normalize_cases),
	    cmocka_unit_test(test_pep440_specifier_cases),
	    cmocka_unit_test(test_pep440_normalized_vector),
	};
	return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
