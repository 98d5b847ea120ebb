#!/usr/bin/python3
"""Checks adjoint-cli on a real model family (tests/models/export_models.py; ctest label `models`):

    /usr/bin/python3 tests/models/check_models.py --cli ADJOINT_CLI --work DIR --model NAME [--node NODE]

1. export: PyTorch writes the model with its loss, and torch's float64 outputs and gradients;
2. import and forward: `adjoint-cli run` gives torch's y and loss;
3. gradient: `adjoint-cli grad --of loss --wrt all` gives torch autograd's gradient for the input,
   w and every parameter (all of them: a parameter missing from the result fails);
4. -O2: `adjoint-cli optimize -O2` writes a file whose forward, run by adjoint-cli, is still torch's;
5. ONNX Runtime: the files adjoint-cli exports (plain and -O2) run in ONNX Runtime
   (tests/onnxruntime/run_model.js) give torch's y and loss;
6. hierarchy (the ResNets): `adjoint-cli info --json` reads the module structure from the node
   names: groups layer1 ... layer4, each holding its blocks (layer1.0, layer1.1, ...) and nothing else;
7. diff (DIFF_FAMILIES): `adjoint-cli diff` of the model against its -O2 form lists exactly the
   nodes that the rewrite trace (`optimize --trace`) says were removed and added, net of those a
   later step removed again.

Tolerances (float32 against a float64 reference, through networks up to ~200 layers deep): outputs
within a relative L2 error of 1e-4 and no element off by more than 2e-2 of the largest magnitude
(the loss, a sum with cancellation, relative to sum |y * w|); where torch's own float32 result is
further from its float64 one, 10 times torch's error. Gradients: each within a relative L2 error of
1e-1, their median within 1e-3 (typically 1e-6) (Checker.check says why a single gradient may be off by more).
Exit status 0 when every check holds, 1 otherwise (each failure an `error:` line).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)


def compare(got, want, rel_l2, worst_rel, scale=None):
    """None when `got` is `want` within a relative L2 error `rel_l2` and no element is off by more
    than `worst_rel` of the largest magnitude (of `scale`, for a scalar sum, where given)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, torch's {list(want.shape)}"
    if not np.all(np.isfinite(got)):
        return "not finite"
    diff = got - want
    norm = np.linalg.norm(want.ravel())
    worst = np.abs(diff).max() if diff.size else 0.0
    if scale is not None:
        err, largest = worst / scale, scale
    else:
        err, largest = np.linalg.norm(diff.ravel()) / max(norm, 1e-300), (np.abs(want).max() if want.size else 0.0)
        if norm == 0.0:
            return None if worst <= 1e-6 else f"torch's is zero, largest |value| {worst:.3g}"
    if err > rel_l2 or worst > worst_rel * largest:
        i = np.unravel_index(np.abs(diff).argmax(), diff.shape)
        return (f"relative error {err:.3g} (limit {rel_l2:.3g}), largest difference {worst:.3g} at {list(i)} "
                f"({got[i]:.6g} vs {want[i]:.6g}; scale {largest:.3g}, limit {worst_rel * largest:.3g})")
    return None


class Checker:
    def __init__(self, cli, node, work, name, ref):
        self.cli, self.node, self.work, self.name, self.ref = cli, node, work, name, ref
        self.failures = 0

    def fail(self, what):
        self.failures += 1
        print(f"error: {self.name}: {what}", flush=True)

    def run(self, args, what):
        t = time.monotonic()
        try:
            r = subprocess.run(args, capture_output=True, text=True)
        except OSError as e:
            self.fail(f"{what}: cannot start {args[0]}: {e}")
            return False
        print(f"  {what}: exit {r.returncode} in {time.monotonic() - t:.1f} s", flush=True)
        if r.returncode != 0:
            self.fail(f"{what} failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-2000:]}")
            return False
        return True

    def check(self, got_file, want_file, what, name, gradient):
        """Outputs: a relative L2 error of at most 1e-4, no element off by more than 2e-2 of the
        largest (or 10 times torch's own float32 error where that is larger). Gradients: a relative
        L2 error of at most 1e-1 per tensor, and the median over all gradient tensors at most 1e-3
        (see main()): one ReLU whose input lies within float32 rounding of zero takes the other
        side in float32 than in torch's float64 reference, which moves every gradient upstream of
        it (by 0.3% in VGG-11 at 224 x 224, 5% in Inception v3 where the flip is in its first
        layers, whose gradients are small), while a wrong rule or a miswired import moves them by
        O(1); every op's own gradient is checked against torch to 1e-5 in tst_torch_reference."""
        if not os.path.exists(got_file):
            self.fail(f"{what}: {os.path.basename(got_file)} was not written")
            return None
        got, want = np.load(got_file), np.load(want_file)
        if gradient:
            why = compare(got, want, 1e-1, np.inf)
            if why:
                self.fail(f"{what}: {why}")
            norm = np.linalg.norm(want.astype(np.float64).ravel())
            return float(np.linalg.norm((got.astype(np.float64) - want).ravel()) / norm) if norm and got.shape == want.shape else None
        torch_l2, torch_worst = self.ref["torch_float32_error"].get(name, [0.0, 0.0])
        scale = self.ref["loss_scale"] if name == "loss" else None
        why = compare(got, want, max(1e-4, 10 * torch_l2), max(2e-2, 10 * torch_worst), scale)
        if why:
            self.fail(f"{what}: {why}")
        return None


