#include "scanner/indexer/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int idx_digest_normalize(const char *s, char *out, size_t n, struct diag *d)
{
	const char *colon = strchr(s, ':');
	size_t alen, hlen, want;

	if (!colon || colon == s || !colon[1])
		return diag_fail(d, -EINVAL, "invalid digest format");
	alen = (size_t)(colon - s);
	hlen = strlen(colon + 1);
	for (size_t i = 0; i < hlen; i++)
		if (!isxdigit((unsigned char)colon[1 + i]))
			return diag_fail(d, -EINVAL, "unable to decode digest as hex");
	if (hlen % 2)
		return diag_fail(d, -EINVAL, "unable to decode digest as hex");
	if (alen == 6 && strncmp(s, "sha256", 6) == 0)
		want = 64;
	else if (alen == 6 && strncmp(s, "sha512", 6) == 0)
		want = 128;
	else
		return diag_fail(d, -EINVAL, "unknown algorthm \"%.*s\"", (int)(alen > 32 ? 32 : alen), s);
	if (hlen != want)
		return diag_fail(d, -EINVAL, "bad checksum length: %zu", hlen / 2);
	if (alen + 1 + hlen + 1 > n)
		return diag_fail(d, -EINVAL, "invalid digest format");
	memcpy(out, s, alen + 1);
	for (size_t i = 0; i < hlen; i++)
		out[alen + 1 + i] = (char)tolower((unsigned char)colon[1 + i]);
	out[alen + 1 + hlen] = '\0';
	return 0;
}

void idx_manifest_release(struct idx_manifest *m)
{
	for (size_t i = 0; i < m->n_layers; i++) {
		struct idx_layer_ref *l = &m->layers[i];
		free(l->hash);
		free(l->uri);
		free(l->media_type);
		for (size_t j = 0; j < l->n_headers; j++)
			free(l->headers[j]);
		free(l->headers);
	}
	free(m->layers);
	free(m->hash);
	memset(m, 0, sizeof(*m));
}

static int parse_headers(json_t *h, struct idx_layer_ref *l, size_t li, struct diag *d)
{
	const char *name;
	json_t *vals;

	if (!h || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return diag_fail(d, -EINVAL, "layers[%zu].headers: want an object of string lists", li);
	json_object_foreach(h, name, vals)
	{
		size_t k;
		json_t *v;
		if (!json_is_array(vals))
			return diag_fail(d, -EINVAL, "layers[%zu].headers[\"%s\"]: want a list of strings", li, name);
		if (!*name || strpbrk(name, "\r\n:"))
			return diag_fail(d, -EINVAL, "layers[%zu].headers: bad header name", li);
		json_array_foreach(vals, k, v)
		{
			char *line;
			if (!json_is_string(v))
				return diag_fail(d, -EINVAL, "layers[%zu].headers[\"%s\"]: want a list of strings", li,
						 name);
			if (strpbrk(json_string_value(v), "\r\n"))
				return diag_fail(d, -EINVAL, "layers[%zu].headers[\"%s\"]: bad header value", li, name);
			if (l->n_headers >= IDX_MAX_HEADERS)
				return diag_fail(d, -EFBIG, "layers[%zu].headers: more than %d values", li,
						 IDX_MAX_HEADERS);
			if (asprintf(&line, "%s: %s", name, json_string_value(v)) < 0)
				return -ENOMEM;
			char **nh = realloc(l->headers, (l->n_headers + 1) * sizeof(*nh));
			if (!nh) {
				free(line);
				return -ENOMEM;
			}
			l->headers = nh;
			l->headers[l->n_headers++] = line;
		}
	}
	return 0;
}

int idx_manifest_parse(const char *json, size_t len, struct idx_manifest *ret, struct diag *d)
{
	json_error_t jerr;
	json_t *root, *layers, *l;
	char norm[160];
	size_t i;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return diag_fail(d, -EINVAL, "could not deserialize manifest: %s (line %d)", jerr.text, jerr.line);
	if (!json_is_object(root)) {
		diag_set(d, "could not deserialize manifest: want a JSON object");
		goto out;
	}
	{
		json_t *h = json_object_get(root, "hash");
		if (h && !json_is_string(h)) {
			diag_set(d, "could not deserialize manifest: \"hash\" must be a string");
			goto out;
		}
		if (!h || !*json_string_value(h)) {
			diag_set(d, "bogus manifest");
			goto out;
		}
		if ((r = idx_digest_normalize(json_string_value(h), norm, sizeof(norm), d)) < 0) {
			diag_prefix(d, "manifest hash");
			goto out;
		}
		r = -ENOMEM;
		if (!(ret->hash = strdup(norm)))
			goto out;
		r = -EINVAL;
	}
	layers = json_object_get(root, "layers");
	if (layers && !json_is_array(layers) && !json_is_null(layers)) {
		diag_set(d, "could not deserialize manifest: \"layers\" must be a list");
		goto out;
	}
	if (!layers || json_array_size(layers) == 0) {
		diag_set(d, "bogus manifest");
		goto out;
	}
	if (json_array_size(layers) > IDX_MAX_LAYERS) {
		r = diag_fail(d, -EFBIG, "manifest has more than %d layers", IDX_MAX_LAYERS);
		goto out;
	}
	ret->layers = calloc(json_array_size(layers), sizeof(*ret->layers));
	if (!ret->layers) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(layers, i, l)
	{
		struct idx_layer_ref *lr = &ret->layers[i];
		json_t *h = json_object_get(l, "hash"), *u = json_object_get(l, "uri"),
		       *mt = json_object_get(l, "media_type");
		ret->n_layers = i + 1;
		if (!json_is_object(l) || !json_is_string(h) || !json_is_string(u) || (mt && !json_is_string(mt) && !json_is_null(mt))) {
			diag_set(d, "could not deserialize manifest: layers[%zu]: want {\"hash\",\"uri\",\"headers\"}", i);
			goto out;
		}
		if ((r = idx_digest_normalize(json_string_value(h), norm, sizeof(norm), d)) < 0) {
			diag_prefix(d, "layers[%zu].hash", i);
			goto out;
		}
		if (!*json_string_value(u)) {
			r = diag_fail(d, -EINVAL, "layers[%zu] \"%s\": empty uri", i, norm);
			goto out;
		}
		lr->hash = strdup(norm);
		lr->uri = strdup(json_string_value(u));
		lr->media_type = strdup(json_is_string(mt) ? json_string_value(mt) : "");
		if (!lr->hash || !lr->uri || !lr->media_type) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = parse_headers(json_object_get(l, "headers"), lr, i, d)) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(root);
	if (r < 0)
		idx_manifest_release(ret);
	return r;
}

size_t idx_manifest_unique_layers(const struct idx_manifest *m, size_t *idx)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		int seen = 0;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(m->layers[idx[j]].hash, m->layers[i].hash) == 0;
		if (!seen)
			idx[n++] = i;
	}
	return n;
}
