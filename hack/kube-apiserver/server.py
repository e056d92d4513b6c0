#!/usr/bin/env python3
"""A TEST DOUBLE of the Kubernetes API server (never part of the product).

Serves the subset of the Kubernetes REST API that kubectl 1.27-1.33 and the project's controller
use, on loopback, over HTTP and TLS (bearer token).  Standard library only (python3-yaml is used
when present, for apply-patch+yaml bodies that are not JSON).  See README.md next to this file.

    server.py --dir DIR [--minor 32] [--persist] [--token T] [--http-port P] [--https-port P]
"""
import argparse
import base64
import copy
import datetime
import fnmatch
import http.server
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

try:
    import yaml  # Debian python3-yaml; optional
except ImportError:  # pragma: no cover
    yaml = None

HISTORY_MAX = 10000
PRIMITIVE_MERGE = "<primitive>"


# --------------------------------------------------------------------------------------------
# helpers

def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(s):
    try:
        return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}


def status_obj(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason, "code": code}
    if details is not None:
        st["details"] = details
    return st


def qualified(res):
    return res.plural + ("." + res.group if res.group else "")


def err_details(res, name):
    d = {}
    if name:
        d["name"] = name
    if res is not None:
        if res.group:
            d["group"] = res.group
        d["kind"] = res.plural
    return d


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(res), name),
                    err_details(res, name))


def conflict(res, name, why=None):
    msg = ('Operation cannot be fulfilled on %s "%s": %s' %
           (qualified(res), name, why or "the object has been modified; please apply your "
            "changes to the latest version and try again"))
    return ApiError(409, "Conflict", msg, err_details(res, name))


def invalid(res, name, field, message, reason="FieldValueInvalid", kind=None):
    d = err_details(res, name)
    d["causes"] = [{"reason": reason, "message": message, "field": field}]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind or res.kind, name, message), d)


def bad_request(message):
    return ApiError(400, "BadRequest", message)


DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def validate_name(res, name):
    if res.name_rule == "label":
        ok = len(name) <= 63 and DNS1123_LABEL.match(name)
        why = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
               "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
               "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    elif res.name_rule == "dns1035":
        ok = len(name) <= 63 and DNS1035_LABEL.match(name)
        why = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
               "with an alphabetic character, and end with an alphanumeric character (e.g. "
               "'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')")
    else:
        ok = len(name) <= 253 and DNS1123_SUB.match(name)
        why = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
               "'-' or '.', and must start and end with an alphanumeric character (e.g. "
               "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?"
               "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    if not ok:
        raise invalid(res, name, "metadata.name",
                      'metadata.name: Invalid value: "%s": %s' % (name, why))


# --------------------------------------------------------------------------------------------
# resource table

class Res:
    def __init__(self, group, versions, plural, kind, namespaced=True, short=(), status=False,
                 generation=False, smp=True, singular=None, categories=(), name_rule="sub",
                 rv_required=False, create_on_update=False, delete_returns_object=False,
                 crd=None, status_versions=None, extra_fields=()):
        self.group = group
        self.versions = list(versions)
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.status = status
        self.generation = generation
        self.smp = smp
        self.singular = singular or kind.lower()
        self.categories = list(categories)
        self.name_rule = name_rule
        self.rv_required = rv_required
        self.create_on_update = create_on_update
        self.delete_returns_object = delete_returns_object
        self.crd = crd
        self.status_versions = status_versions
        self.extra_fields = set(extra_fields)

    @property
    def key(self):
        return self.group + "/" + self.plural

    def gv(self, version=None):
        v = version or self.versions[0]
        return self.group + "/" + v if self.group else v

    def has_status(self, version=None):
        if self.status_versions is not None:
            return (version or self.versions[0]) in self.status_versions
        return self.status


def builtin_resources():
    R = Res
    return [
        R("", ["v1"], "namespaces", "Namespace", namespaced=False, short=["ns"], status=True,
          name_rule="label", delete_returns_object=True),
        R("", ["v1"], "secrets", "Secret", extra_fields=["type"]),
        R("", ["v1"], "configmaps", "ConfigMap", short=["cm"]),
        R("", ["v1"], "services", "Service", short=["svc"], status=True, categories=["all"],
          name_rule="dns1035"),
        R("", ["v1"], "persistentvolumeclaims", "PersistentVolumeClaim", short=["pvc"],
          status=True),
        R("", ["v1"], "serviceaccounts", "ServiceAccount", short=["sa"],
          delete_returns_object=True),
        R("", ["v1"], "events", "Event", short=["ev"],
          extra_fields=["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                        "involvedObject.uid", "involvedObject.apiVersion",
                        "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                        "reportingComponent", "source", "type"]),
        R("apps", ["v1"], "deployments", "Deployment", short=["deploy"], status=True,
          generation=True, categories=["all"]),
        R("batch", ["v1"], "jobs", "Job", status=True, generation=True, categories=["all"]),
        R("coordination.k8s.io", ["v1"], "leases", "Lease", rv_required=True,
          create_on_update=True),
        R("policy", ["v1"], "poddisruptionbudgets", "PodDisruptionBudget", short=["pdb"],
          status=True, generation=True),
        R("apiextensions.k8s.io", ["v1"], "customresourcedefinitions",
          "CustomResourceDefinition", namespaced=False, short=["crd", "crds"], status=True,
          generation=True, smp=False, categories=["api-extensions"]),
    ]


# --------------------------------------------------------------------------------------------
# selectors

class LabelSelector:
    TOKEN = re.compile(r"\s*(\(|\)|,|!=|==|=|!|[^\s(),!=]+)")

    def __init__(self, text):
        self.reqs = []
        text = text or ""
        if not text.strip():
            return
        toks = []
        pos = 0
        while pos < len(text):
            m = self.TOKEN.match(text, pos)
            if not m:
                if text[pos:].strip() == "":
                    break
                raise bad_request("unable to parse requirement: invalid label selector: %r" % text)
            toks.append(m.group(1))
            pos = m.end()
        i = 0

        def need(cond, what):
            if not cond:
                raise bad_request("unable to parse requirement: %s: %r" % (what, text))

        while i < len(toks):
            if toks[i] == "!":
                need(i + 1 < len(toks), "missing key after '!'")
                key = toks[i + 1]
                self._check_key(key, text)
                self.reqs.append((key, "!", None))
                i += 2
            else:
                key = toks[i]
                self._check_key(key, text)
                i += 1
                if i >= len(toks) or toks[i] == ",":
                    self.reqs.append((key, "exists", None))
                elif toks[i] in ("=", "==", "!="):
                    op = "!=" if toks[i] == "!=" else "="
                    i += 1
                    val = ""
                    if i < len(toks) and toks[i] not in (",", "(", ")", "=", "==", "!=", "!"):
                        val = toks[i]
                        i += 1
                    need(LABEL_VALUE.match(val) and len(val) <= 63, "invalid label value")
                    self.reqs.append((key, op, val))
                elif toks[i] in ("in", "notin"):
                    op = toks[i]
                    i += 1
                    need(i < len(toks) and toks[i] == "(", "expected '('")
                    i += 1
                    vals = []
                    while True:
                        need(i < len(toks), "unterminated set")
                        if toks[i] == ")":
                            i += 1
                            break
                        if toks[i] == ",":
                            i += 1
                            continue
                        need(LABEL_VALUE.match(toks[i]), "invalid label value")
                        vals.append(toks[i])
                        i += 1
                    self.reqs.append((key, op, set(vals)))
                else:
                    need(False, "found '%s', expected: '=', '!=', '==', 'in', notin'" % toks[i])
            if i < len(toks):
                need(toks[i] == ",", "expected ','")
                i += 1
                need(i < len(toks), "trailing ','")

    @staticmethod
    def _check_key(key, text):
        if not LABEL_NAME.match(key) or key in ("in", "notin"):
            raise bad_request("unable to parse requirement: invalid label key %r in %r" %
                              (key, text))

    def matches(self, labels):
        labels = labels or {}
        for key, op, val in self.reqs:
            have = key in labels
            v = labels.get(key)
            if op == "exists" and not have:
                return False
            if op == "!" and have:
                return False
            if op == "=" and v != val:
                return False
            if op == "!=" and have and v == val:
                return False
            if op == "in" and (not have or v not in val):
                return False
            if op == "notin" and have and v in val:
                return False
        return True


class FieldSelector:
    def __init__(self, text, res):
        self.reqs = []
        if not text:
            return
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            m = re.match(r"^([^=!]+)(==|!=|=)(.*)$", part)
            if not m:
                raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
            field, op, val = m.group(1), m.group(2), m.group(3)
            if field not in ("metadata.name", "metadata.namespace") and \
                    field not in res.extra_fields:
                raise bad_request('field label not supported: %s' % field)
            self.reqs.append((field, op != "!=", val))

    def matches(self, obj):
        for field, eq, val in self.reqs:
            cur = obj
            for p in field.split("."):
                cur = cur.get(p) if isinstance(cur, dict) else None
            cur = "" if cur is None else str(cur)
            if (cur == val) != eq:
                return False
        return True


# --------------------------------------------------------------------------------------------
# patches

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "the server rejected our request due to an error in our "
                       "request: invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _jp_parent(doc, parts):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict):
            cur = cur[p]
        else:
            raise KeyError(p)
    return cur


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)

    def get(parts):
        cur = doc
        for p in parts:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def remove(parts):
        par = _jp_parent(doc, parts)
        if isinstance(par, list):
            return par.pop(int(parts[-1]))
        return par.pop(parts[-1])

    def add(parts, val):
        nonlocal doc
        if not parts:
            doc = val
            return
        par = _jp_parent(doc, parts)
        if isinstance(par, list):
            if parts[-1] == "-":
                par.append(val)
            else:
                idx = int(parts[-1])
                if idx > len(par):
                    raise IndexError(idx)
                par.insert(idx, val)
        elif isinstance(par, dict):
            par[parts[-1]] = val
        else:
            raise KeyError(parts[-1])

    for op in ops:
        try:
            kind = op["op"]
            parts = _ptr(op["path"])
            if kind == "add":
                add(parts, copy.deepcopy(op["value"]))
            elif kind == "remove":
                remove(parts)
            elif kind == "replace":
                get(parts)
                remove(parts)
                add(parts, copy.deepcopy(op["value"]))
            elif kind == "move":
                v = remove(_ptr(op["from"]))
                add(parts, v)
            elif kind == "copy":
                add(parts, copy.deepcopy(get(_ptr(op["from"]))))
            elif kind == "test":
                if get(parts) != op["value"]:
                    raise ApiError(422, "Invalid", "the server rejected our request due to an "
                                   "error in our request: testing value %s failed: test failed"
                                   % op["path"])
            else:
                raise ApiError(422, "Invalid", "Unexpected kind: %s" % kind)
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", "the server rejected our request due to an error in "
                           "our request: %s operation does not apply: doc is missing path: %s"
                           % (op.get("op") if isinstance(op, dict) else op,
                              op.get("path") if isinstance(op, dict) else ""))
    return doc


CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def smp_merge_key(path, kind):
    """Merge key of the list at PATH (tuple of map keys; list levels are elided)."""
    last = path[-1]
    if last in CONTAINER_LISTS or last in ("env", "imagePullSecrets", "resourceClaims",
                                           "schedulingGates", "readinessGates"):
        return "conditionType" if last == "readinessGates" else "name"
    if last == "volumes":
        return "name"
    if last == "ports":
        if any(p in CONTAINER_LISTS for p in path[:-1]):
            return "containerPort"
        if kind == "Service" and path == ("spec", "ports"):
            return "port"
        return None
    if last == "volumeMounts":
        return "mountPath"
    if last == "volumeDevices":
        return "devicePath"
    if last == "conditions":
        return "type"
    if last == "ownerReferences" and path == ("metadata", "ownerReferences"):
        return "uid"
    if last == "finalizers" and path == ("metadata", "finalizers"):
        return PRIMITIVE_MERGE
    if last == "hostAliases":
        return "ip"
    if last == "topologySpreadConstraints":
        return "topologyKey"
    return None


def strip_directives(v):
    if isinstance(v, dict):
        return {k: strip_directives(x) for k, x in v.items()
                if not k.startswith("$") and x is not None}
    if isinstance(v, list):
        return [strip_directives(x) for x in v]
    return v


