#include "scanner/updaters/oval/oval_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum severity oval_severity(enum oval_vendor v, const char *s)
{
	if (!s)
		return SEV_UNKNOWN;
	switch (v) {
	case OVAL_VENDOR_RHEL:
		if (!strcasecmp(s, "low"))
			return SEV_LOW;
		if (!strcasecmp(s, "moderate"))
			return SEV_MEDIUM;
		if (!strcasecmp(s, "important"))
			return SEV_HIGH;
		if (!strcasecmp(s, "critical"))
			return SEV_CRITICAL;
		return SEV_UNKNOWN;
	case OVAL_VENDOR_ORACLE:
		if (!strcmp(s, "LOW"))
			return SEV_LOW;
		if (!strcmp(s, "MODERATE"))
			return SEV_MEDIUM;
		if (!strcmp(s, "IMPORTANT"))
			return SEV_HIGH;
		if (!strcmp(s, "CRITICAL"))
			return SEV_CRITICAL;
		return SEV_UNKNOWN;
	case OVAL_VENDOR_SUSE:
		if (!strcmp(s, "Low"))
			return SEV_LOW;
		if (!strcmp(s, "Moderate"))
			return SEV_MEDIUM;
		if (!strcmp(s, "Important"))
			return SEV_HIGH;
		if (!strcmp(s, "Critical"))
			return SEV_CRITICAL;
		return SEV_UNKNOWN;
	case OVAL_VENDOR_UBUNTU:
		if (!strcmp(s, "Negligible"))
			return SEV_NEGLIGIBLE;
		if (!strcmp(s, "Low"))
			return SEV_LOW;
		if (!strcmp(s, "Medium"))
			return SEV_MEDIUM;
		if (!strcmp(s, "High"))
			return SEV_HIGH;
		if (!strcmp(s, "Critical"))
			return SEV_CRITICAL;
		return SEV_UNKNOWN;
	case OVAL_VENDOR_DEBIAN:
	default:
		return SEV_UNKNOWN;
	}
}

struct oval_src *oval_src_new(const char *name, enum oval_vendor vendor, const char *did, const char *dname,
			      const char *version, const char *code, const char *version_id, const char *cpe,
			      const char *pretty)
{
	struct oval_src *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->vendor = vendor;
	s->name = strdup(name ? name : "");
	s->dist.did = strdup(did ? did : "");
	s->dist.name = strdup(dname ? dname : "");
	s->dist.version = strdup(version ? version : "");
	s->dist.version_code_name = strdup(code ? code : "");
	s->dist.version_id = strdup(version_id ? version_id : "");
	s->dist.arch = strdup("");
	s->dist.cpe = strdup(cpe ? cpe : "");
	s->dist.pretty_name = strdup(pretty ? pretty : "");
	if (!s->name || !s->dist.did || !s->dist.name || !s->dist.version || !s->dist.version_code_name ||
	    !s->dist.version_id || !s->dist.arch || !s->dist.cpe || !s->dist.pretty_name) {
		oval_src_free(s);
		return NULL;
	}
	return s;
}

void oval_src_free(void *priv)
{
	struct oval_src *s = priv;
	if (!s)
		return;
	free(s->name);
	free(s->dist.did);
	free(s->dist.name);
	free(s->dist.version);
	free(s->dist.version_code_name);
	free(s->dist.version_id);
	free(s->dist.arch);
	free(s->dist.cpe);
	free(s->dist.pretty_name);
	free(s);
}

const char *oval_cfg_str(const json_t *cfg, const char *key, const char *def)
{
	const json_t *v = cfg && json_is_object(cfg) ? json_object_get(cfg, key) : NULL;
	return v && json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : def;
}

int oval_cfg_bool(const json_t *cfg, const char *key, int def)
{
	const json_t *v = cfg && json_is_object(cfg) ? json_object_get(cfg, key) : NULL;
	return v && json_is_boolean(v) ? json_is_true(v) : def;
}

void oval_cfg_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int oval_cfg_list(const json_t *cfg, const char *key, char ***ret, size_t *ret_n, struct diag *d)
{
	*ret = NULL;
	*ret_n = 0;
	const json_t *v = cfg && json_is_object(cfg) ? json_object_get(cfg, key) : NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return diag_fail(d, -EINVAL, "config key %s: want a list", key);
	size_t n = json_array_size(v);
	if (n > 10000)
		return diag_fail(d, -EINVAL, "config key %s: too many entries", key);
	char **out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		char tmp[32];
		const char *s;
		if (json_is_string(e)) {
			s = json_string_value(e);
		} else if (json_is_integer(e)) {
			snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(e));
			s = tmp;
		} else {
			oval_cfg_strv_free(out, i);
			return diag_fail(d, -EINVAL, "config key %s[%zu]: want a string or a number", key, i);
		}
		if (strlen(s) > 256 || !(out[i] = strdup(s))) {
			int bad = strlen(s) > 256;
			oval_cfg_strv_free(out, i);
			return bad ? diag_fail(d, -EINVAL, "config key %s[%zu]: too long", key, i) : -ENOMEM;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

const char *oval_cfg_url(const json_t *cfg, const char *name, const char *def)
{
	const json_t *u = cfg && json_is_object(cfg) ? json_object_get(cfg, "urls") : NULL;
	const json_t *v = u && json_is_object(u) ? json_object_get(u, name) : NULL;
	return v && json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : def;
}

int oval_src_push(struct updater_src **arr, size_t *n, const char *name, const char *url, updater_parse_fn parse,
		  struct oval_src *priv, struct diag *d)
{
	if (!priv)
		return diag_fail(d, -ENOMEM, "%s: out of memory", name);
	int rc = updater_src_push(arr, n, name, url, parse, priv, oval_src_free);
	if (rc < 0) {
		oval_src_free(priv);
		return diag_fail(d, rc, "%s: out of memory", name);
	}
	return 0;
}

void oval_vuln_proto(struct vuln *v, const struct oval_src *src, const struct oval_def *def)
{
	memset(v, 0, sizeof(*v));
	v->updater = src->name;
	v->name = def->title;
	v->description = def->description;
	v->issued = def->issued;
	v->links = def->links;
	v->severity = def->severity;
	v->normalized_severity = oval_severity(src->vendor, def->severity);
	v->dist = src->dist;
}

void oval_vuln_leaf(struct vuln *v, const struct oval_leaf *lf, const char *pkg_kind)
{
	v->pkg.name = (char *)lf->name;
	v->pkg.kind = (char *)(pkg_kind ? pkg_kind : "binary");
	v->pkg.module = (char *)lf->module;
	v->pkg.arch = (char *)lf->arch;
	v->arch_op = (char *)lf->arch_op;
	v->fixed_in_version = (char *)(lf->evr ? lf->evr : "");
}
