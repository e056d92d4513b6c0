/* version: exact version comparison for dpkg, rpm, apk and PEP 440.
 *
 * Every *_cmp function returns <0, 0, >0 like strcmp (always -1, 0 or 1) and is total: any
 * input (including NULL, which sorts before every string) compares without crashing, and
 * numeric runs of any length are compared as digit strings (no integer overflow).
 *
 * Oracles: dpkg 1.21 (dpkg --compare-versions), librpm 4.18 (rpmvercmp / labelCompare),
 * apk-tools 2.14.10 (apk_version_compare / apk_version_validate), python packaging 23.0
 * (Version, SpecifierSet). */
#ifndef SCANNER_MATCHER_VERSION_VERSION_H
#define SCANNER_MATCHER_VERSION_VERSION_H

#include <stddef.h>
#include <stdint.h>

/* dpkg --compare-versions: [epoch:]upstream[-revision]; epoch before the first ':', revision
 * after the last '-'; '~' sorts before everything, even the end of the string. Leading and
 * trailing blanks are ignored. "1.0" == "1.00" == "0:1.0". */
int version_dpkg_cmp(const char *a, const char *b);

/* librpm 4.18 rpmvercmp() of one version or release string ('~' and '^' handling). */
int version_rpm_vercmp(const char *a, const char *b);

/* rpm.labelCompare on "[E:]V-R": epoch = text before the first ':' (absent = "0"), release =
 * text after the LAST '-' (absent = no release, which sorts before any release); compares E,
 * then V, then R, each with rpmvercmp. */
int version_rpm_evrcmp(const char *a, const char *b);

/* apk-tools 2.14 apk_version_compare(). Suffixes _alpha _beta _pre _rc < none < _cvs _svn _git
 * _hg _p; letters; -rN revision. Invalid strings compare as apk does (token by token until
 * the first invalid token). */
int version_apk_cmp(const char *a, const char *b);
/* apk_version_validate(): 1 valid, 0 invalid (NULL is invalid). */
int version_apk_valid(const char *v);

/* ---- PEP 440 ---------------------------------------------------------------------------- */

#define PEP440_MAX_LEN 256   /* longer inputs are rejected with -EINVAL */
#define PEP440_MAX_RELEASE 32 /* release segments beyond this: -EINVAL */
#define PEP440_MAX_LOCAL 64   /* local segments beyond this: -EINVAL */

enum pep440_pre {
	PEP440_PRE_NONE = 0,
	PEP440_PRE_A,
	PEP440_PRE_B,
	PEP440_PRE_RC,
};

/* A number, as a digit string inside pep440.buf with leading zeros stripped (len 0 = zero). */
struct pep440_num {
	uint16_t off;
	uint16_t len;
};

/* A local-version segment inside pep440.buf (lower-cased); numeric segments have leading
 * zeros stripped (len 0 = "0"). */
struct pep440_local {
	uint16_t off;
	uint16_t len;
	uint8_t numeric;
};

/* Parsed PEP 440 version. Self-contained (offsets, no pointers): may be copied with '='. */
struct pep440 {
	struct pep440_num epoch;
	size_t nrelease;
	struct pep440_num release[PEP440_MAX_RELEASE];
	enum pep440_pre pre;      /* PEP440_PRE_NONE: no pre-release segment */
	struct pep440_num pre_n;
	int has_post;
	struct pep440_num post;
	int has_dev;
	struct pep440_num dev;
	size_t nlocal;             /* 0: no local segment */
	struct pep440_local local[PEP440_MAX_LOCAL];
	char buf[PEP440_MAX_LEN + 1]; /* lower-cased copy of the input */
};

/* 0 or -EINVAL. Accepts exactly what packaging 23.0 Version() accepts (v prefix, any case,
 * -/_/. separators, alpha/beta/c/pre/preview/rev/r spellings, implicit post "1.0-1",
 * surrounding whitespace, +local), within the caps above. */
int version_pep440_parse(const char *s, struct pep440 *ret);
/* Orders as packaging's Version (_cmpkey): <0, 0, >0. */
int version_pep440_cmp(const struct pep440 *a, const struct pep440 *b);
/* -EINVAL if either does not parse; else 0 and *ret_cmp = -1/0/1. */
int version_pep440_cmp_str(const char *a, const char *b, int *ret_cmp);
/* str(Version(s)) into out. 0, -EINVAL (does not parse) or -ENOSPC (out too small). */
int version_pep440_normalize(const char *s, char *out, size_t n);
/* str() of an already parsed version. 0 or -ENOSPC. */
int version_pep440_format(const struct pep440 *v, char *out, size_t n);
/* Pre-release (has a pre or dev segment), as packaging's is_prerelease. */
int version_pep440_is_prerelease(const struct pep440 *v);

/* SpecifierSet(spec).contains(version, prereleases=True) when prereleases == 1, or
 * .contains(version) (packaging's default pre-release rules) when prereleases == 0.
 * Comma-separated "<1.2,>=1.0", "==1.*", "~=2.2", "!=1.5", "===x"; an empty set contains
 * every (non-pre-release, unless prereleases) version.
 * 0 and *ret_in = 0/1, or -EINVAL if the specifier set or the version is invalid. */
int version_pep440_spec_contains(const char *spec, const char *version, int prereleases, int *ret_in);

/* claircore's pep440 Version() int vector (kind "pep440"):
 *   V[0] epoch, V[1..5] first five release numbers (missing 0, extra dropped),
 *   V[6] pre label (a -3, b -2, rc -1, none 0), V[7] pre number, V[8] post number,
 *   V[9] -dev when there is a nonzero post or a pre label; a nonzero dev with neither puts
 *   INT32_MIN + dev into V[6] instead. As in claircore, post 0 / dev 0 count as absent, local
 *   is dropped, and numbers are truncated to int32 like Go's int32(int) conversion.
 * Assumption: the input is our packaging-compatible parse (claircore's own regex is
 * unanchored and case-sensitive, so it may read odd strings differently).
 * 0, or -ERANGE if a number exceeds int64 (where claircore's strconv.Atoi fails). */
int version_pep440_normalized(const struct pep440 *v, int32_t out[10]);

/* Renders claircore's Version text form "kind:v0.v1.....v9" (e.g. "pep440:0.28.8.0.0.0.0.0.0.0").
 * 0 or -ENOSPC / -EINVAL. */
int version_normalized_format(const char *kind, const int32_t v[10], char *out, size_t n);

/* PEP 503 name normalization in place: lower case, every run of '-', '_' and '.' becomes one
 * '-' ("Zope.Interface" -> "zope-interface"). The result is never longer than the input. Index
 * and feeds both use it, so Python packages match whatever spelling each side used. */
void version_pep503_name(char *s);

#endif