def smp_apply(orig, patch, path, kind):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(orig, dict):
        orig = {}
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return strip_directives(patch)
    retain = patch.pop("$retainKeys", None)
    out = copy.deepcopy(orig)
    orders, delprims = {}, {}
    for k in list(patch):
        if k.startswith("$setElementOrder/"):
            orders[k[len("$setElementOrder/"):]] = patch.pop(k)
        elif k.startswith("$deleteFromPrimitiveList/"):
            delprims[k[len("$deleteFromPrimitiveList/"):]] = patch.pop(k)
    for k, v in patch.items():
        sub = path + (k,)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            if v.get("$patch") == "delete":
                out.pop(k, None)
            else:
                out[k] = smp_apply(out.get(k), v, sub, kind)
        elif isinstance(v, list):
            mk = smp_merge_key(sub, kind)
            if mk is None:
                out[k] = strip_directives(v)
            elif mk == PRIMITIVE_MERGE:
                cur = list(out.get(k) or [])
                for x in v:
                    if x not in cur:
                        cur.append(x)
                out[k] = cur
            else:
                out[k] = smp_merge_list(out.get(k) or [], v, mk, sub, kind)
        else:
            out[k] = v
    for k, vals in delprims.items():
        if isinstance(out.get(k), list):
            out[k] = [x for x in out[k] if x not in vals]
    for k, order in orders.items():
        cur = out.get(k)
        if not isinstance(cur, list) or not isinstance(order, list):
            continue
        mk = smp_merge_key(path + (k,), kind)
        if mk in (None, PRIMITIVE_MERGE):
            keyf = lambda x: json.dumps(x, sort_keys=True)  # noqa: E731
            okeys = [keyf(o) for o in order]
        else:
            keyf = lambda x: x.get(mk) if isinstance(x, dict) else None  # noqa: E731
            okeys = [o.get(mk) if isinstance(o, dict) else None for o in order]
        ordered = []
        for ok in okeys:
            for item in cur:
                if keyf(item) == ok and item not in ordered:
                    ordered.append(item)
        ordered += [item for item in cur if item not in ordered]
        out[k] = ordered
    if isinstance(retain, list):
        for key in list(out):
            if key not in retain:
                del out[key]
    return out


def smp_merge_list(orig, plist, mk, path, kind):
    for item in plist:
        if isinstance(item, dict) and item.get("$patch") == "replace":
            return [strip_directives(x) for x in plist
                    if not (isinstance(x, dict) and "$patch" in x)]
    out = copy.deepcopy(orig)
    for item in plist:
        if not isinstance(item, dict):
            if item not in out:
                out.append(item)
            continue
        key = item.get(mk)
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(mk) == key),
                   None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is not None:
            out[idx] = smp_apply(out[idx], item, path, kind)
        else:
            out.append(smp_apply({}, item, path, kind))
    return out


