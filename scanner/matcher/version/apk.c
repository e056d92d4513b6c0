/* apk version comparison and validation, with the semantics of apk-tools 2.14.10
 * (src/version.c: a token state machine over digit / letter / suffix / revision parts). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scanner/matcher/version/version.h"

enum apk_token {
	APK_TOKEN_INVALID = -1,
	APK_TOKEN_DIGIT_OR_ZERO,
	APK_TOKEN_DIGIT,
	APK_TOKEN_LETTER,
	APK_TOKEN_SUFFIX,
	APK_TOKEN_SUFFIX_NO,
	APK_TOKEN_REVISION_NO,
	APK_TOKEN_END,
};

struct apk_blob {
	const char *ptr;
	size_t len;
};

static int apk_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int apk_islower(int c)
{
	return c >= 'a' && c <= 'z';
}

static void apk_advance(struct apk_blob *b, size_t n)
{
	b->ptr += n;
	b->len -= n;
}

static void apk_next_token(int *type, struct apk_blob *blob)
{
	int n = APK_TOKEN_INVALID;
	int c = blob->len ? (unsigned char)blob->ptr[0] : 0;

	if (blob->len == 0 || c == 0) {
		n = APK_TOKEN_END;
	} else if ((*type == APK_TOKEN_DIGIT || *type == APK_TOKEN_DIGIT_OR_ZERO) && apk_islower(c)) {
		n = APK_TOKEN_LETTER;
	} else if (*type == APK_TOKEN_LETTER && apk_isdigit(c)) {
		n = APK_TOKEN_DIGIT;
	} else if (*type == APK_TOKEN_SUFFIX && apk_isdigit(c)) {
		n = APK_TOKEN_SUFFIX_NO;
	} else {
		switch (c) {
		case '.':
			n = APK_TOKEN_DIGIT_OR_ZERO;
			break;
		case '_':
			n = APK_TOKEN_SUFFIX;
			break;
		case '-':
			if (blob->len > 1 && blob->ptr[1] == 'r') {
				n = APK_TOKEN_REVISION_NO;
				apk_advance(blob, 1);
			} else {
				n = APK_TOKEN_INVALID;
			}
			break;
		default:
			break;
		}
		apk_advance(blob, 1);
	}

	if (n < *type) {
		if (!((n == APK_TOKEN_DIGIT_OR_ZERO && *type == APK_TOKEN_DIGIT) ||
		      (n == APK_TOKEN_SUFFIX && *type == APK_TOKEN_SUFFIX_NO) ||
		      (n == APK_TOKEN_DIGIT && *type == APK_TOKEN_LETTER)))
			n = APK_TOKEN_INVALID;
	}
	*type = n;
}

static int apk_prefix(const struct apk_blob *b, const char *s)
{
	size_t n = strlen(s);
	return n <= b->len && memcmp(s, b->ptr, n) == 0;
}

/* Reads one token of type *type, returns its value and moves *type to the next token type.
 * Numbers of 18 or more digits are invalid (as apk 2.14); only the first 17 digits are ever
 * accumulated, so there is no overflow. */
static int64_t apk_get_token(int *type, struct apk_blob *blob)
{
	static const char *const pre_suffixes[] = {"alpha", "beta", "pre", "rc"};
	static const char *const post_suffixes[] = {"cvs", "svn", "git", "hg", "p"};
	const int npre = (int)(sizeof(pre_suffixes) / sizeof(pre_suffixes[0]));
	const int npost = (int)(sizeof(post_suffixes) / sizeof(post_suffixes[0]));
	size_t i = 0;
	int nt = APK_TOKEN_INVALID;
	int64_t v = 0;
	int k;

	if (blob->len == 0) {
		*type = APK_TOKEN_END;
		return 0;
	}

	switch (*type) {
	case APK_TOKEN_DIGIT_OR_ZERO:
		/* Leading zero digits get a special treatment */
		if (blob->ptr[0] == '0') {
			while (i + 1 < blob->len && blob->ptr[i + 1] == '0')
				i++;
			nt = APK_TOKEN_DIGIT;
			v = -(int64_t)i;
			break;
		}
		/* fallthrough */
	case APK_TOKEN_DIGIT:
	case APK_TOKEN_SUFFIX_NO:
	case APK_TOKEN_REVISION_NO:
		while (i < blob->len && apk_isdigit((unsigned char)blob->ptr[i])) {
			if (i < 18)
				v = v * 10 + (blob->ptr[i] - '0');
			i++;
		}
		if (i >= 18)
			goto invalid;
		break;
	case APK_TOKEN_LETTER:
		v = (unsigned char)blob->ptr[i++];
		break;
	case APK_TOKEN_SUFFIX:
		for (k = 0; k < npre; k++)
			if (apk_prefix(blob, pre_suffixes[k]))
				break;
		if (k < npre) {
			i = strlen(pre_suffixes[k]);
			v = k - npre;
			break;
		}
		for (k = 0; k < npost; k++)
			if (apk_prefix(blob, post_suffixes[k]))
				break;
		if (k < npost) {
			i = strlen(post_suffixes[k]);
			v = k;
			break;
		}
		goto invalid;
	default:
		goto invalid;
	}
	apk_advance(blob, i);
	if (blob->len == 0)
		*type = APK_TOKEN_END;
	else if (nt != APK_TOKEN_INVALID)
		*type = nt;
	else
		apk_next_token(type, blob);
	return v;

invalid:
	*type = APK_TOKEN_INVALID;
	return -1;
}

int version_apk_valid(const char *v)
{
	struct apk_blob b;
	int t = APK_TOKEN_DIGIT;

	if (!v)
		return 0;
	b.ptr = v;
	b.len = strlen(v);
	while (t != APK_TOKEN_END && t != APK_TOKEN_INVALID)
		apk_get_token(&t, &b);
	return t == APK_TOKEN_END;
}

int version_apk_cmp(const char *sa, const char *sb)
{
	struct apk_blob a, b;
	int at = APK_TOKEN_DIGIT, bt = APK_TOKEN_DIGIT, tt;
	int64_t av = 0, bv = 0;

	if (!sa || !sb)
		return sa == sb ? 0 : (sa ? 1 : -1);
	a.ptr = sa;
	a.len = strlen(sa);
	b.ptr = sb;
	b.len = strlen(sb);

	while (at == bt && at != APK_TOKEN_END && at != APK_TOKEN_INVALID && av == bv) {
		av = apk_get_token(&at, &a);
		bv = apk_get_token(&bt, &b);
	}
	if (av < bv)
		return -1;
	if (av > bv)
		return 1;
	if (at == bt)
		return 0;
	/* the non-terminating version is greater unless it continues with a pre-release suffix */
	tt = at;
	if (at == APK_TOKEN_SUFFIX && apk_get_token(&tt, &a) < 0)
		return -1;
	tt = bt;
	if (bt == APK_TOKEN_SUFFIX && apk_get_token(&tt, &b) < 0)
		return 1;
	if (at > bt)
		return -1;
	if (bt > at)
		return 1;
	return 0;
}
