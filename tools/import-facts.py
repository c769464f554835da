#!/usr/bin/env python3
"""Bring actions named in tools/selection.txt from ../shared/api into actions.yaml.

Names, types, numbers and flags come from the facts; the `doc` and `tests`
fields are ours and are kept from the existing actions.yaml (or from any
extra YAML files given with --docs, mapping action name -> {doc, tests}).
Run it again after adding names to selection.txt.
"""
import argparse
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

ARG_TOKENS = {
    ("String", "PlainString"): "String",
    ("String", "Pathname"): "Pathname",
    ("String", "Device"): "Device",
    ("String", "Mountable"): "Mountable",
    ("String", "Dev_or_Path"): "Dev_or_Path",
    ("String", "Mountable_or_Path"): "Mountable_or_Path",
    ("String", "FileIn"): "FileIn",
    ("String", "FileOut"): "FileOut",
    ("String", "Key"): "Key",
    ("String", "GUID"): "GUID",
    ("String", "Filename"): "Filename",
    ("StringList", "PlainString"): "StringList",
    ("StringList", "Device"): "DeviceList",
    ("StringList", "Filename"): "FilenameList",
    ("StringList", "Pathname"): "PathnameList",
}

# Optional arguments appended after libguestfs 1.48 (see ../shared/api/README.md).
OPTARGS_AFTER_148 = {("cryptsetup_open", "cipher"), ("e2fsck", "forceno"), ("tar_in", "keepdirlink")}

DEFAULT_ERRCODE = {
    "RErr": "minus_one", "RInt": "minus_one", "RInt64": "minus_one", "RBool": "minus_one",
}

FLAG_DEFAULTS = {
    "deprecated_by": None, "optional": None, "progress": False, "cancellable": False,
    "protocol_limit_warning": False, "blocking": True, "config_only": False,
    "visibility": "public", "fish_alias": [], "fish_output": None,
    "once_had_no_optargs": False, "non_c_aliases": [],
}


def arg_entry(a):
    if a["kind"] in ("String", "StringList"):
        t = ARG_TOKENS[(a["kind"], a["subtype"])]
    else:
        t = a["kind"]
    e = {"name": a["name"], "type": t}
    if a["kind"] == "Pointer":
        e["c_type"] = a["c_type"]
    return e


def ret_entry(r):
    e = {"type": r["kind"]}
    if r.get("subtype") and r["subtype"] != "RPlainString":
        e["subtype"] = r["subtype"]
    if r.get("value_subtype") and r["value_subtype"] != "RPlainString":
        e["value_subtype"] = r["value_subtype"]
    if r.get("struct"):
        e["struct"] = r["struct"]
    if r.get("name"):
        e["name"] = r["name"]
    return e


def flow(d):
    parts = []
    for k, v in d.items():
        parts.append(f"{k}: {scalar(v)}")
    return "{" + ", ".join(parts) + "}"


def scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    s = str(v)
    if s == "" or any(c in s for c in ":{}[],#&*!|>'\"%@`") or s[0] in "-?" or s.lower() in ("yes", "no", "true", "false", "null", "on", "off") or looks_numeric(s):
        return json.dumps(s)
    return s


def looks_numeric(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


# The generator reads YAML with Yams (YAML 1.2 core schema); PyYAML speaks
# YAML 1.1. Read with 1.2's rules (only true/false are booleans, "no" and
# "0123456789" are not what 1.1 makes of them) and quote every string whose
# plain form either schema would take for something else.
class Yaml12Loader(yaml.SafeLoader):
    pass


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))



def _int12(loader, node):
    v = loader.construct_scalar(node)
    if v.startswith(("0o", "0x")):
        return int(v[2:], 8 if v[1] == "o" else 16)
    return int(v, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int12)


def load_yaml(f):
    return yaml.load(f, Loader=Yaml12Loader)


class QuotingDumper(yaml.SafeDumper):
    pass


# The dumper quotes a string whenever its resolver would read the plain form
# as something else: PyYAML's 1.1 rules plus 1.2's integers (leading zeros).
QuotingDumper.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))


def block(text, indent):
    pad = " " * indent
    lines = text.rstrip("\n").split("\n")
    return "|\n" + "\n".join((pad + l) if l.strip() else "" for l in lines) + "\n"