def fields_v1(obj, kind="", path=()):
    """The FieldsV1 set of an applied configuration (maps by key, keyed lists by merge key,
    every other list atomic)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if path == () and k in ("apiVersion", "kind"):
                continue
            if path == ("metadata",) and k in ("name", "namespace", "resourceVersion",
                                               "managedFields"):
                continue
            if isinstance(v, dict) and v:
                out["f:" + k] = fields_v1(v, kind, path + (k,))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and \
                    smp_merge_key(path + (k,), kind) not in (None, PRIMITIVE_MERGE) and \
                    all(smp_merge_key(path + (k,), kind) in x for x in v):
                mk = smp_merge_key(path + (k,), kind)
                sub = {}
                for x in v:
                    sub["k:" + json.dumps({mk: x[mk]}, separators=(",", ":"))] = \
                        dict(fields_v1(x, kind, path + (k,)), **{".": {}})
                out["f:" + k] = sub
            else:
                out["f:" + k] = {}
    return out


def _fs_step(cur, tok):
    """One FieldsV1 path step in an object: (found, value, container, index-or-key)."""
    if tok.startswith("f:"):
        if isinstance(cur, dict) and tok[2:] in cur:
            return True, cur[tok[2:]], cur, tok[2:]
        return False, None, None, None
    if tok.startswith("k:") and isinstance(cur, list):
        try:
            key = json.loads(tok[2:])
        except ValueError:
            return False, None, None, None
        for i, item in enumerate(cur):
            if isinstance(item, dict) and all(item.get(k) == v for k, v in key.items()):
                return True, item, cur, i
    return False, None, None, None


def fs_get(obj, path):
    cur = obj
    for tok in path:
        ok, cur, _, _ = _fs_step(cur, tok)
        if not ok:
            return False, None
    return True, cur


def fs_remove(obj, path):
    cur, parent, where = obj, None, None
    for tok in path:
        ok, cur, parent, where = _fs_step(cur, tok)
        if not ok:
            return
    if parent is not None:
        del parent[where]


def fs_has(fs, path):
    cur = fs
    for tok in path:
        if not isinstance(cur, dict) or tok not in cur:
            return False
        cur = cur[tok]
    return True


def fs_leaves(fs, path=()):
    for k, v in fs.items():
        if k == ".":
            continue
        if isinstance(v, dict) and set(v) - {"."}:
            yield from fs_leaves(v, path + (k,))
        else:
            yield path + (k,)


def fs_prune(obj, prev, new, others, path=()):
    """Remove from OBJ the fields PREV applied that NEW no longer applies (unless another
    applier owns them)."""
    for k, sub in prev.items():
        if k == ".":
            continue
        p = path + (k,)
        nsub = new.get(k) if isinstance(new, dict) else None
        if nsub is None:
            if k.startswith("k:") or not (isinstance(sub, dict) and set(sub) - {"."}):
                if not any(fs_has(o, p) for o in others):
                    fs_remove(obj, p)
            else:
                fs_prune(obj, sub, {}, others, p)
        elif isinstance(sub, dict):
            fs_prune(obj, sub, nsub, others, p)


def fs_path_str(path):
    out = ""
    for tok in path:
        if tok.startswith("f:"):
            out += "." + tok[2:]
        else:
            key = json.loads(tok[2:])
            out += "[" + ",".join("%s=%s" % (k, json.dumps(v)) for k, v in key.items()) + "]"
    return out


# --------------------------------------------------------------------------------------------
# protobuf request bodies (kubectl's typed clients, e.g. `kubectl create configmap`, send them)

def _pb_fields(data):
    i, n = 0, len(data)

    def varint():
        nonlocal i
        shift = val = 0
        while True:
            if i >= n or shift > 63:
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            val |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return val
    while i < n:
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            yield num, varint()
        elif wt == 2:
            ln = varint()
            if i + ln > n:
                raise ValueError("truncated field")
            yield num, data[i:i + ln]
            i += ln
        elif wt == 1:
            yield num, data[i:i + 8]
            i += 8
        elif wt == 5:
            yield num, data[i:i + 4]
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wt)


PB_OWNERREF = {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"),
               5: ("apiVersion", "str"), 6: ("controller", "bool"),
               7: ("blockOwnerDeletion", "bool")}
PB_OBJECTMETA = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
                 5: ("uid", "str"), 6: ("resourceVersion", "str"), 7: ("generation", "int"),
                 11: ("labels", "map"), 12: ("annotations", "map"),
                 13: ("ownerReferences", ("list", PB_OWNERREF)), 14: ("finalizers", "strs")}
PB_LOCALREF = {1: ("name", "str")}
PB_OBJREF = {1: ("kind", "str"), 2: ("namespace", "str"), 3: ("name", "str"), 4: ("uid", "str"),
             5: ("apiVersion", "str"), 6: ("resourceVersion", "str"), 7: ("fieldPath", "str")}
PB_INTORSTR = {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "str")}
PB_LABELSELECTOR = {1: ("matchLabels", "map"),
                    2: ("matchExpressions", ("list", {1: ("key", "str"), 2: ("operator", "str"),
                                                      3: ("values", "strs")}))}
PB_CONTAINER = {1: ("name", "str"), 2: ("image", "str"), 3: ("command", "strs"),
                4: ("args", "strs"), 5: ("workingDir", "str"),
                6: ("ports", ("list", {1: ("name", "str"), 2: ("hostPort", "int"),
                                       3: ("containerPort", "int"), 4: ("protocol", "str"),
                                       5: ("hostIP", "str")})),
                7: ("env", ("list", {1: ("name", "str"), 2: ("value", "str")})),
                8: ("resources", ("msg", {})), 14: ("imagePullPolicy", "str")}
PB_PODTEMPLATE = {1: ("metadata", ("msg", PB_OBJECTMETA)),
                  2: ("spec", ("msg", {2: ("containers", ("list", PB_CONTAINER)),
                                       3: ("restartPolicy", "str"),
                                       8: ("serviceAccountName", "str")}))}
PB_KINDS = {
    "Deployment": {1: ("metadata", ("msg", PB_OBJECTMETA)),
                   2: ("spec", ("msg", {1: ("replicas", "int0"),
                                        2: ("selector", ("msg", PB_LABELSELECTOR)),
                                        3: ("template", ("msg", PB_PODTEMPLATE)),
                                        4: ("strategy", ("msg", {1: ("type", "str")}))}))},
    "Job": {1: ("metadata", ("msg", PB_OBJECTMETA)),
            2: ("spec", ("msg", {1: ("parallelism", "int0"), 2: ("completions", "int0"),
                                 6: ("template", ("msg", PB_PODTEMPLATE)),
                                 7: ("backoffLimit", "int0")}))},
    "Service": {1: ("metadata", ("msg", PB_OBJECTMETA)),
                2: ("spec", ("msg", {1: ("ports", ("list", {
                    1: ("name", "str"), 2: ("protocol", "str"), 3: ("port", "int"),
                    4: ("targetPort", ("msg", PB_INTORSTR)), 5: ("nodePort", "int")})),
                    2: ("selector", "map"), 3: ("clusterIP", "str"), 4: ("type", "str"),
                    10: ("externalName", "str")}))},
    "ConfigMap": {1: ("metadata", ("msg", PB_OBJECTMETA)), 2: ("data", "map"),
                  3: ("binaryData", "map64"), 4: ("immutable", "bool")},
    "Secret": {1: ("metadata", ("msg", PB_OBJECTMETA)), 2: ("data", "map64"), 3: ("type", "str"),
               4: ("stringData", "map"), 5: ("immutable", "bool")},
    "Namespace": {1: ("metadata", ("msg", PB_OBJECTMETA)),
                  2: ("spec", ("msg", {1: ("finalizers", "strs")}))},
    "ServiceAccount": {1: ("metadata", ("msg", PB_OBJECTMETA)),
                       2: ("secrets", ("list", PB_OBJREF)),
                       3: ("imagePullSecrets", ("list", PB_LOCALREF)),
                       4: ("automountServiceAccountToken", "bool")},
}


def _pb_msg(data, schema):
    out = {}
    for num, val in _pb_fields(data):
        if num not in schema:
            continue
        name, typ = schema[num]
        if typ == "str":
            if val:
                out[name] = val.decode()
        elif typ == "bool":
            out[name] = bool(val)
        elif typ in ("int", "int0"):
            if val >= 1 << 63:
                val -= 1 << 64
            if val or typ == "int0":
                out[name] = val
        elif typ == "strs":
            out.setdefault(name, []).append(val.decode())
        elif typ in ("map", "map64"):
            ent = dict(_pb_fields(val))
            v = ent.get(2, b"")
            out.setdefault(name, {})[ent.get(1, b"").decode()] = \
                v.decode() if typ == "map" else base64.b64encode(v).decode()
        elif typ[0] == "msg":
            out[name] = _pb_msg(val, typ[1])
        elif typ[0] == "list":
            out.setdefault(name, []).append(_pb_msg(val, typ[1]))
    return out


def decode_k8s_protobuf(body):
    """Decode a k8s protobuf envelope ("k8s\\0" + runtime.Unknown) for the kinds in PB_KINDS."""
    if body[:4] != b"k8s\x00":
        raise bad_request("the body of the request was in an unknown format: missing protobuf "
                          "magic")
    try:
        unk = dict(_pb_fields(body[4:]))
        tm = dict(_pb_fields(unk.get(1, b"")))
        api_version, kind = tm.get(1, b"").decode(), tm.get(2, b"").decode()
        if kind not in PB_KINDS:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: application/json, "
                           "application/yaml (this test double decodes protobuf only for %s)"
                           % ", ".join(sorted(PB_KINDS)))
        obj = {"apiVersion": api_version, "kind": kind}
        obj.update(_pb_msg(unk.get(2, b""), PB_KINDS[kind]))
        for p in ((obj.get("spec") or {}).get("ports") or []):
            tp = p.get("targetPort")
            if isinstance(tp, dict):  # IntOrString
                if tp.get("type") == 1:
                    p["targetPort"] = tp.get("strVal", "")
                elif tp.get("intVal"):
                    p["targetPort"] = tp["intVal"]
                else:
                    del p["targetPort"]
        return obj
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request("the body of the request was in an unknown format: %s" % e)


# --------------------------------------------------------------------------------------------
# the store

class Store:
    def __init__(self, opts, ca_pem=""):
        self.opts = opts
        self.ca_pem = ca_pem
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.compacted_rv = 0
        self.history = []          # (rv, type, rkey, obj, old)
        self.objects = {}          # (rkey, ns, name) -> obj
        self.resources = {}        # rkey -> Res
        self.next_ip = 10
        self.dirty = False
        self.config = {"deploymentReadySeconds": opts.deployment_delay,
                       "gcDelaySeconds": 0.0, "stallDeployments": [],
                       "bookmarkIntervalSeconds": 5.0, "namespaceCleanupDelaySeconds": 0.5}
        self.rollouts = {}         # deployment key -> [generation, start time]
        self.watch_epoch = 0       # bumped by the expire-watches test hook
        self.conflicts = {}        # request path -> writes still to answer 409 (test hook)
        self.gc_wake = threading.Event()
        for r in builtin_resources():
            self.resources[r.key] = r
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            with self.lock:
                self._create_raw(self.resources["/namespaces"], None,
                                 {"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": ns}, "spec": {}})

    # --- lookup
    def find_res(self, group, version, plural):
        r = self.resources.get(group + "/" + plural)
        if r is None or version not in r.versions:
            return None
        return r

    def groups(self):
        gs = {}
        for r in self.resources.values():
            if r.group:
                gs.setdefault(r.group, [])
                for v in r.versions:
                    if v not in gs[r.group]:
                        gs[r.group].append(v)
        return gs

    def get(self, res, ns, name):
        return self.objects.get((res.key, ns or "", name))

    def by_uid(self):
        return {o["metadata"].get("uid"): (k, o) for k, o in self.objects.items()}

    # --- low level write; caller holds the lock
    def _bump(self):
        self.rv += 1
        return str(self.rv)

    def _emit(self, typ, res, obj, old=None):
        self.history.append((self.rv, typ, res.key, copy.deepcopy(obj), old))
        if len(self.history) > HISTORY_MAX:
            drop = self.history[:len(self.history) - HISTORY_MAX]
            self.compacted_rv = drop[-1][0]
            del self.history[:len(drop)]
        self.dirty = True
        self.cond.notify_all()
        self.gc_wake.set()

    def compact(self):
        with self.lock:
            self.history = []
            self.compacted_rv = self.rv
            self.cond.notify_all()

    def _put(self, res, obj, typ, old=None):
        md = obj["metadata"]
        md["resourceVersion"] = self._bump()
        self.objects[(res.key, md.get("namespace", ""), md["name"])] = obj
        self._emit(typ, res, obj, old)
        if res.key == "apiextensions.k8s.io/customresourcedefinitions":
            self._register_crd(obj)

    def _remove(self, res, obj):
        md = obj["metadata"]
        self.objects.pop((res.key, md.get("namespace", ""), md["name"]), None)
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = self._bump()
        self._emit("DELETED", res, obj)
        if res.key == "apiextensions.k8s.io/customresourcedefinitions":
            self._unregister_crd(obj)
        return obj

    def _create_raw(self, res, ns, obj):
        md = obj.setdefault("metadata", {})
        if ns:
            md["namespace"] = ns
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_ts()
        if res.generation:
            md["generation"] = 1
        self._default(res, obj, None)
        self._put(res, obj, "ADDED")
        if res.kind == "Namespace":
            # what the serviceaccount and root-ca-cert-publisher controllers add
            name = md["name"]
            self._create_raw(self.resources["/serviceaccounts"], name,
                             {"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": "default"}})
            self._create_raw(self.resources["/configmaps"], name, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to "
                    "verify the kube-apiserver when using internal endpoints such as the "
                    "internal service IP or kubernetes.default.svc. No other usage is "
                    "guaranteed across distributions of Kubernetes clusters."}},
                "data": {"ca.crt": self.ca_pem}})
        return obj

    # --- CRDs
    def _register_crd(self, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group")
        plural = names.get("plural")
        if not group or not plural or not names.get("kind"):
            return
        served = [v for v in spec.get("versions") or [] if v.get("served", True)]
        if not served:
            return
        # the storage version first: it is the preferred version in discovery
        served.sort(key=lambda v: (not v.get("storage", False)))
        versions = [v["name"] for v in served]
        stat = {v["name"] for v in served if "status" in (v.get("subresources") or {})}
        key = group + "/" + plural
        old = self.resources.get(key)
        if old is not None and old.crd is None:
            return
        self.resources[key] = Res(group, versions, plural, names["kind"],
                                  namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                                  short=names.get("shortNames") or [], generation=True,
                                  smp=False, singular=names.get("singular"),
                                  categories=names.get("categories") or [],
                                  rv_required=True, crd=crd["metadata"]["name"],
                                  status_versions=stat)

    def _unregister_crd(self, crd):
        spec = crd.get("spec") or {}
        key = (spec.get("group") or "") + "/" + ((spec.get("names") or {}).get("plural") or "")
        res = self.resources.get(key)
        if res is None or res.crd is None:
            return
        for k in [k for k in self.objects if k[0] == key]:
            self._remove(res, self.objects[k])
        del self.resources[key]

    # --- defaulting and type-specific rules (create: old is None)
    def _default(self, res, obj, old):
        kind = res.kind
        spec = obj.get("spec")
        if kind == "Namespace":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            if old is None or not obj.get("status"):
                obj["status"] = (old or {}).get("status") or {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
                obj["metadata"]["name"]
        elif kind == "Secret":
            sd = obj.pop("stringData", None)
            if sd:
                data = obj.setdefault("data", {}) or {}
                obj["data"] = data
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
            for k, v in (obj.get("data") or {}).items():
                try:
                    base64.b64decode(v or "", validate=True)
                except (ValueError, TypeError):
                    raise bad_request("illegal base64 data in Secret data[%s]" % k)
        elif kind == "Service":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            oldspec = (old or {}).get("spec") or {}
            if spec.get("type") != "ExternalName":
                if not spec.get("clusterIP") and oldspec.get("clusterIP"):
                    spec["clusterIP"] = oldspec["clusterIP"]
                    spec["clusterIPs"] = oldspec.get("clusterIPs") or [oldspec["clusterIP"]]
                if not spec.get("clusterIP"):
                    spec["clusterIP"] = "10.96.%d.%d" % (self.next_ip // 250,
                                                        self.next_ip % 250 + 2)
                    self.next_ip += 1
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
                if spec["clusterIP"] != "None":
                    spec.setdefault("ipFamilies", ["IPv4"])
                    spec.setdefault("ipFamilyPolicy", "SingleStack")
                spec.setdefault("internalTrafficPolicy", "Cluster")
            oldports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                        for p in oldspec.get("ports") or [] if isinstance(p, dict)}
            for p in spec.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
                    if "port" in p:
                        p.setdefault("targetPort", p["port"])
                    if spec.get("type") in ("NodePort", "LoadBalancer") and \
                            not p.get("nodePort"):
                        p["nodePort"] = oldports.get((p.get("port"), p["protocol"])) or \
                            30000 + (self.next_ip * 7 + len(spec["ports"])) % 2768
                        self.next_ip += 1
            if spec.get("type") in ("NodePort", "LoadBalancer"):
                spec.setdefault("externalTrafficPolicy", "Cluster")
            if old is None:
                obj["status"] = {"loadBalancer": {}}
        elif kind == "PersistentVolumeClaim":
            obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
            if old is None:
                obj["status"] = {"phase": "Pending"}
        elif kind in ("Deployment", "Job"):
            spec = obj.setdefault("spec", {})
            if kind == "Deployment":
                spec.setdefault("replicas", 1)
                spec.setdefault("revisionHistoryLimit", 10)
                spec.setdefault("progressDeadlineSeconds", 600)
                st = spec.setdefault("strategy", {"type": "RollingUpdate"})
                st.setdefault("type", "RollingUpdate")
                if st["type"] == "RollingUpdate":
                    ru = st.setdefault("rollingUpdate", {})
                    ru.setdefault("maxUnavailable", "25%")
                    ru.setdefault("maxSurge", "25%")
            else:
                spec.setdefault("parallelism", 1)
                spec.setdefault("completions", 1)
                spec.setdefault("backoffLimit", 6)
                spec.setdefault("completionMode", "NonIndexed")
                spec.setdefault("suspend", False)
            tmpl = spec.setdefault("template", {})
            ps = tmpl.setdefault("spec", {})
            ps.setdefault("restartPolicy", "Always" if kind == "Deployment" else "Never")
            ps.setdefault("terminationGracePeriodSeconds", 30)
            ps.setdefault("dnsPolicy", "ClusterFirst")
            ps.setdefault("securityContext", {})
            ps.setdefault("schedulerName", "default-scheduler")
            for c in (ps.get("containers") or []) + (ps.get("initContainers") or []):
                if not isinstance(c, dict):
                    continue
                c.setdefault("terminationMessagePath", "/dev/termination-log")
                c.setdefault("terminationMessagePolicy", "File")
                img = c.get("image") or ""
                tagged = ":" in img.rsplit("/", 1)[-1] or "@" in img
                latest = img.endswith(":latest") or not tagged
                c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
                c.setdefault("resources", {})
                for p in c.get("ports") or []:
                    if isinstance(p, dict):
                        p.setdefault("protocol", "TCP")
            if old is None:
                obj["status"] = {}
                if kind == "Job":
                    obj["status"] = {"startTime": now_ts(), "active": 1,
                                     "ready": 0, "terminating": 0}
        elif kind == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            names = dict(spec.get("names") or {})
            group = spec.get("group") or ""
            if obj["metadata"]["name"] != "%s.%s" % (names.get("plural"), group):
                raise invalid(res, obj["metadata"]["name"], "metadata.name",
                              'metadata.name: Invalid value: "%s": must be spec.names.plural+"."'
                              '+spec.group' % obj["metadata"]["name"])
            if not names.get("kind"):
                raise invalid(res, obj["metadata"]["name"], "spec.names.kind",
                              "spec.names.kind: Required value", "FieldValueRequired")
            key = group + "/" + names.get("plural", "")
            clash = self.resources.get(key)
            if clash is not None and clash.crd is None:
                raise invalid(res, obj["metadata"]["name"], "spec.group",
                              'spec.group: Invalid value: "%s": conflicts with a built-in '
                              'resource' % group)
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")
            spec.setdefault("scope", "Namespaced")
            for v in spec.get("versions") or []:
                v.setdefault("served", True)
            storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
            oldst = ((old or {}).get("status") or {}).get("storedVersions") or []
            t = now_ts()
            prev = {c.get("type"): c for c in ((old or {}).get("status") or {}).get(
                "conditions") or []}

            def cond(typ, reason, msg):
                return {"type": typ, "status": "True",
                        "lastTransitionTime": (prev.get(typ) or {}).get(
                            "lastTransitionTime", t), "reason": reason, "message": msg}
            obj["status"] = {
                "conditions": [cond("NamesAccepted", "NoConflicts", "no conflicts found"),
                               cond("Established", "InitialNamesAccepted",
                                    "the initial names have been accepted")],
                "acceptedNames": names,
                "storedVersions": sorted(set(oldst) | set(storage))}
        elif kind == "PodDisruptionBudget":
            if old is None:
                obj["status"] = {"observedGeneration": 1, "disruptionsAllowed": 0,
                                 "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    # --- persistence
    def save(self, path):
        with self.lock:
            if not self.dirty:
                return
            data = json.dumps({"rv": self.rv, "nextIP": self.next_ip,
                               "objects": [{"resource": k[0], "object": o}
                                           for k, o in self.objects.items()]})
            self.dirty = False
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, path)

    def load(self, path):
        with open(path) as f:
            data = json.load(f)
        with self.lock:
            self.objects = {}
            items = data.get("objects") or []
            for it in items:
                if it["resource"] == "apiextensions.k8s.io/customresourcedefinitions":
                    self._register_crd(it["object"])
            for it in items:
                o = it["object"]
                md = o["metadata"]
                self.objects[(it["resource"], md.get("namespace", ""), md["name"])] = o
            self.rv = int(data.get("rv", 1))
            self.next_ip = int(data.get("nextIP", 10))
            self.compacted_rv = self.rv


# --------------------------------------------------------------------------------------------
# API operations (hold store.lock)

SPEC_IGNORED = ("metadata", "status")


class Api:
    def __init__(self, store):
        self.s = store

    # -------------------------------------------------------------- helpers
    def _check_kind(self, res, version, body):
        if not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format - accepted "
                              "media types include: application/json, application/yaml")
        kind = body.get("kind")
        if not kind:
            raise bad_request("Object 'Kind' is missing in '%s'" %
                              json.dumps(body, separators=(",", ":"))[:200])
        if kind != res.kind:
            raise bad_request("the API version in the data (%s) does not match the expected API "
                              "version (%s)" % (body.get("apiVersion"), res.gv(version))
                              if body.get("apiVersion") != res.gv(version)
                              else "%s in version \"%s\" cannot be handled as a %s: no kind "
                              "\"%s\" is registered for version \"%s\"" %
                              (res.kind, version, res.kind, kind, res.gv(version)))
        av = body.get("apiVersion")
        if av and av != res.gv(version):
            raise bad_request("the API version in the data (%s) does not match the expected API "
                              "version (%s)" % (av, res.gv(version)))
        if not isinstance(body.get("metadata", {}), dict):
            raise bad_request("metadata must be an object")

    def _ns_exists(self, ns, creating=False):
        nsobj = self.s.get(self.s.resources["/namespaces"], None, ns)
        if nsobj is None:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                           {"name": ns, "kind": "namespaces"})
        if creating and nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", "unable to create new content in namespace %s "
                           "because it is being terminated" % ns,
                           {"name": ns, "kind": "namespaces"})

    def _out(self, res, obj, version):
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = res.gv(version)
        obj["kind"] = res.kind
        return obj

    @staticmethod
    def _spec_part(obj, ignore_status):
        return {k: v for k, v in obj.items()
                if k != "metadata" and not (ignore_status and k == "status")
                and k not in ("apiVersion", "kind")}

    # -------------------------------------------------------------- create
    def create(self, res, version, ns, body, params):
        self._check_kind(res, version, body)
        body = copy.deepcopy(body)
        md = body.setdefault("metadata", {})
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
        else:
            md.pop("namespace", None)
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + "".join(
                    random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            else:
                raise invalid(res, "", "metadata.name",
                              "metadata.name: Required value: name or generateName is required",
                              "FieldValueRequired")
        validate_name(res, md["name"])
        if md.get("resourceVersion"):
            raise ApiError(500, "InternalError", "resourceVersion should not be set on objects "
                           "to be created", {"causes": [{"message": "resourceVersion should "
                                                         "not be set on objects to be created"}]})
        for k in ("labels", "annotations"):
            self._check_map(res, md, k)
        with self.s.lock:
            if res.namespaced:
                self._ns_exists(ns, creating=True)
            if self.s.get(res, ns, md["name"]) is not None:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' %
                               (qualified(res), md["name"]), err_details(res, md["name"]))
            for k in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation", "selfLink"):
                md.pop(k, None)
            if res.has_status(version) and res.kind != "Namespace":
                body.pop("status", None)
            md.pop("managedFields", None)
            body["apiVersion"] = res.gv(version)
            body["kind"] = res.kind
            obj = self.s._create_raw(res, ns if res.namespaced else None, body)
            return self._out(res, obj, version)

    def _check_map(self, res, md, k):
        v = md.get(k)
        if v is None:
            return
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            raise bad_request("json: cannot unmarshal into Go struct field ObjectMeta.metadata.%s "
                              "of type string" % k)
        if k == "labels":
            for lk, lv in v.items():
                if not LABEL_NAME.match(lk):
                    raise invalid(res, md.get("name", ""), "metadata.labels",
                                  'metadata.labels: Invalid value: "%s": name part must consist '
                                  'of alphanumeric characters, \'-\', \'_\' or \'.\'' % lk)
                if not LABEL_VALUE.match(lv) or len(lv) > 63:
                    raise invalid(res, md.get("name", ""), "metadata.labels",
                                  'metadata.labels: Invalid value: "%s": a valid label must be '
                                  'an empty string or consist of alphanumeric characters, '
                                  '\'-\', \'_\' or \'.\'' % lv)

    # -------------------------------------------------------------- get / list
    def get(self, res, version, ns, name):
        with self.s.lock:
            obj = self.s.get(res, ns, name)
            if obj is None:
                raise not_found(res, name)
            return self._out(res, obj, version)

    def list(self, res, version, ns, params):
        ls = LabelSelector(params.get("labelSelector"))
        fs = FieldSelector(params.get("fieldSelector"), res)
        limit = int(params.get("limit") or 0) if (params.get("limit") or "0").isdigit() else 0
        cont = params.get("continue")
        with self.s.lock:
            list_rv = self.s.rv
            start = None
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode()).decode())
                    start = tuple(tok["start"])
                    tok_rv = int(tok["rv"])
                except (ValueError, KeyError, TypeError):
                    raise bad_request("continue key is not valid: malformed token")
                if tok_rv < self.s.compacted_rv:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old "
                                   "to display a consistent list result. You can start a new "
                                   "list without the continue parameter.")
            items = []
            for (rk, ons, oname), o in self.s.objects.items():
                if rk != res.key or (ns and ons != ns):
                    continue
                if start is not None and (ons, oname) <= start:
                    continue
                if not ls.matches(o["metadata"].get("labels")) or not fs.matches(o):
                    continue
                items.append(((ons, oname), o))
            items.sort(key=lambda x: x[0])
            meta = {"resourceVersion": str(list_rv)}
            if limit and len(items) > limit:
                rest = len(items) - limit
                items = items[:limit]
                meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"rv": list_rv, "start": list(items[-1][0])}).encode()).decode()
                meta["remainingItemCount"] = rest
            out = []
            for _, o in items:
                o = self._out(res, o, version)
                if res.crd is None:
                    o.pop("kind", None)
                    o.pop("apiVersion", None)
                out.append(o)
            return {"kind": res.kind + "List", "apiVersion": res.gv(version),
                    "metadata": meta, "items": out}

    # -------------------------------------------------------------- update
    def update(self, res, version, ns, name, body, params, sub=None, internal=False):
        if not internal:
            self._check_kind(res, version, body)
        body = copy.deepcopy(body)
        md = body.setdefault("metadata", {})
        if md.get("name") and md["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (md["name"], name))
        if res.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        md["name"] = name
        for k in ("labels", "annotations"):
            self._check_map(res, md, k)
        with self.s.lock:
            old = self.s.get(res, ns, name)
            if old is None:
                if res.create_on_update and sub is None:
                    md.pop("resourceVersion", None)
                    if res.namespaced:
                        md["namespace"] = ns
                    obj = self.create(res, version, ns, body, params)
                    return obj, 201
                raise not_found(res, name)
            rv = md.get("resourceVersion")
            if not rv:
                if res.rv_required:
                    raise invalid(res, name, "metadata.resourceVersion",
                                  "metadata.resourceVersion: Invalid value: 0x0: must be "
                                  "specified for an update")
            elif rv != old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            return self._write(res, version, old, body, sub), 200

    def _write(self, res, version, old, body, sub):
        """Store BODY as the new state of OLD (precondition already checked)."""
        omd = old["metadata"]
        name = omd["name"]
        if sub == "status":
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            else:
                new.pop("status", None)
        else:
            new = copy.deepcopy(body)
            md = new.setdefault("metadata", {})
            if res.has_status(version):
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            for k in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation", "namespace"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            md.pop("selfLink", None)
            if "managedFields" not in md and "managedFields" in omd:
                md["managedFields"] = omd["managedFields"]
            if "generateName" in omd and "generateName" not in md:
                md["generateName"] = omd["generateName"]
        new["apiVersion"] = res.gv(version) if res.crd is None else \
            (body.get("apiVersion") or old.get("apiVersion"))
        new["kind"] = res.kind
        md = new["metadata"]
        md["resourceVersion"] = omd["resourceVersion"]
        if omd.get("deletionTimestamp"):
            had = omd.get("finalizers") or []
            added = [f for f in md.get("finalizers") or [] if f not in had]
            if added:
                raise invalid(res, name, "metadata.finalizers",
                              'metadata.finalizers: Forbidden: no new finalizers can be added if '
                              'the object is being deleted, found new finalizers %s' %
                              "[]string{%s}" % ", ".join('"%s"' % f for f in added),
                              "FieldValueForbidden")
        if not md.get("finalizers"):
            md.pop("finalizers", None)
        if sub != "status":
            self.s._default(res, new, old)
        if res.generation and sub != "status":
            ign = res.has_status(version)
            if self._spec_part(new, ign) != self._spec_part(old, ign):
                md["generation"] = omd.get("generation", 1) + 1
        if new == old:
            return self._out(res, old, version)
        self.s._put(res, new, "MODIFIED", old)
        if md.get("deletionTimestamp") and not md.get("finalizers"):
            self.s._remove(res, new)
        return self._out(res, new, version)

    # -------------------------------------------------------------- patch
    def patch(self, res, version, ns, name, body_bytes, ctype, params, sub=None):
        ctype = (ctype or "").split(";")[0].strip().lower()
        if ctype not in ("application/merge-patch+json", "application/json-patch+json",
                         "application/strategic-merge-patch+json", "application/apply-patch+yaml",
                         "application/apply-patch+cbor"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml" +
                           (", application/strategic-merge-patch+json" if res.smp else ""))
        if ctype == "application/strategic-merge-patch+json" and not res.smp:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml")
        if ctype == "application/apply-patch+yaml":
            return self.apply(res, version, ns, name, body_bytes, params, sub)
        try:
            patch = json.loads(body_bytes.decode() or "null")
        except (ValueError, UnicodeDecodeError) as e:
            raise bad_request("error decoding patch: %s" % e)
        with self.s.lock:
            old = self.s.get(res, ns, name)
            if old is None:
                raise not_found(res, name)
            cur = self._out(res, old, version)
            if ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("json: cannot unmarshal into Go value of type "
                                      "map[string]interface {}")
                new = merge_patch(cur, patch)
            elif ctype == "application/json-patch+json":
                new = json_patch(cur, patch)
            else:
                if not isinstance(patch, dict):
                    raise bad_request("json: cannot unmarshal into Go value of type "
                                      "map[string]interface {}")
                new = smp_apply(cur, patch, (), res.kind)
            if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
                raise ApiError(422, "Invalid", "the patched object is not a valid object")
            nmd = new["metadata"]
            if nmd.get("resourceVersion") and nmd["resourceVersion"] != \
                    old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            if nmd.get("uid") and nmd["uid"] != old["metadata"]["uid"]:
                raise conflict(res, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (nmd["uid"], old["metadata"]["uid"]))
            if nmd.get("name") != name:
                raise bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (nmd.get("name"), name))
            if new.get("kind") != res.kind:
                raise bad_request("the kind of the patched object may not change")
            return self._write(res, version, old, new, sub)

    def _parse_apply(self, body_bytes):
        try:
            text = body_bytes.decode()
        except UnicodeDecodeError as e:
            raise bad_request("error decoding YAML: %s" % e)
        try:
            return json.loads(text)
        except ValueError:
            pass
        if yaml is None:
            raise bad_request("error decoding YAML: python3-yaml is not installed")
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise bad_request("error decoding YAML: %s" % e)

    def apply(self, res, version, ns, name, body_bytes, params, sub):
        manager = params.get("fieldManager")
        if not manager:
            raise bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                              "value: is required for apply patch")
        applied = self._parse_apply(body_bytes)
        self._check_kind(res, version, applied)
        amd = applied.setdefault("metadata", {})
        if amd.get("name") and amd["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (amd["name"], name))
        amd["name"] = name
        applied = strip_directives(applied)
        new_set = fields_v1(applied, res.kind)
        entry = {"manager": manager, "operation": "Apply", "apiVersion": res.gv(version),
                 "time": now_ts(), "fieldsType": "FieldsV1", "fieldsV1": new_set}
        force = params.get("force") in ("true", "1")
        if sub:
            entry["subresource"] = sub
        with self.s.lock:
            old = self.s.get(res, ns, name)
            if old is None:
                if sub:
                    raise not_found(res, name)
                body = copy.deepcopy(applied)
                body["metadata"]["managedFields"] = [entry]
                body["metadata"].pop("resourceVersion", None)
                obj = self.create(res, version, ns, body, params)
                with_mf = self.s.get(res, ns, name)
                with_mf["metadata"]["managedFields"] = [entry]
                obj["metadata"]["managedFields"] = [entry]
                return obj, 201
            rv = amd.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            cur = self._out(res, old, version)
            mine = lambda m: (m.get("manager") == manager and  # noqa: E731
                              m.get("operation") == "Apply" and
                              m.get("subresource") == entry.get("subresource"))
            mfs = copy.deepcopy(old["metadata"].get("managedFields") or [])
            prev = next((m.get("fieldsV1") or {} for m in mfs if mine(m)), {})
            others = [m for m in mfs if not mine(m) and m.get("operation") == "Apply"
                      and m.get("subresource") == entry.get("subresource")]
            # conflicts: a field another applier owns, set here to a different value
            causes = []
            for path in fs_leaves(new_set):
                owners = [m for m in others if fs_has(m.get("fieldsV1") or {}, path)]
                if not owners or fs_get(cur, path) == fs_get(applied, path):
                    continue
                if force:
                    for m in owners:
                        fs_remove(m.get("fieldsV1") or {}, path)
                    continue
                for m in owners:
                    causes.append({"reason": "FieldManagerConflict",
                                   "message": 'conflict with "%s"' % m["manager"],
                                   "field": fs_path_str(path)})
            if causes:
                msg = "Apply failed with %d conflict%s: %s" % (
                    len(causes), "" if len(causes) == 1 else "s",
                    "\n".join("%s: %s" % (c["message"], c["field"]) for c in causes))
                d = err_details(res, name)
                d["causes"] = causes
                raise ApiError(409, "Conflict", msg, d)
            fs_prune(cur, prev, new_set, [m.get("fieldsV1") or {} for m in others])
            new = smp_apply(cur, applied, (), res.kind) if res.smp else \
                merge_patch(cur, applied)
            new["metadata"]["managedFields"] = [m for m in mfs if not mine(m)] + [entry]
            out = self._write(res, version, old, new, sub)
            return out, 200

    # -------------------------------------------------------------- scale (Deployments)
    def _scale_of(self, obj):
        md = obj["metadata"]
        sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                "creationTimestamp") if k in md},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": ",".join("%s=%s" % kv for kv in sorted(sel.items()))}}

    def scale(self, res, version, ns, name, method, body, ctype):
        with self.s.lock:
            old = self.s.get(res, ns, name)
            if old is None:
                raise not_found(res, name)
            cur = self._scale_of(old)
            if method == "GET":
                return cur
            try:
                doc = json.loads(body.decode() or "null")
            except (ValueError, UnicodeDecodeError) as e:
                raise bad_request("error decoding body: %s" % e)
            if method == "PUT":
                new = doc
            elif method == "PATCH":
                ct = (ctype or "").split(";")[0].strip()
                new = json_patch(cur, doc) if ct == "application/json-patch+json" else \
                    merge_patch(cur, doc)
            else:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource", {})
            if not isinstance(new, dict):
                raise bad_request("invalid Scale object")
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            n = (new.get("spec") or {}).get("replicas")
            if not isinstance(n, int) or n < 0:
                raise invalid(res, name, "spec.replicas", "spec.replicas: Invalid value: %r: "
                              "must be greater than or equal to 0" % (n,), kind="Scale")
            upd = copy.deepcopy(old)
            upd["spec"]["replicas"] = n
            self._write(res, version, old, upd, None)
            return self._scale_of(self.s.get(res, ns, name))

    # -------------------------------------------------------------- delete
    def delete(self, res, version, ns, name, params, body):
        opts = {}
        if body:
            try:
                opts = json.loads(body.decode())
            except (ValueError, UnicodeDecodeError):
                raise bad_request("the body of the request was in an unknown format")
            if not isinstance(opts, dict):
                raise bad_request("the body of the request was in an unknown format")
        policy = opts.get("propagationPolicy") or params.get("propagationPolicy")
        if opts.get("orphanDependents") is True or params.get("orphanDependents") == "true":
            policy = policy or "Orphan"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise invalid(res, name, "propagationPolicy", 'propagationPolicy: Unsupported value: '
                          '"%s": supported values: "Foreground", "Background", "Orphan"' % policy,
                          "FieldValueNotSupported", kind="DeleteOptions.meta.k8s.io")
        pre = opts.get("preconditions") or {}
        with self.s.lock:
            obj = self.s.get(res, ns, name)
            if obj is None:
                raise not_found(res, name)
            md = obj["metadata"]
            if pre.get("uid") and pre["uid"] != md["uid"]:
                raise conflict(res, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (pre["uid"], md["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
                raise conflict(res, name, "Precondition failed: ResourceVersion in "
                               "precondition: %s, ResourceVersion in object meta: %s" %
                               (pre["resourceVersion"], md["resourceVersion"]))
            out, code = self.s_delete(res, obj, policy)
            if out is None:
                st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": dict(err_details(res, name), uid=md["uid"])}
                if res.delete_returns_object:
                    return self._out(res, self.s_last_deleted, version), 200
                return st, 200
            return self._out(res, out, version), code

    s_last_deleted = None

    def s_delete(self, res, obj, policy=None):
        """Delete OBJ (lock held). Returns (object, code) when it stays, (None, 200) if gone."""
        md = obj["metadata"]
        if res.kind == "Namespace":
            if md.get("deletionTimestamp"):
                return obj, 200
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_ts()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            self.s._put(res, new, "MODIFIED", obj)
            return new, 200
        fins = list(md.get("finalizers") or [])
        if not md.get("deletionTimestamp"):
            if policy == "Orphan":
                self._orphan(md["uid"])
            elif policy == "Foreground" and self._has_dependents(md["uid"]):
                if "foregroundDeletion" not in fins:
                    fins.append("foregroundDeletion")
        if fins:
            if md.get("deletionTimestamp") and fins == md.get("finalizers"):
                return obj, 200
            new = copy.deepcopy(obj)
            nmd = new["metadata"]
            nmd["finalizers"] = fins
            if not nmd.get("deletionTimestamp"):
                nmd["deletionTimestamp"] = now_ts()
                nmd["deletionGracePeriodSeconds"] = 0
                if res.generation:
                    nmd["generation"] = nmd.get("generation", 1) + 1
            self.s._put(res, new, "MODIFIED", obj)
            return new, 200
        self.s_last_deleted = self.s._remove(res, obj)
        return None, 200

    def _has_dependents(self, uid):
        return any(any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])
                   for o in self.s.objects.values())

    def _orphan(self, uid):
        for k, o in list(self.s.objects.items()):
            refs = o["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                new = copy.deepcopy(o)
                nr = [r for r in refs if r.get("uid") != uid]
                if nr:
                    new["metadata"]["ownerReferences"] = nr
                else:
                    new["metadata"].pop("ownerReferences")
                self.s._put(self.s.resources[k[0]], new, "MODIFIED", o)

    def delete_collection(self, res, version, ns, params, body):
        ls = LabelSelector(params.get("labelSelector"))
        fs = FieldSelector(params.get("fieldSelector"), res)
        with self.s.lock:
            lst = self.list(res, version, ns, {"labelSelector": params.get("labelSelector"),
                                               "fieldSelector": params.get("fieldSelector")})
            for k, o in list(self.s.objects.items()):
                if k[0] == res.key and (not ns or k[1] == ns) and \
                        ls.matches(o["metadata"].get("labels")) and fs.matches(o):
                    self.s_delete(res, o, params.get("propagationPolicy"))
            return lst


# --------------------------------------------------------------------------------------------
# background controllers: GC, namespaces, deployments

class Controllers:
    def __init__(self, store, api):
        self.s = store
        self.api = api
        self.stop = threading.Event()
        self.ns_deleting = {}      # namespace uid -> monotonic time the deletion was seen

    def start(self):
        for fn in (self.gc_loop, self.deploy_loop):
            threading.Thread(target=fn, daemon=True).start()

    def gc_loop(self):
        while not self.stop.is_set():
            self.s.gc_wake.wait(0.1 if self.ns_deleting else 1.0)
            self.s.gc_wake.clear()
            delay = float(self.s.config.get("gcDelaySeconds") or 0)
            if delay > 0:
                time.sleep(delay)
            try:
                while self.gc_pass():
                    pass
            except Exception as e:  # keep the collector alive
                print("gc: %r" % e, file=sys.stderr)

    def gc_pass(self):
        changed = False
        with self.s.lock:
            uids = {o["metadata"].get("uid"): (k, o) for k, o in self.s.objects.items()}
            for k, o in list(self.s.objects.items()):
                res = self.s.resources.get(k[0])
                if res is None or (k not in self.s.objects):
                    continue
                md = o["metadata"]
                refs = md.get("ownerReferences") or []
                if refs and not md.get("deletionTimestamp"):
                    alive, foreground = 0, False
                    for r in refs:
                        ent = uids.get(r.get("uid"))
                        if ent is None:
                            continue
                        ok_, owner = ent
                        ores = self.s.resources.get(ok_[0])
                        if ores is None:
                            continue
                        if ores.namespaced and ok_[1] != k[1]:
                            continue  # an owner in another namespace is invalid
                        omd = owner["metadata"]
                        if omd.get("deletionTimestamp") and \
                                "foregroundDeletion" in (omd.get("finalizers") or []):
                            foreground = True
                        alive += 1
                    if alive == 0 or foreground:
                        self.api.s_delete(res, o, "Background")
                        changed = True
                        continue
                fins = md.get("finalizers") or []
                if md.get("deletionTimestamp") and "foregroundDeletion" in fins:
                    if not self.api._has_dependents(md["uid"]):
                        new = copy.deepcopy(o)
                        new["metadata"]["finalizers"] = [f for f in fins
                                                         if f != "foregroundDeletion"]
                        self.api._write(res, res.versions[0], o, new, None)
                        changed = True
                if res.kind == "Namespace" and md.get("deletionTimestamp"):
                    # like the namespace controller, start the cleanup a little later
                    t0 = self.ns_deleting.setdefault(md["uid"], time.monotonic())
                    if time.monotonic() - t0 < float(
                            self.s.config.get("namespaceCleanupDelaySeconds") or 0):
                        continue
                    inside = [(kk, oo) for kk, oo in self.s.objects.items()
                              if kk[1] == md["name"] and kk[0] != "/namespaces"]
                    for kk, oo in inside:
                        if not oo["metadata"].get("deletionTimestamp"):
                            self.api.s_delete(self.s.resources[kk[0]], oo, "Background")
                            changed = True
                    if not inside and not md.get("finalizers"):
                        self.s._remove(res, o)
                        self.ns_deleting.pop(md["uid"], None)
                        changed = True
        return changed

    # ---- deployment controller stand-in
    def deploy_loop(self):
        while not self.stop.is_set():
            try:
                self.deploy_pass()
            except Exception as e:
                print("deployments: %r" % e, file=sys.stderr)
            self.stop.wait(0.1)

    def stalled(self, md):
        ann = md.get("annotations") or {}
        if ann.get("kube-apiserver.test/stall-rollout", "").lower() == "true":
            return True
        ident = "%s/%s" % (md.get("namespace"), md.get("name"))
        return any(fnmatch.fnmatchcase(ident, p) for p in self.s.config.get("stallDeployments")
                   or [])

    def deploy_pass(self):
        res = self.s.resources["apps/deployments"]
        now = time.time()
        with self.s.lock:
            for k, o in list(self.s.objects.items()):
                if k[0] != res.key or o["metadata"].get("deletionTimestamp"):
                    continue
                md = o["metadata"]
                gen = md.get("generation", 1)
                ro = self.s.rollouts.get(k)
                tmpl = json.dumps((o.get("spec") or {}).get("template"), sort_keys=True)
                if ro is None or ro[0] != gen or ro[2] != md["uid"]:
                    # a new rollout only when the pod template changed; else a scale
                    scale_only = ro is not None and ro[2] == md["uid"] and ro[3] == tmpl
                    ro = self.s.rollouts[k] = [gen, now, md["uid"], tmpl, scale_only]
                ann = md.get("annotations") or {}
                try:
                    delay = float(ann.get("kube-apiserver.test/ready-after-seconds",
                                          self.s.config.get("deploymentReadySeconds", 0.5)))
                except ValueError:
                    delay = 0.5
                spec = o.get("spec") or {}
                n = spec.get("replicas", 1)
                old = o.get("status") or {}
                rsname = "%s-%s" % (md["name"], md["uid"][:10].replace("-", ""))
                stalled = self.stalled(md)
                elapsed = now - ro[1]
                ready = not stalled and elapsed >= delay
                prevc = {c.get("type"): c for c in old.get("conditions") or []}
                ts = now_ts()

                def cond(typ, status, reason, msg):
                    p = prevc.get(typ) or {}
                    same = p.get("status") == status
                    c = {"type": typ, "status": status,
                         "lastUpdateTime": p.get("lastUpdateTime", ts) if same and
                         p.get("reason") == reason else ts,
                         "lastTransitionTime": p.get("lastTransitionTime", ts) if same else ts,
                         "reason": reason, "message": msg}
                    return c
                st = {"observedGeneration": gen}
                if ready:
                    if n:
                        st.update(replicas=n, updatedReplicas=n, readyReplicas=n,
                                  availableReplicas=n)
                    conds = [cond("Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability."),
                             cond("Progressing", "True", "NewReplicaSetAvailable",
                                  'ReplicaSet "%s" has successfully progressed.' % rsname)]
                else:
                    was_avail = (prevc.get("Available") or {}).get("status") == "True"
                    if n and ro[4]:
                        # scaling: the pods that were available stay available
                        up = min(old.get("availableReplicas", 0), n)
                        st.update(replicas=n, updatedReplicas=n, readyReplicas=up,
                                  availableReplicas=up, unavailableReplicas=n - up)
                        for z in ("readyReplicas", "availableReplicas", "unavailableReplicas"):
                            if not st[z]:
                                del st[z]
                    elif n:
                        st.update(replicas=n, updatedReplicas=n, unavailableReplicas=n)
                        if was_avail:
                            # a rolling update: one old pod is still around and serving
                            st.update(replicas=n + 1, readyReplicas=n + 1,
                                      availableReplicas=n + 1)
                            st.pop("unavailableReplicas")
                    deadline = spec.get("progressDeadlineSeconds", 600)
                    if stalled and elapsed >= deadline:
                        prog = cond("Progressing", "False", "ProgressDeadlineExceeded",
                                    'ReplicaSet "%s" has timed out progressing.' % rsname)
                    else:
                        prog = cond("Progressing", "True", "ReplicaSetUpdated",
                                    'ReplicaSet "%s" is progressing.' % rsname)
                    avail = cond("Available", "True", "MinimumReplicasAvailable",
                                 "Deployment has minimum availability.") if was_avail else \
                        cond("Available", "False", "MinimumReplicasUnavailable",
                             "Deployment does not have minimum availability.")
                    conds = [avail, prog]
                st["conditions"] = conds

                def strip(s):
                    s = copy.deepcopy(s)
                    for c in s.get("conditions") or []:
                        c.pop("lastUpdateTime", None)
                        c.pop("lastTransitionTime", None)
                    return s
                if strip(st) != strip(old):
                    new = copy.deepcopy(o)
                    new["status"] = st
                    self.api._write(res, "v1", o, new, "status")

    # ---- jobs on command
    def finish_job(self, ns, name, outcome):
        res = self.s.resources["batch/jobs"]
        with self.s.lock:
            o = self.s.get(res, ns, name)
            if o is None:
                raise not_found(res, name)
            new = copy.deepcopy(o)
            ts = now_ts()
            st = new.setdefault("status", {})
            st.setdefault("startTime", ts)
            st["active"] = 0
            st["ready"] = 0
            if outcome == "complete":
                st["succeeded"] = (o.get("spec") or {}).get("completions", 1)
                st["completionTime"] = ts
                st["conditions"] = [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": ts,
                     "lastTransitionTime": ts},
                    {"type": "Complete", "status": "True", "lastProbeTime": ts,
                     "lastTransitionTime": ts}]
            else:
                st["failed"] = (o.get("spec") or {}).get("backoffLimit", 6) + 1
                st["conditions"] = [
                    {"type": "FailureTarget", "status": "True", "lastProbeTime": ts,
                     "lastTransitionTime": ts, "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit"},
                    {"type": "Failed", "status": "True", "lastProbeTime": ts,
                     "lastTransitionTime": ts, "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit"}]
            return self.api._write(res, "v1", o, new, "status")


# --------------------------------------------------------------------------------------------
# Table responses (server-side printing for `kubectl get`)

def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm" % m if s % 60 == 0 else "%dm%ds" % (m, s % 60)
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh" % h if m % 60 == 0 else "%dh%dm" % (h, m % 60)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd" % (h // 24) if h % 24 == 0 else "%dd%dh" % (h // 24, h % 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        y = h // (24 * 365)
        d = (h % (24 * 365)) // 24
        return "%dy" % y if d == 0 else "%dy%dd" % (y, d)
    return "%dy" % (h // (24 * 365))


def _age(o):
    ts = parse_ts((o.get("metadata") or {}).get("creationTimestamp"))
    return "<unknown>" if ts is None else human_duration(time.time() - ts)


def _dig(o, path, default=None):
    cur = o
    for p in path.split("."):
        if not p:
            continue
        cur = cur.get(p) if isinstance(cur, dict) else None
        if cur is None:
            return default
    return cur


def _selector(sel):
    if not sel:
        return "<none>"
    return ",".join("%s=%s" % kv for kv in sorted(sel.items()))


def _ports(svc):
    out = []
    for p in _dig(svc, "spec.ports", []) or []:
        port = str(p.get("port"))
        if p.get("nodePort"):
            port += ":%d" % p["nodePort"]
        out.append("%s/%s" % (port, p.get("protocol", "TCP")))
    return ",".join(out) or "<none>"


def _access_modes(modes):
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
             "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(m, m) for m in modes or [])


def _job_status(j):
    conds = {c.get("type"): c.get("status") for c in _dig(j, "status.conditions", []) or []}
    if conds.get("Complete") == "True":
        return "Complete"
    if conds.get("Failed") == "True":
        return "Failed"
    if _dig(j, "metadata.deletionTimestamp"):
        return "Terminating"
    if _dig(j, "spec.suspend"):
        return "Suspended"
    return "Running"


def _job_duration(j):
    start = parse_ts(_dig(j, "status.startTime"))
    if start is None:
        return ""
    end = parse_ts(_dig(j, "status.completionTime")) or time.time()
    return human_duration(end - start)


def _containers(o, field):
    cs = _dig(o, "spec.template.spec.containers", []) or []
    return ",".join(c.get(field, "") for c in cs)


NAME_COL = ("Name", "string", "name", 0, lambda o: o["metadata"]["name"])
AGE_COL = ("Age", "string", "", 0, _age)
TABLE_COLUMNS = {
    "Namespace": [NAME_COL, ("Status", "string", "", 0, lambda o: _dig(o, "status.phase", "")),
                  AGE_COL],
    "Secret": [NAME_COL, ("Type", "string", "", 0, lambda o: o.get("type", "")),
               ("Data", "integer", "", 0, lambda o: len(o.get("data") or {})), AGE_COL],
    "ConfigMap": [NAME_COL, ("Data", "integer", "", 0, lambda o: len(o.get("data") or {}) +
                             len(o.get("binaryData") or {})), AGE_COL],
    "Service": [NAME_COL, ("Type", "string", "", 0, lambda o: _dig(o, "spec.type", "")),
                ("Cluster-IP", "string", "", 0, lambda o: _dig(o, "spec.clusterIP", "")),
                ("External-IP", "string", "", 0, lambda o: ",".join(
                    _dig(o, "spec.externalIPs", []) or []) or "<none>"),
                ("Port(s)", "string", "", 0, _ports), AGE_COL,
                ("Selector", "string", "", 1, lambda o: _selector(_dig(o, "spec.selector")))],
    "PersistentVolumeClaim": [
        NAME_COL, ("Status", "string", "", 0, lambda o: _dig(o, "status.phase", "")),
        ("Volume", "string", "", 0, lambda o: _dig(o, "spec.volumeName", "")),
        ("Capacity", "string", "", 0, lambda o: _dig(o, "status.capacity.storage", "")),
        ("Access Modes", "string", "", 0,
         lambda o: _access_modes(_dig(o, "status.accessModes"))),
        ("StorageClass", "string", "", 0,
         lambda o: _dig(o, "spec.storageClassName") or "<unset>"),
        ("VolumeAttributesClass", "string", "", 0,
         lambda o: _dig(o, "spec.volumeAttributesClassName") or "<unset>"),
        AGE_COL, ("VolumeMode", "string", "", 1, lambda o: _dig(o, "spec.volumeMode", ""))],
    "ServiceAccount": [NAME_COL, ("Secrets", "string", "", 0,
                                  lambda o: len(o.get("secrets") or [])), AGE_COL],
    "Event": [("Last Seen", "string", "", 0, lambda o: human_duration(
        time.time() - (parse_ts(o.get("lastTimestamp") or o.get("eventTime") or "") or
                       parse_ts(_dig(o, "metadata.creationTimestamp")) or time.time()))),
              ("Type", "string", "", 0, lambda o: o.get("type", "")),
              ("Reason", "string", "", 0, lambda o: o.get("reason", "")),
              ("Object", "string", "", 0, lambda o: "%s/%s" % (
                  (_dig(o, "involvedObject.kind", "") or "").lower(),
                  _dig(o, "involvedObject.name", ""))),
              ("Message", "string", "", 0, lambda o: (o.get("message") or "").strip())],
    "Deployment": [NAME_COL,
                   ("Ready", "string", "", 0, lambda o: "%d/%d" % (
                       _dig(o, "status.readyReplicas", 0), _dig(o, "spec.replicas", 0))),
                   ("Up-to-date", "integer", "", 0,
                    lambda o: _dig(o, "status.updatedReplicas", 0)),
                   ("Available", "integer", "", 0,
                    lambda o: _dig(o, "status.availableReplicas", 0)),
                   AGE_COL,
                   ("Containers", "string", "", 1, lambda o: _containers(o, "name")),
                   ("Images", "string", "", 1, lambda o: _containers(o, "image")),
                   ("Selector", "string", "", 1,
                    lambda o: _selector(_dig(o, "spec.selector.matchLabels")))],
    "Job": [NAME_COL, ("Status", "string", "", 0, _job_status),
            ("Completions", "string", "", 0, lambda o: "%d/%d" % (
                _dig(o, "status.succeeded", 0), _dig(o, "spec.completions", 1))),
            ("Duration", "string", "", 0, _job_duration), AGE_COL,
            ("Containers", "string", "", 1, lambda o: _containers(o, "name")),
            ("Images", "string", "", 1, lambda o: _containers(o, "image")),
            ("Selector", "string", "", 1,
             lambda o: _selector(_dig(o, "spec.selector.matchLabels")))],
    "Lease": [NAME_COL, ("Holder", "string", "", 0,
                         lambda o: _dig(o, "spec.holderIdentity", "")), AGE_COL],
    "PodDisruptionBudget": [
        NAME_COL, ("Min Available", "string", "", 0,
                   lambda o: str(_dig(o, "spec.minAvailable", "N/A"))),
        ("Max Unavailable", "string", "", 0,
         lambda o: str(_dig(o, "spec.maxUnavailable", "N/A"))),
        ("Allowed Disruptions", "integer", "", 0,
         lambda o: _dig(o, "status.disruptionsAllowed", 0)), AGE_COL],
    "CustomResourceDefinition": [NAME_COL, ("Created At", "date", "", 0,
                                            lambda o: _dig(o, "metadata.creationTimestamp"))],
}


def _printer_columns(res, store, version):
    if res.crd is None:
        return TABLE_COLUMNS.get(res.kind, [NAME_COL, AGE_COL])
    crd = store.objects.get(("apiextensions.k8s.io/customresourcedefinitions", "", res.crd))
    ver = next((v for v in _dig(crd or {}, "spec.versions", []) or []
                if v.get("name") == version), {})
    cols = [NAME_COL]
    extra = ver.get("additionalPrinterColumns") or []
    for c in extra:
        jp = (c.get("jsonPath") or "").strip()
        typ = c.get("type", "string")

        def cell(o, jp=jp, typ=typ):
            v = _dig(o, jp.lstrip("."))
            if v is None:
                return None
            if typ == "date":
                return v
            return v if typ in ("integer", "number", "boolean") else \
                (v if isinstance(v, str) else json.dumps(v))
        cols.append((c.get("name", ""), typ, c.get("format", ""), c.get("priority", 0), cell))
    if not extra:
        cols.append(AGE_COL)
    return cols


def to_table(res, store, version, objs, meta, include="Metadata", columns=True, gv="v1"):
    cols = _printer_columns(res, store, version)
    t = {"kind": "Table", "apiVersion": "meta.k8s.io/" + gv, "metadata": meta,
         "columnDefinitions": [], "rows": []}
    if columns:
        t["columnDefinitions"] = [{"name": n, "type": "string" if typ == "date" else typ,
                                   "format": fmt, "description": "", "priority": pr}
                                  for n, typ, fmt, pr, _ in cols]
    for o in objs:
        cells = []
        for n, typ, fmt, pr, fn in cols:
            try:
                v = fn(o)
            except (KeyError, TypeError, ValueError, AttributeError):
                v = None
            if typ == "date" and isinstance(v, str):
                ts = parse_ts(v)
                v = human_duration(time.time() - ts) if ts is not None else v
            cells.append(v)
        row = {"cells": cells}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o.get("metadata", {})}
        t["rows"].append(row)
    return t


# --------------------------------------------------------------------------------------------
# HTTP

CORE_GROUP_ORDER = ["apps", "batch", "coordination.k8s.io", "policy", "apiextensions.k8s.io"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-test-double"
    sys_version = ""

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *args):
        pass

    # --- plumbing
    def _log(self, code):
        lf = self.server.ctx.logfile
        if lf is None:
            return
        line = json.dumps({"t": now_micro(), "tls": self.server.tls, "method": self.command,
                           "path": self.path, "code": code,
                           "ct": self.headers.get("Content-Type"),
                           "ua": self.headers.get("User-Agent")}) + "\n"
        with self.server.ctx.loglock:
            lf.write(line)
            lf.flush()

    def send_json(self, code, obj, extra=None):
        data = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._log(code)
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error_obj(self, e):
        self.send_json(e.code, status_obj(e.code, e.reason, e.message, e.details), e.headers)

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline(1024)
                    break
                data += self.rfile.read(size)
                self.rfile.readline(1024)
                if len(data) > 64 << 20:
                    raise ApiError(413, "RequestEntityTooLarge", "request entity too large")
            return data
        if n > 64 << 20:
            raise ApiError(413, "RequestEntityTooLarge", "request entity too large")
        return self.rfile.read(n) if n else b""

    def dispatch(self, method):
        ctx = self.server.ctx
        try:
            body = self.read_body()
            u = urllib.parse.urlsplit(self.path)
            if self.server.tls:
                self.authenticate(u.path)
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(
                u.query, keep_blank_values=True).items()}
            self.route(method, u.path, params, body)
        except ApiError as e:
            self.send_error_obj(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the double: report it like a server would
            import traceback
            traceback.print_exc()
            try:
                self.send_error_obj(ApiError(500, "InternalError", "Internal error occurred: %r"
                                             % e))
            except OSError:
                self.close_connection = True

    PUBLIC = ("/version", "/healthz", "/livez", "/readyz")

    def authenticate(self, path):
        """TLS listener: bearer token. A wrong token is 401; no credentials at all make the
        request anonymous (Kubernetes' default), which may read only the public info paths."""
        ctx = self.server.ctx
        with ctx.store.lock:
            tokens = ctx.store.config.get("tokens") or [ctx.token]
        auth = self.headers.get("Authorization")
        if auth is None:
            if path in self.PUBLIC:
                return
            raise ApiError(403, "Forbidden", 'forbidden: User "system:anonymous" cannot get '
                           'path "%s"' % path, {})
        if not auth.startswith("Bearer ") or auth[7:].strip() not in tokens:
            raise ApiError(401, "Unauthorized", "Unauthorized")

    # --- routing
    def route(self, method, path, params, body):
        ctx = self.server.ctx
        s = ctx.store
        segs = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if path in ("/healthz", "/readyz", "/livez"):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(data)
            return
        if path == "/version":
            return self.send_json(200, ctx.version_info())
        if path == "/openapi/v2" or path == "/swagger-2.0.0.pb-v1":
            self.send_response(200)
            self.send_header("Content-Type",
                             "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._log(200)
            return
        if segs and segs[0] == "_fake":
            return self.control(method, segs[1:], params, body)
        if method == "GET" and path == "/api":
            host = "127.0.0.1:%d" % self.server.server_address[1]
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
        if method == "GET" and path == "/apis":
            with s.lock:
                groups = s.groups()
                crd_prefs = {r.group: r.versions[0] for r in s.resources.values() if r.crd}
            order = [g for g in CORE_GROUP_ORDER if g in groups] + \
                sorted(g for g in groups if g not in CORE_GROUP_ORDER)
            out = []
            for g in order:
                pv = crd_prefs.get(g, groups[g][0])
                out.append({"name": g, "versions": [{"groupVersion": g + "/" + v, "version": v}
                                                    for v in groups[g]],
                            "preferredVersion": {"groupVersion": g + "/" + pv, "version": pv}})
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": out})
        if segs[:1] == ["api"] and len(segs) >= 2:
            group, version, rest = "", segs[1], segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 3:
            group, version, rest = segs[1], segs[2], segs[3:]
        elif segs[:1] == ["apis"] and len(segs) == 2 and method == "GET":
            with s.lock:
                groups = s.groups()
                crd_prefs = {r.group: r.versions[0] for r in s.resources.values() if r.crd}
            g = segs[1]
            if g not in groups:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource", {})
            pv = crd_prefs.get(g, groups[g][0])
            return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": g,
                                        "versions": [{"groupVersion": g + "/" + v, "version": v}
                                                     for v in groups[g]],
                                        "preferredVersion": {"groupVersion": g + "/" + pv,
                                                             "version": pv}})
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        with s.lock:
            gv_res = [r for r in s.resources.values() if r.group == group and
                      version in r.versions]
        if not gv_res:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if not rest:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource", {})
            return self.send_json(200, self.discovery(group, version, gv_res))
        # namespaced paths
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            ns = rest[1]
            rest = rest[2:]
        with s.lock:
            res = s.find_res(group, version, rest[0])
        if res is None or (ns is not None and not res.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) >= 3 else None
        if sub == "scale" and res.kind == "Deployment" and len(rest) == 3:
            return self.send_json(200, ctx.api.scale(res, version, ns, name, method, body,
                                                     self.headers.get("Content-Type")))
        if len(rest) > 3 or (sub is not None and not (sub == "status" and res.has_status(version))):
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if res.namespaced and ns is None and name is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if method == "DELETE" and body and not params.get("dryRun"):
            try:
                dr = json.loads(body.decode()).get("dryRun")
            except (ValueError, UnicodeDecodeError, AttributeError):
                dr = None
            if dr:
                params = dict(params, dryRun=",".join(dr) if isinstance(dr, list) else str(dr))
        if method != "GET" and self.take_conflict(segs):
            raise conflict(res, name)
        if method != "GET" and params.get("dryRun"):
            if params["dryRun"] != "All":
                raise bad_request('dryRun: Unsupported value: "%s": supported values: "All"'
                                  % params["dryRun"])
            return self.dry_run(method, res, version, ns, name, sub, params, body)
        return self.serve_object(method, res, version, ns, name, sub, params, body)

    def take_conflict(self, segs):
        """The /_fake/conflicts hook: True if this write must be answered 409 (uses one)."""
        s = self.server.ctx.store
        key = "/" + "/".join(segs)
        with s.lock:
            n = s.conflicts.get(key, 0)
            if n <= 0:
                return False
            if n == 1:
                del s.conflicts[key]
            else:
                s.conflicts[key] = n - 1
            return True

    def dry_run(self, *args):
        """dryRun=All: run the request, then roll the store back before anyone can see it."""
        s = self.server.ctx.store
        with s.lock:
            saved = (dict(s.objects), s.rv, list(s.history), s.compacted_rv, s.next_ip,
                     dict(s.resources), s.dirty)
            reply = []
            real_send = self.send_json
            self.send_json = lambda code, obj, extra=None: reply.append((code, obj, extra))
            try:
                self.serve_object(*args)
            finally:
                del self.send_json
                (s.objects, s.rv, s.history, s.compacted_rv, s.next_ip, s.resources,
                 s.dirty) = saved
        objects = saved[0]
        for code, obj, extra in reply:
            # nothing was persisted, so the answer carries no new resourceVersion
            md = obj.get("metadata") if isinstance(obj, dict) else None
            if isinstance(md, dict) and "resourceVersion" in md and obj.get("kind") != "Status":
                res = args[1]
                old = objects.get((res.key, md.get("namespace", ""), md.get("name")))
                if old is not None:
                    md["resourceVersion"] = old["metadata"]["resourceVersion"]
                else:
                    del md["resourceVersion"]
            real_send(code, obj, extra)

    def serve_object(self, method, res, version, ns, name, sub, params, body):
        ctx = self.server.ctx
        api = ctx.api
        if name is None:
            if method == "GET":
                if params.get("watch") in ("true", "1"):
                    return self.watch(res, version, ns, params)
                lst = api.list(res, version, ns, params)
                tgv = self.table_gv()
                if tgv:
                    with ctx.store.lock:
                        lst = to_table(res, ctx.store, version, lst["items"], lst["metadata"],
                                       params.get("includeObject") or "Metadata", gv=tgv)
                return self.send_json(200, lst)
            if method == "POST":
                if res.namespaced and ns is None:
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this "
                                   "method on the requested resource", {})
                obj = api.create(res, version, ns, self.decode(body), params)
                return self.send_json(201, obj)
            if method == "DELETE":
                return self.send_json(200, api.delete_collection(res, version, ns, params, body))
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource", {})
        if method == "GET":
            if params.get("watch") in ("true", "1"):
                p = dict(params)
                p["fieldSelector"] = "metadata.name=" + name
                return self.watch(res, version, ns, p)
            obj = api.get(res, version, ns, name)
            tgv = self.table_gv()
            if tgv:
                with ctx.store.lock:
                    obj = to_table(res, ctx.store, version, [obj],
                                   {"resourceVersion": obj["metadata"]["resourceVersion"]},
                                   params.get("includeObject") or "Metadata", gv=tgv)
            return self.send_json(200, obj)
        if method == "PUT":
            obj, code = api.update(res, version, ns, name, self.decode(body), params, sub)
            return self.send_json(code, obj)
        if method == "PATCH":
            out = api.patch(res, version, ns, name, body, self.headers.get("Content-Type"),
                            params, sub)
            if isinstance(out, tuple):
                return self.send_json(out[1], out[0])
            return self.send_json(200, out)
        if method == "DELETE" and sub is None:
            obj, code = api.delete(res, version, ns, name, params, body)
            return self.send_json(code, obj)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource", {})

    def table_gv(self):
        """The meta.k8s.io version of Table the client asks for first, if any."""
        for part in (self.headers.get("Accept") or "").split(","):
            fields = dict(x.strip().split("=", 1) for x in part.split(";")[1:] if "=" in x)
            mt = part.split(";")[0].strip()
            if fields.get("as") == "Table" and fields.get("g") == "meta.k8s.io" and \
                    fields.get("v") in ("v1", "v1beta1"):
                return fields["v"]
            if mt in ("application/json", "*/*", "application/*"):
                return None
        return None

    def decode(self, body):
        ct = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ct == "application/vnd.kubernetes.protobuf":
            return decode_k8s_protobuf(body)
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise bad_request("the body of the request was in an unknown format")
        if ct == "application/vnd.kubernetes.protobuf":
            return decode_k8s_protobuf(body)
        if ct in ("application/yaml",) and yaml is not None:
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise bad_request("error decoding YAML: %s" % e)
        if ct not in ("application/json", "application/yaml", ""):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: application/json, "
                           "application/yaml")
        try:
            return json.loads(text)
        except ValueError as e:
            raise bad_request("couldn't get version/kind; json parse error: %s" % e)

    def discovery(self, group, version, gv_res):
        out = []
        for r in sorted(gv_res, key=lambda r: r.plural):
            ent = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                   "kind": r.kind, "verbs": ["create", "delete", "deletecollection", "get",
                                             "list", "patch", "update", "watch"]}
            if r.short:
                ent["shortNames"] = r.short
            if r.categories:
                ent["categories"] = r.categories
            out.append(ent)
            if r.kind == "Deployment":
                out.append({"name": "deployments/scale", "singularName": "", "namespaced": True,
                            "group": "autoscaling", "version": "v1", "kind": "Scale",
                            "verbs": ["get", "patch", "update"]})
            if r.has_status(version):
                out.append({"name": r.plural + "/status", "singularName": "",
                            "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": group + "/" + version if group else version, "resources": out}

    # --- watch
    def chunk(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, res, version, ns, params):
        s = self.server.ctx.store
        ls = LabelSelector(params.get("labelSelector"))
        fs = FieldSelector(params.get("fieldSelector"), res)
        bookmarks = params.get("allowWatchBookmarks") in ("true", "1")
        try:
            timeout = float(params.get("timeoutSeconds") or 1800)
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        rv = params.get("resourceVersion") or ""
        if rv and not rv.isdigit():
            raise bad_request('invalid resource version: "%s"' % rv)
        deadline = time.monotonic() + timeout

        def match(o):
            if o is None:
                return False
            md = o["metadata"]
            if ns and md.get("namespace") != ns:
                return False
            return ls.matches(md.get("labels")) and fs.matches(o)

        tgv = self.table_gv()
        include = params.get("includeObject") or "Metadata"
        first_table = [True]

        def out(o):
            o = self.server.ctx.api._out(res, o, version)
            if tgv:
                o = to_table(res, s, version, [o],
                             {"resourceVersion": o["metadata"]["resourceVersion"]}, include,
                             columns=first_table[0], gv=tgv)
                first_table[0] = False
            return o

        initial = []
        expired = None
        with s.lock:
            epoch = s.watch_epoch
            if rv in ("", "0"):
                last = s.rv
                for k, o in sorted(s.objects.items()):
                    if k[0] == res.key and match(o):
                        initial.append({"type": "ADDED", "object": out(o)})
            else:
                last = int(rv)
                if last < s.compacted_rv:
                    expired = status_obj(410, "Expired", "too old resource version: %d (%d)"
                                         % (last, s.compacted_rv + 1))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._log(200)
        self.close_connection = True
        if expired is not None:
            self.chunk({"type": "ERROR", "object": expired})
            self.wfile.write(b"0\r\n\r\n")
            return
        for ev in initial:
            self.chunk(ev)
        interval = float(s.config.get("bookmarkIntervalSeconds") or 5)
        next_bm = time.monotonic() + interval
        while True:
            events = []
            gone = None
            with s.lock:
                while True:
                    nowm = time.monotonic()
                    if s.rv > last or nowm >= deadline or (bookmarks and nowm >= next_bm) or \
                            self.server.ctx.stopping or s.watch_epoch != epoch:
                        break
                    wake = min(deadline, next_bm if bookmarks else deadline) - nowm
                    s.cond.wait(max(0.01, min(wake, 1.0)))
                if last < s.compacted_rv or s.watch_epoch != epoch:
                    gone = status_obj(410, "Expired", "too old resource version: %d (%d)"
                                      % (last, max(s.compacted_rv, last) + 1))
                else:
                    lo, hi = 0, len(s.history)
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if s.history[mid][0] <= last:
                            lo = mid + 1
                        else:
                            hi = mid
                    for evrv, typ, rkey, obj, old in s.history[lo:]:
                        if rkey != res.key:
                            continue
                        if typ == "MODIFIED":
                            nm, om = match(obj), match(old)
                            t = "MODIFIED" if nm and om else "ADDED" if nm else \
                                "DELETED" if om else None
                        else:
                            t = typ if match(obj) else None
                        if t:
                            events.append({"type": t, "object": out(obj)})
                    last = s.rv
            if gone is not None:
                self.chunk({"type": "ERROR", "object": gone})
                break
            for ev in events:
                self.chunk(ev)
            nowm = time.monotonic()
            if self.server.ctx.stopping or nowm >= deadline:
                break
            if bookmarks and nowm >= next_bm:
                self.chunk({"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.gv(version),
                    "metadata": {"resourceVersion": str(last)}}})
                next_bm = nowm + interval
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- test hooks (not part of the Kubernetes API)
    def control(self, method, segs, params, body):
        ctx = self.server.ctx
        s = ctx.store
        if segs == ["config"]:
            if method in ("PUT", "PATCH", "POST"):
                try:
                    upd = json.loads(body.decode() or "{}")
                except ValueError as e:
                    raise bad_request("bad JSON: %s" % e)
                if not isinstance(upd, dict):
                    raise bad_request("config must be an object")
                with s.lock:
                    s.config.update(upd)
                    s.cond.notify_all()
            with s.lock:
                return self.send_json(200, dict(s.config))
        if segs == ["expire-watches"] and method == "POST":
            with s.lock:
                s.watch_epoch += 1
                s.compacted_rv = s.rv
                s.history = []
                s.cond.notify_all()
            return self.send_json(200, {"compactedResourceVersion": str(s.compacted_rv)})
        if segs == ["compact"] and method == "POST":
            s.compact()
            return self.send_json(200, {"compactedResourceVersion": str(s.compacted_rv)})
        if len(segs) == 4 and segs[0] == "jobs" and method == "POST" and \
                segs[3] in ("complete", "fail"):
            return self.send_json(200, ctx.controllers.finish_job(segs[1], segs[2], segs[3]))
        if segs == ["conflicts"]:
            if method in ("PUT", "POST"):
                try:
                    upd = json.loads(body.decode() or "{}")
                except ValueError as e:
                    raise bad_request("bad JSON: %s" % e)
                if not isinstance(upd, dict) or not isinstance(upd.get("path"), str) or \
                        not upd["path"].startswith("/"):
                    raise bad_request('want {"path": "/api/...", "count": N}')
                n = upd.get("count", 1)
                if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                    raise bad_request("count must be an integer >= 0")
                key = "/" + "/".join(urllib.parse.unquote(p)
                                     for p in upd["path"].split("?")[0].split("/") if p)
                with s.lock:
                    if n:
                        s.conflicts[key] = n
                    else:
                        s.conflicts.pop(key, None)
            elif method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource", {})
            with s.lock:
                return self.send_json(200, dict(s.conflicts))
        if segs == ["state"] and method == "GET":
            with s.lock:
                return self.send_json(200, {"resourceVersion": str(s.rv),
                                            "compactedResourceVersion": str(s.compacted_rv),
                                            "objects": len(s.objects)})
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, ctx, sslctx=None):
        self.ctx = ctx
        self.tls = sslctx is not None
        self.sslctx = sslctx
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.sslctx is not None:
            sock = self.sslctx.wrap_socket(sock, server_side=True,
                                           do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass


class Context:
    def __init__(self, opts):
        self.opts = opts
        self.token = opts.token
        try:
            with open(os.path.join(opts.dir, "ca.crt")) as f:
                ca_pem = f.read()
        except OSError:
            ca_pem = ""
        self.store = Store(opts, ca_pem)
        self.api = Api(self.store)
        self.controllers = Controllers(self.store, self.api)
        self.stopping = False
        self.logfile = None
        self.loglock = threading.Lock()

    def version_info(self):
        m = self.opts.minor
        return {"major": "1", "minor": str(m), "gitVersion": "v1.%d.0" % m,
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
                "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}


# --------------------------------------------------------------------------------------------
# startup: certificates, kubeconfig, env

def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(d):
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, crt = os.path.join(d, "server.key"), os.path.join(d, "server.crt")
    if all(os.path.exists(p) for p in (ca_key, ca_crt, key, crt)):
        return
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", ca_key,
         "-out", ca_crt, "-days", "3650", "-subj", "/CN=kube-apiserver-test-double-ca",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    csr = os.path.join(d, "server.csr")
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=kube-apiserver"])
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,"
                "IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
                "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "3650", "-extfile", ext])
    for p in (csr, ext):
        os.unlink(p)
    os.chmod(key, 0o600)
    os.chmod(ca_key, 0o600)


def read_env(path):
    env = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    env[k] = v.strip("'\"")
    except OSError:
        pass
    return env


def bind(port, ctx, sslctx):
    try:
        return Server(("127.0.0.1", port), ctx, sslctx)
    except OSError:
        if port == 0:
            raise
        return Server(("127.0.0.1", 0), ctx, sslctx)


def write_file(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--minor", type=int, default=32)
    ap.add_argument("--token", default=None)
    ap.add_argument("--http-port", type=int, default=None)
    ap.add_argument("--https-port", type=int, default=None)
    ap.add_argument("--persist", action="store_true", help="keep objects in DIR/state.json")
    ap.add_argument("--deployment-delay", type=float, default=0.5,
                    help="seconds before a rollout reports Available (default 0.5)")
    opts = ap.parse_args(argv)
    d = os.path.abspath(opts.dir)
    os.makedirs(d, exist_ok=True)
    old_env = read_env(os.path.join(d, "env"))
    tokfile = os.path.join(d, "token")
    if opts.token is None:
        if os.path.exists(tokfile):
            with open(tokfile) as f:
                opts.token = f.read().strip()
        else:
            opts.token = "".join(random.choice(string.ascii_letters + string.digits)
                                 for _ in range(32))
    write_file(tokfile, opts.token + "\n", 0o600)
    make_certs(d)
    ctx = Context(opts)
    state = os.path.join(d, "state.json")
    if opts.persist and os.path.exists(state):
        ctx.store.load(state)
    ctx.logfile = open(os.path.join(d, "requests.log"), "a")

    def port_of(url, given):
        if given is not None:
            return given
        try:
            return urllib.parse.urlsplit(url).port or 0
        except ValueError:
            return 0
    sslctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sslctx.load_cert_chain(os.path.join(d, "server.crt"), os.path.join(d, "server.key"))
    httpd = bind(port_of(old_env.get("KUBE_HTTP_URL", ""), opts.http_port), ctx, None)
    httpsd = bind(port_of(old_env.get("KUBE_HTTPS_URL", ""), opts.https_port), ctx, sslctx)
    http_url = "http://127.0.0.1:%d" % httpd.server_address[1]
    https_url = "https://127.0.0.1:%d" % httpsd.server_address[1]
    with open(os.path.join(d, "ca.crt"), "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    kubeconfig = os.path.join(d, "kubeconfig")
    write_file(kubeconfig, json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": https_url,
                                                  "certificate-authority-data": ca_b64}}],
        "users": [{"name": "test", "user": {"token": opts.token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test",
                                                  "namespace": "default"}}],
        "preferences": {}}, indent=1) + "\n", 0o600)
    for srv in (httpd, httpsd):
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    ctx.controllers.start()
    write_file(os.path.join(d, "env"),
               "KUBE_HTTP_URL=%s\nKUBE_HTTPS_URL=%s\nKUBE_TOKEN=%s\nKUBE_CA_FILE=%s\n"
               "KUBECONFIG=%s\nKUBE_MINOR=%d\nexport KUBE_HTTP_URL KUBE_HTTPS_URL KUBE_TOKEN "
               "KUBE_CA_FILE KUBECONFIG KUBE_MINOR\n" %
               (http_url, https_url, opts.token, os.path.join(d, "ca.crt"), kubeconfig,
                opts.minor))
    write_file(os.path.join(d, "pid"), "%d\n" % os.getpid())
    done = threading.Event()

    def on_signal(signum, frame):
        done.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not done.wait(0.2):
        if opts.persist:
            ctx.store.save(state)
    ctx.stopping = True
    with ctx.store.lock:
        ctx.store.cond.notify_all()
    if opts.persist:
        ctx.store.save(state)
    with ctx.loglock:
        ctx.logfile.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # open watch streams die with the process, as with a killed apiserver


if __name__ == "__main__":
    sys.exit(main())
