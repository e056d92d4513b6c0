/* yaml: YAML text to jansson (the first document), for kubeconfig files and Quay's config.yaml.
 * Plain scalars are typed as YAML 1.1 core-ish: null/~/"" -> null, true/false (any case of
 * true/false/yes/no/on/off is NOT applied: only true/True/TRUE/false/False/FALSE) -> bool,
 * decimal integers -> integer, decimal floats -> real; quoted scalars stay strings. Aliases,
 * merge keys and non-scalar mapping keys are rejected. Input capped at KUBE_YAML_MAX bytes and
 * KUBE_YAML_MAX_DEPTH levels. */
#ifndef CONTROLLER_KUBE_YAML_H
#define CONTROLLER_KUBE_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "common/diag.h"

#define KUBE_YAML_MAX (4u << 20)
#define KUBE_YAML_MAX_DEPTH 64

/* 0 and a new reference in *ret (an empty document gives JSON null), or -EINVAL / -EFBIG /
 * -ENOMEM with a message (line number) in d. */
int kube_yaml_to_json(const char *text, size_t n, json_t **ret, struct diag *d);

#endif
