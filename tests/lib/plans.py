#!/usr/bin/env python3
"""plans.py: the SQL of a C file's queries, and questions about a plan.

  plans.py sql FILE.c NAME [VARIANT]
      The text of `static const char *const NAME` (or element VARIANT of
      `NAME[...] = { ..., ... }`, VARIANT an enumerator such as FILTER_NAMES
      of the file's enum query_filter, or an index; of `NAME[...][...]`,
      SET.VARIANT, SET the index of the outer set). The file's own #define
      lines are expanded by the C preprocessor (cc -E), so the text is what
      the program sends, whatever macros build it.

  plans.py ask PLAN.json TEMPLATE
      TEMPLATE with each {QUESTION TABLE [ARG]} replaced by its answer
      about PLAN.json, the output of EXPLAIN (ANALYZE, FORMAT JSON). Scans
      are the nodes with a relation; those of TABLE are on TABLE itself or
      on one of its partitions, named TABLE_YYYY_MM, TABLE_past and
      TABLE_future. Lists are sorted, space-separated, "-" when empty.
      QUESTION:
        planned     the partitions of TABLE in the plan
        executed [LIST]  those of them run at least once (Actual Loops > 0),
                    among those in LIST (comma-separated) when given
        seq LIST    those in LIST (comma-separated: the ones holding rows)
                    that the plan reads with a Seq Scan
        noindex LIST  those in LIST run at least once, not through an index
        notvia RE   scans of TABLE through no index whose name matches the
                    regular expression RE (Seq Scans included)
        after M     partitions of TABLE in the plan for months after M
                    (YYYY_MM): later monthly ones and TABLE_future
        under N     "yes" when every scan of TABLE expects fewer rows than
                    a tenth of N (the table's row count), else what it expects

  plans.py show PLAN.json
      The plan as an indented tree, one node a line, for a diagnostic.
"""
import json
import re
import subprocess
import sys


def c_queries(path):
    src = open(path, encoding="utf-8").read()
    joined = src.replace("\\\n", " ")
    defines = [l for l in joined.split("\n") if l.lstrip().startswith("#define")]
    decls = re.findall(r"^static const char \*const q_\w+\s*(?:\[[^\]]*\])*\s*=.*?;", src,
                       flags=re.S | re.M)
    enum = re.search(r"enum\s+query_filter\s*\{([^}]*)\}", src)
    out = subprocess.run(["cc", "-E", "-P", "-x", "c", "-"], input="\n".join(defines + decls),
                         capture_output=True, text=True, check=True).stdout
    tok = re.compile(r'"((?:[^"\\\n]|\\.)*)"|([{},])|\w+|\S')
    queries = {}
    for m in re.finditer(r"(q_\w+)\s*(?:\[[^\]]*\])*\s*=\s*(.*?);", out, flags=re.S):
        items, cur = [], None
        for t in tok.finditer(m.group(2)):
            if t.group(1) is not None:
                cur = (cur or "") + t.group(1).encode().decode("unicode_escape")
            elif t.group(2) in (",", "}") and cur is not None:
                items.append(cur)
                cur = None
        if cur is not None:
            items.append(cur)
        queries[m.group(1)] = items
    names = [n.strip() for n in enum.group(1).split(",")] if enum else []
    return queries, names


def cmd_sql(path, name, variant=None):
    queries, names = c_queries(path)
    if name not in queries or not queries[name]:
        sys.exit("plans.py: no query %s in %s" % (name, path))
    items = queries[name]
    if variant is None or len(items) == 1:
        if len(items) != 1 and variant is None:
            sys.exit("plans.py: %s has %d variants, name one" % (name, len(items)))
        print(items[0])
        return
    outer, _, variant = variant.rpartition(".")
    i = names.index(variant) if variant in names else int(variant)
    if outer:
        # Each set holds one query per enumerator before the count (FILTER_N).
        i += int(outer) * (len(names) - 1)
    print(items[i])


def scans(plan):
    out = []

    def bitmap_indexes(n, idx):
        for c in n.get("Plans", []):
            if c["Node Type"] == "Bitmap Index Scan":
                idx.append(c["Index Name"])
            elif c["Node Type"] in ("BitmapAnd", "BitmapOr"):
                bitmap_indexes(c, idx)

    def walk(n):
        if "Relation Name" in n:
            idx = [n["Index Name"]] if "Index Name" in n else []
            if n["Node Type"] == "Bitmap Heap Scan":
                bitmap_indexes(n, idx)
            out.append({"rel": n["Relation Name"], "type": n["Node Type"], "idx": idx,
                        "rows": n["Plan Rows"], "loops": n.get("Actual Loops", 1)})
        for c in n.get("Plans", []):
            walk(c)

    walk(plan)
    return out


def answer(plan, question, table, arg=None):
    mine = [s for s in scans(plan)
            if re.fullmatch(re.escape(table) + r"(_[0-9]{4}_[0-9]{2}|_past|_future)?", s["rel"])]
    if question == "planned":
        ans = {s["rel"] for s in mine}
    elif question == "executed":
        ans = {s["rel"] for s in mine if s["loops"] > 0 and (arg is None or s["rel"] in arg.split(","))}
    elif question == "seq":
        ans = {s["rel"] for s in mine if s["type"] == "Seq Scan" and s["rel"] in arg.split(",")}
    elif question == "noindex":
        ans = {"%s (%s)" % (s["rel"], s["type"]) for s in mine
               if s["loops"] > 0 and not s["idx"] and s["rel"] in arg.split(",")}
    elif question == "notvia":
        ans = {"%s (%s%s)" % (s["rel"], s["type"], " " + ",".join(s["idx"]) if s["idx"] else "")
               for s in mine if not any(re.fullmatch(arg, i) for i in s["idx"])}
    elif question == "after":
        ans = {s["rel"] for s in mine if s["rel"] == table + "_future" or
               (re.search(r"_[0-9]{4}_[0-9]{2}$", s["rel"]) and s["rel"][-7:] > arg)}
    elif question == "before":
        ans = {s["rel"] for s in mine if s["rel"] == table + "_past" or
               (re.search(r"_[0-9]{4}_[0-9]{2}$", s["rel"]) and s["rel"][-7:] < arg)}
    elif question == "under":
        most = max([s["rows"] for s in mine] or [0])
        return "yes" if most < int(arg) / 10 else "no (%d of %s)" % (most, arg)
    else:
        sys.exit("plans.py: unknown question %s" % question)
    return " ".join(sorted(ans)) if ans else "-"


def cmd_ask(path, template):
    plan = json.load(open(path, encoding="utf-8"))[0]["Plan"]
    print(re.sub(r"\{([^{}]*)\}", lambda m: answer(plan, *m.group(1).split()), template))


def cmd_show(path):
    def walk(n, depth):
        extra = [n.get("Relation Name", ""), n.get("Index Name", ""),
                 n.get("Index Cond", ""), n.get("Recheck Cond", ""), n.get("Filter", "")]
        print("%s%s %s (rows=%s actual=%s loops=%s)" % ("  " * depth, n["Node Type"],
                                                       " ".join(e for e in extra if e), n["Plan Rows"],
                                                       n.get("Actual Rows", "-"), n.get("Actual Loops", "-")))
        for c in n.get("Plans", []):
            walk(c, depth + 1)

    walk(json.load(open(path, encoding="utf-8"))[0]["Plan"], 0)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "sql":
        cmd_sql(*sys.argv[2:5])
    elif len(sys.argv) == 4 and sys.argv[1] == "ask":
        cmd_ask(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "show":
        cmd_show(sys.argv[2])
    else:
        sys.exit(__doc__)