def emit_action(x, old):
    out = [f"- name: {x['name']}\n"]
    if x["proc_nr"] is not None:
        out.append(f"  proc_nr: {x['proc_nr']}\n")
    out.append(f"  added: {scalar(x['added'])}\n")
    out.append(f"  ret: {flow(ret_entry(x['ret']))}\n")
    kind = x["ret"]["kind"]
    if x["errcode"] != DEFAULT_ERRCODE.get(kind, "null"):
        out.append(f"  errcode: {x['errcode']}\n")
    if x["args"]:
        out.append("  args:\n")
        for a in x["args"]:
            out.append(f"    - {flow(arg_entry(a))}\n")
    if x["optargs"]:
        out.append("  optargs:\n")
        for o in sorted(x["optargs"], key=lambda o: o["bit"]):
            entry = {'bit': o['bit'], 'name': o['name'], 'type': o['kind']}
            if (x["name"], o["name"]) in OPTARGS_AFTER_148:
                entry["in_1_48"] = False
            out.append(f"    - {flow(entry)}\n")
    f = x["flags"]
    flags = {}
    for k, d in FLAG_DEFAULTS.items():
        if f.get(k) != d:
            flags[k] = f[k]
    if f.get("camel_name_explicit"):
        flags["camel_name"] = f["camel_name"]
    if not x["in_1_48"]:
        flags["in_1_48"] = False
    if not x["in_guestfish"] and f["visibility"] in ("public",):
        flags["in_guestfish"] = False
    if flags:
        out.append(f"  flags: {flow(flags)}\n")
    doc = (old or {}).get("doc")
    if doc:
        out.append("  doc: " + block(doc, 4))
    tests = (old or {}).get("tests")
    if tests:
        dumped = yaml.dump(tests, Dumper=QuotingDumper, default_flow_style=None, sort_keys=False, width=100, allow_unicode=True)
        out.append("  tests:\n" + "".join("    " + l + "\n" for l in dumped.rstrip("\n").split("\n")))
    return "".join(out)


def read_selection(path, facts):
    chosen = []
    seen = set()
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("@module"):
            mod = line.split()[1]
            names = sorted(n for n, x in facts.items() if x["source_module"] == mod)
        else:
            names = line.split()
        for n in names:
            if n not in facts:
                sys.exit(f"selection.txt: {n}: no such action in the facts")
            if n not in seen:
                seen.add(n)
                chosen.append(n)
    return chosen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", default=os.path.join(ROOT, "..", "shared", "api"))
    ap.add_argument("--docs", nargs="*", default=[])
    ap.add_argument("--out", default=os.path.join(ROOT, "actions.yaml"))
    opts = ap.parse_args()

    facts = {x["name"]: x for x in json.load(open(os.path.join(opts.api, "actions.json")))}
    structs = json.load(open(os.path.join(opts.api, "structs.json")))
    smeta = json.load(open(os.path.join(opts.api, "structs_meta.json")))
    events = json.load(open(os.path.join(opts.api, "events.json")))
    optgroups = json.load(open(os.path.join(opts.api, "optgroups.json")))

    old = {}
    old_doc = {}
    if os.path.exists(opts.out):
        model = load_yaml(open(opts.out)) or {}
        old = {a["name"]: a for a in model.get("actions", [])}
        old_doc = model
    extra_groups = {}
    extra_structs = {}
    for p in opts.docs:
        for name, v in (load_yaml(open(p)) or {}).items():
            if name == "_optgroups":
                extra_groups.update(v)
                continue
            if name == "_structs":
                extra_structs.update(v)
                continue
            entry = old.setdefault(name, {})
            if isinstance(v, str):
                entry["doc"] = v
            else:
                entry.update(v)

    chosen = read_selection(os.path.join(HERE, "selection.txt"), facts)
    chosen.sort()
    used_structs = sorted({facts[n]["ret"]["struct"] for n in chosen if facts[n]["ret"].get("struct")})

    out = []
    out.append("# actions.yaml: the one description every generated file comes from.\n")
    out.append("# Names, types, procedure numbers and optarg bits are libguestfs's facts\n")
    out.append("# (tools/import-facts.py brings them in); docs and tests are ours.\n")
    out.append("# Edit docs and tests here, then run `swift run generator`.\n\n")
    out.append("events:\n")
    for name, bit in sorted(events.items(), key=lambda kv: kv[1]):
        if name == "all":
            continue
        out.append(f"  - {{name: {name}, bit: {bit}}}\n")
    out.append("\noptgroups:\n")
    old_groups = {g["name"]: g for g in old_doc.get("optgroups", [])} if old_doc else {}
    for g in sorted(optgroups):
        members = [n for n in optgroups[g] if n in set(chosen)]
        gd = extra_groups.get(g) or old_groups.get(g, {}).get("doc")
        line = f"  - name: {g}\n"
        if gd:
            line += f"    doc: {scalar(gd)}\n"
        out.append(line)
    out.append("\nstructs:\n")
    old_structs = {s["name"]: s for s in old_doc.get("structs", [])} if old_doc else {}
    for s in sorted(structs):
        out.append(f"  - name: {s}\n")
        out.append(f"    camel_name: {smeta[s]['camel_name']}\n")
        if smeta[s].get("internal"):
            out.append("    internal: true\n")
        sd = extra_structs.get(s) or old_structs.get(s, {}).get("doc")
        if sd:
            out.append(f"    doc: {scalar(sd)}\n")
        out.append("    fields:\n")
        for fld in structs[s]:
            out.append(f"      - {{name: {fld['name']}, type: {fld['type']}}}\n")
    out.append("\nactions:\n")
    for n in chosen:
        text = emit_action(facts[n], old.get(n))
        out.append("".join("  " + l + "\n" if l else "\n" for l in text.rstrip("\n").split("\n")))
        out.append("\n")
    with open(opts.out, "w") as fh:
        fh.write("".join(out).rstrip("\n") + "\n")
    print(f"{opts.out}: {len(chosen)} actions, {len(structs)} structs")


if __name__ == "__main__":
    main()
