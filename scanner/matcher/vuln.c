#include "scanner/matcher/vuln.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sev_names[] = {"Unknown", "Negligible", "Low", "Medium", "High", "Critical"};

const char *severity_name(enum severity s)
{
	return (unsigned)s < 6 ? sev_names[s] : "Unknown";
}

int severity_parse(const char *s, enum severity *ret)
{
	for (int i = 0; i < 6; i++)
		if (s && strcasecmp(s, sev_names[i]) == 0) {
			*ret = (enum severity)i;
			return 0;
		}
	return -EINVAL;
}

/* every string field, in one table so copy/release/hash stay in step */
#define VULN_STRINGS(v)                                                                               \
	&(v)->updater, &(v)->name, &(v)->description, &(v)->issued, &(v)->links, &(v)->severity,     \
		&(v)->pkg.name, &(v)->pkg.version, &(v)->pkg.module, &(v)->pkg.arch, &(v)->pkg.kind, \
		&(v)->dist.did, &(v)->dist.name, &(v)->dist.version, &(v)->dist.version_code_name,   \
		&(v)->dist.version_id, &(v)->dist.arch, &(v)->dist.cpe, &(v)->dist.pretty_name,      \
		&(v)->repo.name, &(v)->repo.key, &(v)->repo.uri, &(v)->fixed_in_version,             \
		&(v)->arch_op, &(v)->range_introduced, &(v)->range_fixed, &(v)->range_last_affected, \
		&(v)->version_kind

int vuln_copy(struct vuln *dst, const struct vuln *src)
{
	char **d[] = {VULN_STRINGS(dst)};
	char *const *s[] = {VULN_STRINGS((struct vuln *)src)};
	memset(dst, 0, sizeof(*dst));
	dst->id = src->id;
	dst->normalized_severity = src->normalized_severity;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		*d[i] = strdup(*s[i] ? *s[i] : "");
		if (!*d[i]) {
			vuln_release(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void vuln_release(struct vuln *v)
{
	char **f[] = {VULN_STRINGS(v)};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

int vuln_list_add(struct vuln_list *l, const struct vuln *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vuln *p = realloc(l->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	if (vuln_copy(&l->v[l->n], v) < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

void vuln_list_release(struct vuln_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		vuln_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int vuln_sink_list_add(void *list, const struct vuln *v)
{
	return vuln_list_add(list, v);
}

int vuln_hash(const struct vuln *v, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	const char *const f[] = {v->name, v->description, v->issued, v->links, v->severity, v->pkg.name,
				 v->pkg.version, v->pkg.module, v->pkg.arch, v->pkg.kind, v->dist.did, v->dist.name,
				 v->dist.version, v->dist.version_code_name, v->dist.version_id, v->dist.arch,
				 v->dist.cpe, v->dist.pretty_name, v->repo.name, v->repo.key, v->repo.uri,
				 v->arch_op, v->fixed_in_version, v->version_kind, v->range_introduced,
				 v->range_fixed, v->range_last_affected};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = -ENOMEM;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i])
			EVP_DigestUpdate(ctx, f[i], strlen(f[i]));
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}
