/* rpm version comparison, as librpm 4.18 rpmvercmp() and python rpm.labelCompare(). */
#include <stddef.h>
#include <string.h>

#include "scanner/matcher/version/version.h"

struct rpm_slice {
	const char *p;
	const char *e;
};

static int rpm_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int rpm_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int rpm_isalnum(int c)
{
	return rpm_isdigit(c) || rpm_isalpha(c);
}

/* rpmvercmp over [p, e) slices; a slice never contains the terminating NUL semantics of the
 * original except through its end, so embedded text after e is ignored. */
static int rpm_vercmp_slice(struct rpm_slice a, struct rpm_slice b)
{
	const char *one = a.p, *two = b.p;

	if (a.e - a.p == b.e - b.p && memcmp(a.p, b.p, (size_t)(a.e - a.p)) == 0)
		return 0;

	while (one < a.e || two < b.e) {
		const char *s1, *s2;
		int isnum;

		while (one < a.e && !rpm_isalnum((unsigned char)*one) && *one != '~' && *one != '^')
			one++;
		while (two < b.e && !rpm_isalnum((unsigned char)*two) && *two != '~' && *two != '^')
			two++;

		/* tilde sorts before everything else */
		if ((one < a.e && *one == '~') || (two < b.e && *two == '~')) {
			if (!(one < a.e && *one == '~'))
				return 1;
			if (!(two < b.e && *two == '~'))
				return -1;
			one++;
			two++;
			continue;
		}
		/* caret: like tilde, except that the end of a string sorts before it */
		if ((one < a.e && *one == '^') || (two < b.e && *two == '^')) {
			if (one >= a.e)
				return -1;
			if (two >= b.e)
				return 1;
			if (*one != '^')
				return 1;
			if (*two != '^')
				return -1;
			one++;
			two++;
			continue;
		}
		if (!(one < a.e && two < b.e))
			break;

		s1 = one;
		s2 = two;
		if (rpm_isdigit((unsigned char)*s1)) {
			while (s1 < a.e && rpm_isdigit((unsigned char)*s1))
				s1++;
			while (s2 < b.e && rpm_isdigit((unsigned char)*s2))
				s2++;
			isnum = 1;
		} else {
			while (s1 < a.e && rpm_isalpha((unsigned char)*s1))
				s1++;
			while (s2 < b.e && rpm_isalpha((unsigned char)*s2))
				s2++;
			isnum = 0;
		}
		if (one == s1)
			return -1; /* cannot happen */
		if (two == s2)
			return isnum ? 1 : -1;

		if (isnum) {
			while (one < s1 && *one == '0')
				one++;
			while (two < s2 && *two == '0')
				two++;
			if (s1 - one > s2 - two)
				return 1;
			if (s2 - two > s1 - one)
				return -1;
		}
		{
			size_t l1 = (size_t)(s1 - one), l2 = (size_t)(s2 - two);
			int rc = memcmp(one, two, l1 < l2 ? l1 : l2);
			if (rc)
				return rc < 0 ? -1 : 1;
			if (l1 != l2)
				return l1 < l2 ? -1 : 1;
		}
		one = s1;
		two = s2;
	}
	if (one >= a.e && two >= b.e)
		return 0;
	return one >= a.e ? -1 : 1;
}

static struct rpm_slice rpm_slice_str(const char *s)
{
	struct rpm_slice r = {s, s + strlen(s)};
	return r;
}

int version_rpm_vercmp(const char *a, const char *b)
{
	if (!a || !b)
		return a == b ? 0 : (a ? 1 : -1);
	return rpm_vercmp_slice(rpm_slice_str(a), rpm_slice_str(b));
}

struct rpm_evr {
	struct rpm_slice e, v, r;
	int has_r;
};

static void rpm_evr_split(const char *s, struct rpm_evr *out)
{
	static const char zero[] = "0";
	const char *end = s + strlen(s);
	const char *colon = strchr(s, ':');
	const char *dash = NULL, *p;

	if (colon) {
		out->e.p = s;
		out->e.e = colon;
		s = colon + 1;
	} else {
		out->e.p = zero;
		out->e.e = zero + 1;
	}
	for (p = s; p < end; p++)
		if (*p == '-')
			dash = p;
	out->v.p = s;
	if (dash) {
		out->v.e = dash;
		out->r.p = dash + 1;
		out->r.e = end;
		out->has_r = 1;
	} else {
		out->v.e = end;
		out->r.p = out->r.e = end;
		out->has_r = 0;
	}
}

int version_rpm_evrcmp(const char *a, const char *b)
{
	struct rpm_evr x, y;
	int r;

	if (!a || !b)
		return a == b ? 0 : (a ? 1 : -1);
	rpm_evr_split(a, &x);
	rpm_evr_split(b, &y);
	r = rpm_vercmp_slice(x.e, y.e);
	if (r)
		return r;
	r = rpm_vercmp_slice(x.v, y.v);
	if (r)
		return r;
	/* labelCompare: a missing release sorts before any present one */
	if (!x.has_r || !y.has_r)
		return x.has_r == y.has_r ? 0 : (x.has_r ? 1 : -1);
	return rpm_vercmp_slice(x.r, y.r);
}
