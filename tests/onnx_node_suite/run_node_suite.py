#!/usr/bin/python3
"""ONNX's own backend node tests (Debian's libonnx-testdata) through `adjoint-cli run`.

    /usr/bin/python3 tests/onnx_node_suite/run_node_suite.py --cli build/app/cli/adjoint-cli
        [--data /usr/share/libonnx-testdata/data/node] [--expected tests/onnx_node_suite/expected_passes.txt]
        [--jobs N] [--only SUBSTRING] [--write-expected] [--table docs/ONNX.md] [--json OUT.json]

Every case is a folder holding model.onnx and test_data_set_*/ with input_<k>.pb and
output_<k>.pb (TensorProto files). For each data set the inputs are written as .npy, the model is
run by `adjoint-cli run MODEL --input NAME=FILE ... --out DIR`, and each output DIR/<name>.npy is
compared with the reference: the same dtype and shape, and values within rtol 1e-3, atol 1e-7 (the
tolerances of ONNX's own backend test runner), NaN where the reference has NaN.

With --constant-operands every graph input but the first becomes a Constant node holding the
first data set's value, as exporters write shape operands (Resize's scales and sizes, ReduceSum's
axes, Reshape's shape, Slice's starts and ends, ...): the ops' semantics are checked on the form
real models have. That variant has its own list of passes.

A case ends as one of:
  pass      every data set gives the reference outputs
  refused   adjoint-cli exits 1 with an `error:` line (an op, dtype or attribute it does not support)
  wrong     it exits 0 but an output differs (dtype, shape or values): a silent fault
  crash     any other exit (a signal, an abort, exit status other than 0 and 1)
  timeout   no answer within --timeout seconds
  outdated  the output differs from a reference that libonnx-testdata 1.12 computed otherwise than
            its model says (bfloat16 by truncation, an Adam case with another epsilon), and equals
            the reference recomputed as the model says (OUTDATED_REFERENCES says which cases and
            why): neither a pass nor a fault
  skipped   not a numeric-tensor case (sequences, optionals, strings): reported, not run

Exit status 1 (the test fails) when a case listed in --expected does not pass, or anything
crashes, times out or computes a wrong answer silently; 0 otherwise. New passes are printed so
that the list can grow (--write-expected rewrites it). --table replaces the part of docs/ONNX.md
between its node-suite markers with the per-op table (cases, passes, the most common reason for
each refusal). Needs Debian's python3-onnx and python3-numpy (scripts/install-deps.sh), run by
/usr/bin/python3.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
RTOL, ATOL = 1e-3, 1e-7
BEGIN, END = "<!-- node-suite table: begin (tests/onnx_node_suite/run_node_suite.py --table) -->", "<!-- node-suite table: end -->"
NUMERIC = {getattr(onnx.TensorProto, n) for n in ("FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16", "INT8", "INT16", "INT32", "INT64",
                                                  "UINT8", "UINT16", "UINT32", "UINT64", "BOOL")}


def cli_file_name(name):
    """adjoint-cli's file name for a tensor name: characters outside [A-Za-z0-9._-] become '_'."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def read_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def is_numeric(value_info):
    t = value_info.type
    return t.HasField("tensor_type") and t.tensor_type.elem_type in NUMERIC


def case_ops(model):
    """The op types of the case's graph, the distinctive ones first (Constant last)."""
    ops = []
    for n in model.graph.node:
        if n.op_type not in ops:
            ops.append(n.op_type)
    return sorted(ops, key=lambda o: o == "Constant")


