/* vulnjson: Clair Vulnerability JSON encode/decode. */
#include "scanner/matcher/vulnjson.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(x) ((x) ? (x) : "")
#define ZERO_TIME "0001-01-01T00:00:00Z"

void vulnjson_id(int64_t id, char out[24])
{
	if (id == 0)
		out[0] = '\0';
	else
		snprintf(out, 24, "%" PRId64, id);
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(S(v)));
}

static int set_omit(json_t *o, const char *k, const char *v)
{
	return *S(v) ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int any(const char *const *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (*S(f[i]))
			return 1;
	return 0;
}

json_t *vulnjson_encode(const struct vuln *v)
{
	char id[24];
	int rc = 0;
	json_t *o = json_object(), *p = NULL;
	if (!o)
		return NULL;
	vulnjson_id(v->id, id);
	rc |= set_str(o, "id", id);
	rc |= set_str(o, "updater", v->updater);
	rc |= set_str(o, "name", v->name);
	rc |= set_str(o, "description", v->description);
	rc |= set_str(o, "issued", *S(v->issued) ? v->issued : ZERO_TIME);
	rc |= set_str(o, "links", v->links);
	rc |= set_str(o, "severity", v->severity);
	rc |= set_str(o, "normalized_severity", severity_name(v->normalized_severity));

	const char *pf[] = {v->pkg.name, v->pkg.version, v->pkg.module, v->pkg.arch, v->pkg.kind};
	if (any(pf, 5)) {
		if (!(p = json_object()))
			goto oom;
		rc |= set_str(p, "id", "");
		rc |= set_str(p, "name", v->pkg.name);
		rc |= set_str(p, "version", v->pkg.version);
		rc |= set_omit(p, "kind", v->pkg.kind);
		rc |= set_str(p, "normalized_version", "");
		rc |= set_omit(p, "module", v->pkg.module);
		rc |= set_omit(p, "arch", v->pkg.arch);
		rc |= set_str(p, "cpe", "");
		rc |= json_object_set_new(o, "package", p);
	}
	const struct vuln_dist *dd = &v->dist;
	const char *df[] = {dd->did,        dd->name, dd->version, dd->version_code_name,
	                    dd->version_id, dd->arch, dd->cpe,     dd->pretty_name};
	if (any(df, 8)) {
		if (!(p = json_object()))
			goto oom;
		rc |= set_str(p, "id", "");
		rc |= set_str(p, "did", dd->did);
		rc |= set_str(p, "name", dd->name);
		rc |= set_str(p, "version", dd->version);
		rc |= set_str(p, "version_code_name", dd->version_code_name);
		rc |= set_str(p, "version_id", dd->version_id);
		rc |= set_str(p, "arch", dd->arch);
		rc |= set_str(p, "cpe", dd->cpe);
		rc |= set_str(p, "pretty_name", dd->pretty_name);
		rc |= json_object_set_new(o, "distribution", p);
	}
	const char *rf[] = {v->repo.name, v->repo.key, v->repo.uri};
	if (any(rf, 3)) {
		if (!(p = json_object()))
			goto oom;
		rc |= set_omit(p, "name", v->repo.name);
		rc |= set_omit(p, "key", v->repo.key);
		rc |= set_omit(p, "uri", v->repo.uri);
		rc |= set_str(p, "cpe", "");
		rc |= json_object_set_new(o, "repository", p);
	}
	rc |= set_str(o, "fixed_in_version", v->fixed_in_version);
	rc |= set_omit(o, "arch_op", v->arch_op);
	if (rc)
		goto oom;
	return o;
oom:
	json_decref(o);
	return NULL;
}

/* ---- decoding ---- */

struct strfield {
	const char *key;
	char **dst;
};

/* Copies string fields of obj (missing / null -> ""). */
static int get_strings(const json_t *obj, const char *where, const struct strfield *f, size_t n, struct diag *d)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_object_get(obj, f[i].key);
		const char *s = "";
		if (x && !json_is_null(x)) {
			if (!json_is_string(x))
				return diag_fail(d, -EINVAL, "vulnerability: %s%s must be a string", where, f[i].key);
			s = json_string_value(x);
			if (strlen(s) != json_string_length(x))
				return diag_fail(d, -EINVAL, "vulnerability: %s%s contains a NUL byte", where,
				                 f[i].key);
		}
		free(*f[i].dst);
		*f[i].dst = strdup(s);
		if (!*f[i].dst)
			return diag_fail(d, -ENOMEM, "out of memory");
	}
	return 0;
}

/* The sub-object under key: NULL when missing or null; -EINVAL when not an object. */
static int get_obj(const json_t *in, const char *key, const json_t **ret, struct diag *d)
{
	const json_t *x = json_object_get(in, key);
	*ret = NULL;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_object(x))
		return diag_fail(d, -EINVAL, "vulnerability: %s must be an object", key);
	*ret = x;
	return 0;
}

static int parse_id(const char *s, int64_t *ret)
{
	int64_t v = 0;
	*ret = 0;
	if (!*s)
		return 0;
	if (strlen(s) > 18)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

static int valid_time(const char *s)
{
	/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm) */
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : (s[i] != pat[i] && !(pat[i] == 'T' && s[i] == 't')))
			return 0;
	}
	s += i;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && !s[1])
		return 1;
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) && s[3] == ':' &&
	    isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) && !s[6])
		return 1;
	return 0;
}