# The residual stages of torchvision's ResNets and how many blocks each holds.
EXPECTED_BLOCKS = {
    "resnet18": {"layer1": 2, "layer2": 2, "layer3": 2, "layer4": 2},
    "resnet50": {"layer1": 3, "layer2": 4, "layer3": 6, "layer4": 3},
}
# Families whose -O2 diff is checked against the rewrite trace: residual blocks with BatchNorm
# folding, SiLU and squeeze-excitation fusion, long concatenations, attention.
DIFF_FAMILIES = {"resnet18", "efficientnet_b0", "densenet121", "token_encoder"}


def check_hierarchy(c, cli, model, expected):
    """The groups `info --json` reports hold the expected stages, each with its blocks in order."""
    r = subprocess.run([cli, "info", model, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        c.fail(f"adjoint-cli info --json exited {r.returncode}: {r.stderr.strip()[:300]}")
        return
    groups = {g["path"]: g for g in json.loads(r.stdout)["groups"]}
    label = lambda path: path.rsplit("/", 1)[-1]
    for stage, blocks in expected.items():
        found = [p for p in groups if label(p) == stage]
        if len(found) != 1:
            c.fail(f"hierarchy: expected one group '{stage}', found {found or 'none'}")
            continue
        children = [label(p) for p in groups[found[0]]["children"]]
        want = [f"{stage}.{k}" for k in range(blocks)]
        if children != want:
            c.fail(f"hierarchy: group '{found[0]}' holds {children}, expected its blocks {want}")
    print(f"  hierarchy: {len(groups)} groups; {', '.join(f'{s} ({n} blocks)' for s, n in expected.items())}", flush=True)


def check_diff_against_trace(c, cli, model, work):
    """diff A (A -O2) names exactly the nodes the rewrite trace added and removed."""
    optimized, trace = os.path.join(work, "optimized_traced.json"), os.path.join(work, "trace.json")
    if not c.run([cli, "optimize", model, "-O2", "-o", optimized, "--trace", trace], "adjoint-cli optimize -O2 --trace"):
        return
    with open(trace) as f:
        steps = json.load(f)["steps"]
    added, removed = [], set()
    for step in steps:
        added += [n["name"] for n in step["added"]]
        for name in step["removed"]:
            if name in added:
                added.remove(name)  # made by an earlier step, gone again
            else:
                removed.add(name)
    r = subprocess.run([cli, "diff", model, optimized, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        c.fail(f"adjoint-cli diff exited {r.returncode}: {r.stderr.strip()[:300]}")
        return
    d = json.loads(r.stdout)
    for what, got, want in (("added", set(d["added"]), set(added)), ("removed", set(d["removed"]), removed)):
        if got != want:
            c.fail(f"diff against -O2: {what} differs from the rewrite trace: only in diff {sorted(got - want)[:5]}, "
                   f"only in the trace {sorted(want - got)[:5]}")
    print(f"  diff against -O2: +{len(d['added'])} -{len(d['removed'])} nodes, as the trace's {len(steps)} steps say", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--node", default="node", help="node.js, for ONNX Runtime")
    a = ap.parse_args()

    import export_models  # needs torch and torchvision: exits 1 saying so when they are missing

    work = os.path.abspath(a.work)
    t0 = time.monotonic()
    ref = export_models.export(a.model, work)
    print(f"{a.model} ({ref['note']}): {ref['nodes']} ONNX nodes, {ref['parameters']} parameters, "
          f"exported with torch's reference in {time.monotonic() - t0:.1f} s", flush=True)
    c = Checker(a.cli, a.node, work, a.model, ref)
    if ref["parameters_not_initializers"]:
        c.fail(f"the export renamed parameters, their gradients cannot be checked: {ref['parameters_not_initializers'][:5]}")

    model = os.path.join(work, "model.onnx")
    exp = os.path.join(work, "expected")
    inputs = ["--input", f"{ref['input']}={os.path.join(work, ref['input'] + '.npy')}",
              "--input", f"w={os.path.join(work, 'w.npy')}"]

    # forward
    fwd = os.path.join(work, "run")
    if c.run([a.cli, "run", model, *inputs, "--out", fwd], "adjoint-cli run"):
        for o in ("y", "loss"):
            c.check(os.path.join(fwd, f"{o}.npy"), os.path.join(exp, f"{o}.npy"), f"forward output '{o}'", o, False)

    # full gradient
    grad = os.path.join(work, "grad")
    if c.run([a.cli, "grad", model, "--of", "loss", "--wrt", "all", *inputs, "--out", grad], "adjoint-cli grad --wrt all"):
        errors = []
        for n, f in ref["gradients"].items():
            e = c.check(os.path.join(grad, f), os.path.join(exp, f), f"gradient of '{n}'", n, True)
            if e is not None:
                errors.append(e)
        if errors:
            median, worst = float(np.median(errors)), max(errors)
            print(f"  {len(ref['gradients'])} gradients compared: relative L2 error median {median:.2g}, largest {worst:.2g}", flush=True)
            if median > 1e-3:
                c.fail(f"the median relative error of the {len(errors)} gradients is {median:.3g}, over 1e-3")

    # -O2, then ONNX Runtime on the plain and the optimized export
    optimized = os.path.join(work, "optimized.onnx")
    exported = os.path.join(work, "exported.onnx")
    variants = []
    if c.run([a.cli, "optimize", model, "-O2", "-o", optimized], "adjoint-cli optimize -O2"):
        variants.append(("optimize -O2", optimized))
        opt = os.path.join(work, "run_optimized")
        if c.run([a.cli, "run", optimized, *inputs, "--out", opt], "adjoint-cli run (optimized)"):
            for o in ("y", "loss"):
                c.check(os.path.join(opt, f"{o}.npy"), os.path.join(exp, f"{o}.npy"), f"-O2 output '{o}'", o, False)
    if c.run([a.cli, "export", model, "-o", exported], "adjoint-cli export"):
        variants.append(("export", exported))
    for label, f in variants:
        out = os.path.join(work, "onnxruntime_" + label.split()[0])
        # ONNX Runtime as the reference reader of the file, its own graph rewrites off: version
        # 1.20 fuses Pad into AveragePool dropping count_include_pad (Inception v3's outputs 40x
        # off) and changes MaxViT's at level basic, where the unoptimized run gives torch's
        if c.run([a.node, os.path.join(ROOT, "tests/onnxruntime/run_model.js"), f, *inputs, "--out", out, "--optimization", "disabled"],
                 f"ONNX Runtime on the {label} file"):
            for o in ("y", "loss"):
                c.check(os.path.join(out, f"{o}.npy"), os.path.join(exp, f"{o}.npy"), f"ONNX Runtime ({label}) '{o}'", o, False)

    if a.model in EXPECTED_BLOCKS:
        check_hierarchy(c, a.cli, model, EXPECTED_BLOCKS[a.model])
    if a.model in DIFF_FAMILIES:
        check_diff_against_trace(c, a.cli, model, work)

    total = time.monotonic() - t0
    if c.failures:
        print(f"FAIL: {a.model}: {c.failures} check(s) failed ({total:.1f} s)")
        return 1
    print(f"ok: {a.model}: forward, {len(ref['gradients'])} gradients, -O2 and ONNX Runtime match torch ({total:.1f} s)")
    # a passing family leaves only reference.json: the files of all the families take 8 GB (VGG's
    # 130 million parameters, four times over); a failing one keeps everything to look at
    for entry in os.listdir(work):
        if entry != "reference.json":
            path = os.path.join(work, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