def bfloat16_nearest_even(x):
    """float32 -> bfloat16 bits (uint16), rounded to nearest, ties to even; NaN stays NaN."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), rounded)


def data_set_inputs(data_set):
    """Every input_<k>.pb of a data set, in order (also those --constant-operands made constants)."""
    paths = sorted(glob.glob(os.path.join(data_set, "input_*.pb")), key=lambda p: int(re.search(r"input_(\d+)", p).group(1)))
    return [read_tensor(p)[1] for p in paths]


def adam_x_new(inputs, k, alpha=0.95, beta=0.85, norm=0.001, epsilon=1e-6):
    """ONNX Adam's X_new for tensor k of test_adam_multiple (inputs R, T, X1, X2, G1, G2, V1, V2,
    H1, H2), with the node's own attributes: epsilon left at the schema's default, 1e-6."""
    r, t = inputs[0], inputs[1]
    x, g, v, h = inputs[2 + k], inputs[4 + k], inputs[6 + k], inputs[8 + k]
    g = norm * x + g
    v = alpha * v + (1 - alpha) * g
    h = beta * h + (1 - beta) * g * g
    rate = r * np.sqrt(1 - beta ** t) / (1 - alpha ** t) if t > 0 else r
    return (x - rate * (v / (np.sqrt(h) + epsilon))).astype(np.float32)


# Cases whose reference outputs libonnx-testdata 1.12 computed otherwise than its model says:
# the bfloat16 casts by truncating float32 (ONNX 1.12's float32_to_bfloat16 cut the low 16 bits;
# ONNX Runtime and PyTorch round to nearest even, as Adjoint does), and test_adam_multiple with
# epsilon 1e-2 where its node leaves epsilon at the default 1e-6. Each maps to a function of the
# case's inputs and the output's index that recomputes the reference as the model defines it (and
# the case is "outdated" only when Adjoint's output equals that one).
OUTDATED_REFERENCES = {
    "test_cast_FLOAT_to_BFLOAT16": lambda inputs, k: bfloat16_nearest_even(inputs[0]),
    "test_castlike_FLOAT_to_BFLOAT16": lambda inputs, k: bfloat16_nearest_even(inputs[0]),
    "test_castlike_FLOAT_to_BFLOAT16_expanded": lambda inputs, k: bfloat16_nearest_even(inputs[0]),
    "test_adam_multiple": lambda inputs, k: adam_x_new(inputs, k),
}
OUTDATED_WHY = {
    "test_adam_multiple": "libonnx-testdata's reference used epsilon 1e-2, the node leaves it at its default 1e-6; "
                          "equal to the reference recomputed with the node's attributes",
}
BFLOAT16_WHY = "libonnx-testdata's reference truncates to bfloat16; equal to the reference rounded to nearest even (as ONNX Runtime and PyTorch round)"


def same(got, want):
    """'' when got equals want as ONNX's runner compares them, else what differs."""
    if got.dtype != want.dtype:
        return f"dtype {got.dtype}, reference {want.dtype}"
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, reference {list(want.shape)}"
    if want.dtype.kind in "biu":
        bad = np.count_nonzero(got != want)
        return f"{bad} of {want.size} values differ" if bad else ""
    g, w = got.astype(np.float64), want.astype(np.float64)
    nan = np.isnan(w)
    if np.any(np.isnan(g) != nan):
        return "NaN where the reference has none (or the reverse)"
    ok = np.isclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True) | nan
    if np.all(ok):
        return ""
    worst = np.unravel_index(np.argmax(np.where(ok, 0, np.abs(g - w))), w.shape)
    return f"{np.count_nonzero(~ok)} of {w.size} values differ (at {list(worst)}: {g[worst]!r}, reference {w[worst]!r})"


def with_constant_operands(model, case_dir, work):
    """The model with every graph input but the first turned into a Constant holding the first
    data set's value (how exporters write shape operands: scales, sizes, axes, repeats), saved in
    `work`; returns the new model file, or None when the case has no data set."""
    data_set = os.path.join(case_dir, "test_data_set_0")
    if not os.path.isdir(data_set):
        return None
    inits = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    constants = []
    for k, info in enumerate(inputs[1:], start=1):
        path = os.path.join(data_set, f"input_{k}.pb")
        if not os.path.exists(path):
            continue
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        t.name = info.name
        constants.append(onnx.helper.make_node("Constant", [], [info.name], value=t))
    folded = {n.output[0] for n in constants}
    keep = [i for i in model.graph.input if i.name not in folded]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    nodes = constants + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    return path