int vulnjson_decode(const json_t *in, struct vuln *ret, struct diag *d)
{
	struct vuln v;
	const json_t *o;
	char *id = NULL, *ns = NULL;
	int rc;
	static const struct vuln empty;
	v = empty;
	if (vuln_copy(&v, &empty) < 0)
		return diag_fail(d, -ENOMEM, "out of memory");
	if (!json_is_object(in)) {
		rc = diag_fail(d, -EINVAL, "vulnerability: not a JSON object");
		goto out;
	}
	const struct strfield top[] = {
	    {"id", &id},
	    {"updater", &v.updater},
	    {"name", &v.name},
	    {"description", &v.description},
	    {"issued", &v.issued},
	    {"links", &v.links},
	    {"severity", &v.severity},
	    {"normalized_severity", &ns},
	    {"fixed_in_version", &v.fixed_in_version},
	    {"arch_op", &v.arch_op},
	    /* not Clair's: jsonblob.h's exact-range keys, taken when present */
	    {"range_introduced", &v.range_introduced},
	    {"range_fixed", &v.range_fixed},
	    {"range_last_affected", &v.range_last_affected},
	    {"version_kind", &v.version_kind},
	};
	if ((rc = get_strings(in, "", top, sizeof(top) / sizeof(top[0]), d)) < 0)
		goto out;
	if (parse_id(id, &v.id) < 0) {
		rc = diag_fail(d, -EINVAL, "vulnerability: id %.64s is not a row id", id);
		goto out;
	}
	if (!*ns) {
		v.normalized_severity = SEV_UNKNOWN;
	} else if (severity_parse(ns, &v.normalized_severity) < 0) {
		rc = diag_fail(d, -EINVAL, "vulnerability: unknown normalized_severity %.64s", ns);
		goto out;
	}
	if (*v.arch_op && strcmp(v.arch_op, "equals") != 0 && strcmp(v.arch_op, "not equals") != 0 &&
	    strcmp(v.arch_op, "pattern match") != 0) {
		rc = diag_fail(d, -EINVAL, "vulnerability: unknown arch_op %.64s", v.arch_op);
		goto out;
	}
	if (*v.issued) {
		if (!valid_time(v.issued)) {
			rc = diag_fail(d, -EINVAL, "vulnerability: issued %.64s is not an RFC 3339 time", v.issued);
			goto out;
		}
		if (strcmp(v.issued, ZERO_TIME) == 0)
			v.issued[0] = '\0';
	}
	if ((rc = get_obj(in, "package", &o, d)) < 0)
		goto out;
	if (o) {
		const struct strfield pf[] = {
		    {"name", &v.pkg.name}, {"version", &v.pkg.version}, {"module", &v.pkg.module},
		    {"arch", &v.pkg.arch}, {"kind", &v.pkg.kind},
		};
		if ((rc = get_strings(o, "package.", pf, sizeof(pf) / sizeof(pf[0]), d)) < 0)
			goto out;
	}
	if ((rc = get_obj(in, "distribution", &o, d)) < 0)
		goto out;
	if (o) {
		const struct strfield df[] = {
		    {"did", &v.dist.did},
		    {"name", &v.dist.name},
		    {"version", &v.dist.version},
		    {"version_code_name", &v.dist.version_code_name},
		    {"version_id", &v.dist.version_id},
		    {"arch", &v.dist.arch},
		    {"cpe", &v.dist.cpe},
		    {"pretty_name", &v.dist.pretty_name},
		};
		if ((rc = get_strings(o, "distribution.", df, sizeof(df) / sizeof(df[0]), d)) < 0)
			goto out;
	}
	if ((rc = get_obj(in, "repository", &o, d)) < 0)
		goto out;
	if (o) {
		const struct strfield rf[] = {{"name", &v.repo.name}, {"key", &v.repo.key}, {"uri", &v.repo.uri}};
		if ((rc = get_strings(o, "repository.", rf, sizeof(rf) / sizeof(rf[0]), d)) < 0)
			goto out;
	}
	const json_t *rg = json_object_get(in, "range");
	if (rg && !json_is_null(rg) && !json_is_object(rg)) {
		rc = diag_fail(d, -EINVAL, "vulnerability: range must be an object");
		goto out;
	}
	*ret = v;
	v = empty;
	rc = 0;
out:
	free(id);
	free(ns);
	vuln_release(&v);
	return rc;
}

int vulnjson_decode_request(const json_t *body, struct vuln_list *ret, struct diag *d)
{
	const json_t *arr = json_is_object(body) ? json_object_get(body, "vulnerabilities") : NULL;
	size_t i;
	const json_t *x;
	/* Clair's decoder treats an absent or null list as empty */
	if (json_is_object(body) && (!arr || json_is_null(arr)))
		return 0;
	if (!json_is_array(arr))
		return diag_fail(d, -EINVAL, "request: want {\"vulnerabilities\": [...]}");
	if (json_array_size(arr) > VULNJSON_MAX_LIST)
		return diag_fail(d, -EINVAL, "request: more than %d vulnerabilities", VULNJSON_MAX_LIST);
	json_array_foreach(arr, i, x)
	{
		struct vuln v;
		int rc = vulnjson_decode(x, &v, d);
		if (rc < 0) {
			diag_prefix(d, "vulnerabilities[%zu]", i);
			return rc;
		}
		/* take over the strings without a second copy */
		if (ret->n == ret->cap) {
			size_t cap = ret->cap ? ret->cap * 2 : 16;
			struct vuln *p = realloc(ret->v, cap * sizeof(*p));
			if (!p) {
				vuln_release(&v);
				return diag_fail(d, -ENOMEM, "out of memory");
			}
			ret->v = p;
			ret->cap = cap;
		}
		ret->v[ret->n++] = v;
	}
	return 0;
}
