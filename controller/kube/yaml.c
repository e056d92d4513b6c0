#include "controller/kube/yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

struct yparse {
	yaml_parser_t p;
	struct diag *d;
};

static int next_event(struct yparse *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return diag_fail(y->d, -EINVAL, "yaml: %s at line %zu", y->p.problem ? y->p.problem : "parse error",
		                 y->p.problem_mark.line + 1);
	return 0;
}

static bool all_digits(const char *s, size_t n, size_t start)
{
	if (start >= n)
		return false;
	for (size_t i = start; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static json_t *plain_scalar(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '~') ||
	    (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4))))
		return json_null();
	if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4))))
		return json_true();
	if ((n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5))))
		return json_false();
	size_t st = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	if (all_digits(s, n, st) && n - st <= 18 && !(n - st > 1 && s[st] == '0'))
		return json_integer(strtoll(s, NULL, 10));
	/* decimal float: digits '.' digits, optional exponent */
	{
		size_t i = st, dg = 0;
		bool dot = false;
		while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
			if (s[i] == '.')
				dot = true;
			else
				dg++;
			i++;
		}
		if (dot && dg && i == n)
			return json_real(strtod(s, NULL));
	}
	return json_stringn(s, n);
}

static int parse_node(struct yparse *y, yaml_event_t *ev, int depth, json_t **ret);

static int parse_seq(struct yparse *y, int depth, json_t **ret)
{
	json_t *arr = json_array();
	int r;
	if (!arr)
		return -ENOMEM;
	for (;;) {
		yaml_event_t ev;
		json_t *v = NULL;
		if ((r = next_event(y, &ev)) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = parse_node(y, &ev, depth + 1, &v);
		yaml_event_delete(&ev);
		if (r < 0)
			goto fail;
		if (json_array_append_new(arr, v) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = arr;
	return 0;
fail:
	json_decref(arr);
	return r;
}

static int parse_map(struct yparse *y, int depth, json_t **ret)
{
	json_t *obj = json_object();
	int r;
	if (!obj)
		return -ENOMEM;
	for (;;) {
		yaml_event_t ev;
		json_t *v = NULL;
		char *key;
		if ((r = next_event(y, &ev)) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			r = diag_fail(y->d, -EINVAL, "yaml: mapping key is not a scalar at line %zu",
			              y->p.mark.line + 1);
			goto fail;
		}
		if (ev.data.scalar.length == 2 && !memcmp(ev.data.scalar.value, "<<", 2) &&
		    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			yaml_event_delete(&ev);
			r = diag_fail(y->d, -EINVAL, "yaml: merge keys are not supported");
			goto fail;
		}
		key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		if (!key) {
			r = -ENOMEM;
			goto fail;
		}
		if ((r = next_event(y, &ev)) < 0) {
			free(key);
			goto fail;
		}
		r = parse_node(y, &ev, depth + 1, &v);
		yaml_event_delete(&ev);
		if (r < 0) {
			free(key);
			goto fail;
		}
		r = json_object_set_new(obj, key, v);
		free(key);
		if (r < 0) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = obj;
	return 0;
fail:
	json_decref(obj);
	return r;
}

static int parse_node(struct yparse *y, yaml_event_t *ev, int depth, json_t **ret)
{
	if (depth > KUBE_YAML_MAX_DEPTH)
		return diag_fail(y->d, -EINVAL, "yaml: nested deeper than %d", KUBE_YAML_MAX_DEPTH);
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		*ret = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s, n) : json_stringn(s, n);
		return *ret ? 0 : -ENOMEM;
	}
	case YAML_SEQUENCE_START_EVENT:
		return parse_seq(y, depth, ret);
	case YAML_MAPPING_START_EVENT:
		return parse_map(y, depth, ret);
	case YAML_ALIAS_EVENT:
		return diag_fail(y->d, -EINVAL, "yaml: aliases are not supported");
	default:
		return diag_fail(y->d, -EINVAL, "yaml: unexpected event at line %zu", y->p.mark.line + 1);
	}
}

int kube_yaml_to_json(const char *text, size_t n, json_t **ret, struct diag *d)
{
	struct yparse y = {.d = d};
	yaml_event_t ev;
	int r;

	*ret = NULL;
	if (n > KUBE_YAML_MAX)
		return diag_fail(d, -EFBIG, "yaml: document larger than %u bytes", KUBE_YAML_MAX);
	if (!yaml_parser_initialize(&y.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&y.p, (const unsigned char *)text, n);
	for (;;) {
		if ((r = next_event(&y, &ev)) < 0)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			*ret = json_null();
			r = 0;
			goto out;
		}
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		r = parse_node(&y, &ev, 0, ret);
		yaml_event_delete(&ev);
		goto out;
	}
out:
	yaml_parser_delete(&y.p);
	return r;
}