def run_case(case_dir, cli, timeout, constant_operands=False):
    name = os.path.basename(case_dir)
    result = {"case": name, "ops": [], "outcome": "", "detail": ""}
    try:
        model = onnx.load(os.path.join(case_dir, "model.onnx"))
    except Exception as e:  # a case ONNX's own loader cannot read is not one to hold us to
        result.update(outcome="skipped", detail=f"onnx.load: {e}")
        return result
    result["ops"] = case_ops(model)
    model_file = os.path.join(case_dir, "model.onnx")
    work = tempfile.mkdtemp(prefix="adj-node-")
    if constant_operands:
        model_file = with_constant_operands(model, case_dir, work)
        if model_file is None:
            shutil.rmtree(work, ignore_errors=True)
            result.update(outcome="skipped", detail="no data set")
            return result
    inits = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if not all(is_numeric(v) for v in list(inputs) + list(model.graph.output)):
        shutil.rmtree(work, ignore_errors=True)
        result.update(outcome="skipped", detail="not a numeric-tensor case (sequence, optional, map or string values)")
        return result
    try:
        data_sets = sorted(glob.glob(os.path.join(case_dir, "test_data_set_*")))
        for data_set in data_sets[:1] if constant_operands else data_sets:
            args = [cli, "run", model_file, "--out", os.path.join(work, "out")]
            for k, info in enumerate(inputs):
                path = os.path.join(data_set, f"input_{k}.pb")
                if not os.path.exists(path):
                    continue  # an optional input the data set leaves out
                _, value = read_tensor(path)
                npy = os.path.join(work, f"input_{k}.npy")
                np.save(npy, value)
                args += ["--input", f"{info.name}={npy}"]
            shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
            try:
                r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                result.update(outcome="timeout", detail=f"no answer within {timeout} s")
                return result
            errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
            if r.returncode == 1 and errors:
                result.update(outcome="refused", detail=errors[0][len("error:"):].strip())
                return result
            if r.returncode != 0:
                tail = r.stderr.strip().splitlines()[-1:] or ["(no output)"]
                result.update(outcome="crash", detail=f"exit status {r.returncode}: {tail[0]}")
                return result
            for k, out in enumerate(model.graph.output):
                _, want = read_tensor(os.path.join(data_set, f"output_{k}.pb"))
                path = os.path.join(work, "out", cli_file_name(out.name) + ".npy")
                if not os.path.exists(path):
                    result.update(outcome="wrong", detail=f"output {out.name}: not written")
                    return result
                got = np.load(path)
                why = same(got, want)
                if why and name in OUTDATED_REFERENCES and not same(got, OUTDATED_REFERENCES[name](data_set_inputs(data_set), k)):
                    result.update(outcome="outdated", detail=f"output {out.name}: {why} from the reference: {OUTDATED_WHY.get(name, BFLOAT16_WHY)}")
                    return result
                if why:
                    result.update(outcome="wrong", detail=f"output {out.name}: {why}")
                    return result
        result["outcome"] = "pass"
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def reason_class(detail):
    """A refusal's message with the node's name, numbers and quoted values generalised, so that
    the same reason on different nodes counts once."""
    d = re.sub(r"^\S+?\.onnx: ", "", detail)  # the model's path
    d = re.sub(r"node '[^']*'", "node", d)
    d = re.sub(r"'[^']*'", "'…'", d)
    return re.sub(r"\b\d+\b", "N", d)


def per_op_table(results):
    rows = collections.OrderedDict()
    for r in sorted(results, key=lambda r: (r["ops"][:1] or ["?"])[0]):
        op = (r["ops"][:1] or ["?"])[0]
        row = rows.setdefault(op, {"cases": 0, "pass": 0, "skipped": 0, "reasons": collections.Counter()})
        row["cases"] += 1
        if r["outcome"] == "pass":
            row["pass"] += 1
        elif r["outcome"] == "skipped":
            row["skipped"] += 1
        else:
            row["reasons"][f"{r['outcome']}: {reason_class(r['detail'])}"] += 1
    lines = ["| op | cases | pass | not numeric | the most common reason otherwise |", "|----|------:|-----:|------:|------|"]
    for op, row in rows.items():
        reason = ""
        if row["reasons"]:
            text, count = row["reasons"].most_common(1)[0]
            reason = text.replace("|", "\\|") + (f" ({count})" if count > 1 else "")
        lines.append(f"| {op} | {row['cases']} | {row['pass']} | {row['skipped'] or ''} | {reason} |")
    return "\n".join(lines)


