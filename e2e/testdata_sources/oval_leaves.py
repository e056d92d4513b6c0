"""Independent OVAL reader for the e2e tests (ElementTree, not the product's parser).

leaves(path) -> list of dicts, one per (definition, rpminfo/dpkginfo test) pair:
  {"def": definition id, "title": whitespace-collapsed title, "kind": "rpm"|"dpkg",
   "name": package name, "evr": fixed evr or None (test without an evr state), "op": evr operation,
   "arch": arch value or None, "arch_op": its operation, "cpes": affected cpes, "platforms": [...],
   "class": definition class}
Object names given through var_ref are expanded with the constant_variable's values (Ubuntu style).
Tests whose state has no evr but some other field (signature_keyid, version pattern) are reported with
evr None and "other_state": True so callers can drop them (claircore: not a vulnerability leaf).
"""
import xml.etree.ElementTree as ET

D = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _text(e):
    return " ".join((e.text or "").split()) if e is not None else ""


def leaves(path):
    root = ET.parse(path).getroot()
    tests, objects, states, variables = {}, {}, {}, {}
    for el in root.iter():
        t = _local(el.tag)
        i = el.get("id")
        if not i:
            continue
        if t in ("rpminfo_test", "dpkginfo_test"):
            o = s = None
            for c in el:
                if _local(c.tag) == "object":
                    o = c.get("object_ref")
                elif _local(c.tag) == "state":
                    s = c.get("state_ref")
            tests[i] = ("rpm" if t.startswith("rpm") else "dpkg", o, s)
        elif t in ("rpminfo_object", "dpkginfo_object"):
            for c in el:
                if _local(c.tag) == "name":
                    objects[i] = (c.text or "").strip() if not c.get("var_ref") else ("var", c.get("var_ref"))
        elif t in ("rpminfo_state", "dpkginfo_state"):
            st = {}
            for c in el:
                st[_local(c.tag)] = ((c.text or "").strip(), c.get("operation", "equals"))
            states[i] = st
        elif t == "constant_variable":
            variables[i] = [(c.text or "").strip() for c in el if _local(c.tag) == "value"]
    out = []
    for d in root.iter(D + "definition"):
        md = d.find(D + "metadata")
        title = _text(md.find(D + "title")) if md is not None else ""
        cpes = [(_text(c)) for c in d.iter(D + "cpe")]
        plats = [_text(p) for p in d.iter(D + "platform")]
        refs = [c.get("test_ref") for c in d.iter(D + "criterion")]
        for r in refs:
            if r not in tests:
                continue
            kind, o, s = tests[r]
            nm = objects.get(o)
            if nm is None:
                continue
            names = variables.get(nm[1], []) if isinstance(nm, tuple) else [nm]
            st = states.get(s, {}) if s else {}
            evr = st.get("evr")
            arch = st.get("arch")
            for n in names:
                out.append({"def": d.get("id"), "title": title, "kind": kind, "name": n,
                            "evr": evr[0] if evr else None, "op": evr[1] if evr else None,
                            "arch": arch[0] if arch else None, "arch_op": arch[1] if arch else None,
                            "cpes": cpes, "platforms": plats, "class": d.get("class"),
                            "other_state": bool(st) and not evr, "has_state": bool(s)})
    return out
