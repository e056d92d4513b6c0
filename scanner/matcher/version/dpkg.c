/* dpkg version comparison, as dpkg 1.21 --compare-versions (lib/dpkg/version.c semantics). */
#include <stddef.h>
#include <string.h>

#include "scanner/matcher/version/version.h"

/* A [ptr, end) slice of the input. */
struct dpkg_slice {
	const char *p;
	const char *e;
};

struct dpkg_parts {
	struct dpkg_slice epoch;
	struct dpkg_slice upstream;
	struct dpkg_slice revision;
};

static int dpkg_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int dpkg_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int dpkg_isblank(int c)
{
	return c == ' ' || c == '\t';
}

/* Character weight: digits/end 0, '~' -1, letters their code, anything else code + 256. */
static int dpkg_order(int c)
{
	if (dpkg_isdigit(c))
		return 0;
	if (dpkg_isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int dpkg_at(const struct dpkg_slice *s, const char *p)
{
	return p < s->e ? (unsigned char)*p : 0;
}

/* dpkg's verrevcmp over two slices; digit runs compared by length after leading zeros. */
static int dpkg_verrevcmp(struct dpkg_slice a, struct dpkg_slice b)
{
	const char *x = a.p, *y = b.p;

	while (x < a.e || y < b.e) {
		int first_diff = 0;

		while ((x < a.e && !dpkg_isdigit(dpkg_at(&a, x))) || (y < b.e && !dpkg_isdigit(dpkg_at(&b, y)))) {
			int ac = dpkg_order(dpkg_at(&a, x));
			int bc = dpkg_order(dpkg_at(&b, y));
			if (ac != bc)
				return ac < bc ? -1 : 1;
			if (x < a.e)
				x++;
			if (y < b.e)
				y++;
		}
		while (x < a.e && *x == '0')
			x++;
		while (y < b.e && *y == '0')
			y++;
		while (x < a.e && y < b.e && dpkg_isdigit(dpkg_at(&a, x)) && dpkg_isdigit(dpkg_at(&b, y))) {
			if (!first_diff)
				first_diff = (unsigned char)*x - (unsigned char)*y;
			x++;
			y++;
		}
		if (dpkg_isdigit(dpkg_at(&a, x)))
			return 1;
		if (dpkg_isdigit(dpkg_at(&b, y)))
			return -1;
		if (first_diff)
			return first_diff < 0 ? -1 : 1;
	}
	return 0;
}

static void dpkg_split(const char *s, struct dpkg_parts *out)
{
	const char *end, *colon, *hyphen = NULL, *p;

	while (*s && dpkg_isblank((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && dpkg_isblank((unsigned char)end[-1]))
		end--;
	colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		out->epoch.p = s;
		out->epoch.e = colon;
		s = colon + 1;
	} else {
		out->epoch.p = out->epoch.e = s; /* empty epoch compares equal to "0" */
	}
	for (p = s; p < end; p++)
		if (*p == '-')
			hyphen = p;
	out->upstream.p = s;
	if (hyphen) {
		out->upstream.e = hyphen;
		out->revision.p = hyphen + 1;
		out->revision.e = end;
	} else {
		out->upstream.e = end;
		out->revision.p = out->revision.e = end;
	}
}

int version_dpkg_cmp(const char *a, const char *b)
{
	struct dpkg_parts pa, pb;
	int r;

	if (!a || !b)
		return a == b ? 0 : (a ? 1 : -1);
	dpkg_split(a, &pa);
	dpkg_split(b, &pb);
	/* The epoch is numeric in dpkg; verrevcmp on a digit string is a numeric comparison. */
	r = dpkg_verrevcmp(pa.epoch, pb.epoch);
	if (r)
		return r;
	r = dpkg_verrevcmp(pa.upstream, pb.upstream);
	if (r)
		return r;
	return dpkg_verrevcmp(pa.revision, pb.revision);
}