def summary(results):
    c = collections.Counter(r["outcome"] for r in results)
    numeric = len(results) - c["skipped"]
    share = 100.0 * c["pass"] / numeric if numeric else 0.0
    return c, numeric, share


def write_table(doc, results):
    c, numeric, share = summary(results)
    body = (f"{BEGIN}\n\n{len(results)} cases of libonnx-testdata {version()}; {numeric} have numeric-tensor inputs and outputs, "
            f"of which {c['pass']} pass ({share:.1f}%); {c['refused']} are refused with an `error:` line, "
            f"{c['wrong']} compute a wrong answer, {c['crash']} crash, {c['timeout']} time out; {c['outdated']} differ only from a "
            f"reference computed otherwise than the model says (bfloat16 by truncation where Adjoint, as ONNX Runtime, rounds to nearest even; "
            f"one Adam case with another epsilon than its node's: run_node_suite.py's OUTDATED_REFERENCES).\n"
            f"Rows are the first op of each case's graph.\n\n{per_op_table(results)}\n\n{END}")
    text = open(doc).read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + body + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    with open(doc, "w") as f:
        f.write(text)


def version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libonnx-testdata"], capture_output=True, text=True)
        return out.stdout.strip() or "(version unknown)"
    except OSError:
        return "(version unknown)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--expected", help="the list of passes (default: expected_passes.txt, or "
                    "expected_passes_constant_operands.txt with --constant-operands)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--write-expected", action="store_true")
    ap.add_argument("--table")
    ap.add_argument("--json")
    ap.add_argument("--constant-operands", action="store_true",
                    help="every input but the first becomes a Constant of its value (as exporters write shape operands)")
    a = ap.parse_args()
    if not a.expected:
        a.expected = os.path.join(HERE, "expected_passes_constant_operands.txt" if a.constant_operands else "expected_passes.txt")

    if not os.path.isdir(a.data):
        print(f"error: {a.data}: not found; ONNX's node tests come with Debian's libonnx-testdata (scripts/install-deps.sh installs it)")
        return 1
    cases = sorted(d for d in glob.glob(os.path.join(a.data, "test_*")) if os.path.isdir(d) and a.only in os.path.basename(d))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        results = list(pool.map(lambda d: run_case(d, a.cli, a.timeout, a.constant_operands), cases))

    c, numeric, share = summary(results)
    print(f"{len(results)} cases: {numeric} numeric, {c['pass']} pass ({share:.1f}%), {c['refused']} refused, "
          f"{c['wrong']} wrong, {c['crash']} crash, {c['timeout']} timeout, {c['outdated']} outdated reference, {c['skipped']} skipped (not numeric)")
    failed = False
    for r in results:
        if r["outcome"] in ("crash", "timeout", "wrong"):
            print(f"FAIL {r['outcome']}: {r['case']} ({', '.join(r['ops'])}): {r['detail']}")
            failed = True
    passes = {r["case"] for r in results if r["outcome"] == "pass"}
    expected = set()
    if os.path.exists(a.expected):
        expected = {line.strip() for line in open(a.expected) if line.strip() and not line.startswith("#")}
    ran = {r["case"] for r in results}
    by_name = {r["case"]: r for r in results}
    for case in sorted((expected & ran) - passes):
        r = by_name[case]
        print(f"FAIL regression: {case} passed before, now {r['outcome']}: {r['detail']}")
        failed = True
    new = sorted(passes - expected)
    if new:
        print(f"{len(new)} new passes (--write-expected adds them to {os.path.relpath(a.expected, ROOT)}): {' '.join(new)}")
    if a.write_expected and not a.only:
        with open(a.expected, "w") as f:
            mode = " --constant-operands" if a.constant_operands else ""
            f.write("# ONNX node-suite cases (libonnx-testdata) that adjoint-cli run passes; a case here that stops\n"
                    f"# passing fails the test. Written by tests/onnx_node_suite/run_node_suite.py{mode} --write-expected.\n")
            f.write("".join(c + "\n" for c in sorted(passes)))
    if a.table:
        write_table(a.table, results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
