/* version_fuzz: the dpkg, rpm, apk and PEP 440 comparators and the PEP 440 parser.
 *
 * Input: up to three strings a, b, c separated by the first NUL/newline bytes. Every comparator
 * must be total, return -1/0/1, be reflexive (x == x), antisymmetric (cmp(a,b) == -cmp(b,a))
 * and transitive over a, b, c; PEP 440 normalization must be idempotent and order-preserving.
 * Any violation abort()s so the fuzzer reports it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "scanner/matcher/version/version.h"

typedef int cmp_fn(const char *a, const char *b);

struct comparator {
	const char *name;
	cmp_fn *fn;
};

static int pep440_cmp_or_invalid(const char *a, const char *b)
{
	int c = 0;

	/* strings that do not parse compare as equal to each other and below valid ones: a total
	 * order over all strings that the checks below can test */
	int ra = version_pep440_cmp_str(a, a, &c) == 0;
	int rb = version_pep440_cmp_str(b, b, &c) == 0;
	if (!ra || !rb)
		return ra - rb;
	if (version_pep440_cmp_str(a, b, &c) < 0)
		abort(); /* both parse on their own */
	return c;
}

static const struct comparator comparators[] = {
	{"dpkg", version_dpkg_cmp},
	{"rpm_vercmp", version_rpm_vercmp},
	{"rpm_evrcmp", version_rpm_evrcmp},
	{"apk", version_apk_cmp},
	{"pep440", pep440_cmp_or_invalid},
};

static void fail(const char *what, const char *name, const char *a, const char *b, const char *c)
{
	fprintf(stderr, "version_fuzz: %s violated by %s: a=\"%s\" b=\"%s\" c=\"%s\"\n", what, name, a,
		b, c ? c : "");
	abort();
}

static void check_comparator(const struct comparator *cm, const char *a, const char *b, const char *c)
{
	int ab = cm->fn(a, b), ba = cm->fn(b, a);
	int bc = cm->fn(b, c), ac = cm->fn(a, c);

	if (ab < -1 || ab > 1 || ba < -1 || ba > 1 || bc < -1 || bc > 1 || ac < -1 || ac > 1)
		fail("range -1..1", cm->name, a, b, c);
	if (ab != -ba)
		fail("antisymmetry", cm->name, a, b, NULL);
	if (cm->fn(a, a) != 0)
		fail("reflexivity", cm->name, a, a, NULL);
	if (ab <= 0 && bc <= 0 && ac > 0)
		fail("transitivity (a<=b<=c)", cm->name, a, b, c);
	if (ab >= 0 && bc >= 0 && ac < 0)
		fail("transitivity (a>=b>=c)", cm->name, a, b, c);
	if (ab == 0 && bc == 0 && ac != 0)
		fail("transitivity (a==b==c)", cm->name, a, b, c);
	/* NULL sorts before every string */
	if (cm->fn != pep440_cmp_or_invalid) {
		if (cm->fn(NULL, a) != -1 || cm->fn(a, NULL) != 1 || cm->fn(NULL, NULL) != 0)
			fail("NULL ordering", cm->name, a, "(null)", NULL);
	}
}

static void check_pep440(const char *s, const char *other)
{
	struct pep440 *v = NULL, *n = NULL;
	char norm[2 * PEP440_MAX_LEN + 64], norm2[2 * PEP440_MAX_LEN + 64], fmt[2 * PEP440_MAX_LEN + 64];
	char text[256];
	int32_t vec[10];
	int in = 0;

	v = malloc(sizeof(*v));
	n = malloc(sizeof(*n));
	if (!v || !n)
		goto out;
	(void)version_pep440_spec_contains(s, other, 0, &in);
	(void)version_pep440_spec_contains(s, other, 1, &in);
	(void)version_pep440_spec_contains(other, s, 0, &in);
	(void)version_pep440_spec_contains(other, s, 1, &in);
	if (version_pep440_parse(s, v) < 0) {
		if (version_pep440_normalize(s, norm, sizeof(norm)) != -EINVAL)
			fail("normalize of an unparsable version returns -EINVAL", "pep440", s, "", NULL);
		goto out;
	}
	(void)version_pep440_is_prerelease(v);
	if (version_pep440_normalized(v, vec) == 0)
		(void)version_normalized_format("pep440", vec, text, sizeof(text));
	if (version_pep440_normalize(s, norm, sizeof(norm)) != 0)
		fail("normalize of a parsed version", "pep440", s, "", NULL);
	if (version_pep440_format(v, fmt, sizeof(fmt)) != 0 || strcmp(fmt, norm) != 0)
		fail("format == normalize", "pep440", s, norm, fmt);
	/* normalization can lengthen the text ("1r2" -> "1.post2"), past the parser's cap: only
	 * forms within the cap must parse again */
	if (strlen(norm) > PEP440_MAX_LEN)
		goto out;
	if (version_pep440_parse(norm, n) < 0)
		fail("normalized form parses", "pep440", s, norm, NULL);
	if (version_pep440_cmp(v, n) != 0 || version_pep440_cmp(n, v) != 0)
		fail("version == normalize(version)", "pep440", s, norm, NULL);
	if (version_pep440_normalize(norm, norm2, sizeof(norm2)) != 0 || strcmp(norm, norm2) != 0)
		fail("normalize idempotent", "pep440", s, norm, norm2);
	/* ==V always contains V (with pre-releases allowed) */
	if (strlen(norm) + 3 <= PEP440_MAX_LEN) {
		char spec[PEP440_MAX_LEN + 8];
		snprintf(spec, sizeof(spec), "==%s", norm);
		if (version_pep440_spec_contains(spec, s, 1, &in) == 0 && !in)
			fail("==V contains V", "pep440", spec, s, NULL);
	}
out:
	free(v);
	free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a_len, b_off, b_len, c_off;
	char *a = NULL, *b = NULL, *c = NULL;

	if (size > 4096)
		return 0;
	fuzz_split(data, size, &a_len, &b_off);
	fuzz_split(data + b_off, size - b_off, &b_len, &c_off);
	c_off += b_off;
	a = fuzz_strndup(data, a_len);
	b = fuzz_strndup(data + b_off, b_len);
	c = fuzz_strndup(data + c_off, size - c_off);
	if (!a || !b || !c)
		goto out;
	for (size_t i = 0; i < sizeof(comparators) / sizeof(comparators[0]); i++)
		check_comparator(&comparators[i], a, b, c);
	(void)version_apk_valid(a);
	(void)version_apk_valid(NULL);
	check_pep440(a, b);
	check_pep440(b, a);
out:
	free(a);
	free(b);
	free(c);
	return 0;
}
