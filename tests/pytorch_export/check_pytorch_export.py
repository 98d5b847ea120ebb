#!/usr/bin/python3
"""adjoint-cli export GRAPH -o model.py, checked against PyTorch itself (issue #20, point 5).

fixtures   Every graph with a PyTorch reference in tests/fixtures: the op cases (ops/*.json), the
           examples (examples/manifest.json) and the PyTorch-made ONNX models (onnx/manifest.json),
           these last two also in their -O2 form (export --optimized).
           Each is exported; the module's load() and forward run under torch (float32) on the
           fixture's inputs, and its outputs and the gradients of the fixture's loss (torch
           autograd through the module) must equal torch's own float64 reference and Adjoint's
           `run` (and, where the graph has a scalar loss output, Adjoint's `grad --wrt all`). A
           graph with a derivative op must be refused with an error naming the node.
training   `export --train`: the script, run for 5 steps on 1 process and under torchrun on 2
           processes (DistributedDataParallel, gloo), reaches the same parameters within 1e-5; and
           its parameters equal those `adjoint-cli train` reaches with the same options (the same
           rows in each batch, the same loss, optimizer and hyper-parameters) within 1e-5.

    check_pytorch_export.py --cli build/app/cli/adjoint-cli --work DIR (fixtures|training)
"""
import argparse
import base64
import glob
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit("python3-torch is not installed: scripts/install-deps.sh installs it (the PyTorch export cannot be checked)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RTOL, ATOL = 1e-4, 1e-5
# derivative ops that only backward graphs hold; conv2d_grad_input is a transposed convolution
# (ONNX's ConvTranspose imports as it) and is exported as one
NO_PYTORCH_FORM = {"conv2d_grad_weight", "max_pool_grad", "max_pool_select", "avg_pool_grad", "gather_grad",
                   "gather_elements_grad"}
GRAD_ATOL = 1e-4


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def import_module(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tensor_of(entry):
    """A tensor of an op case file ({"shape", "values"} or {"shape", "base64"})."""
    if "values" in entry:
        data = np.array(entry["values"], dtype=np.float32)
    else:
        data = np.frombuffer(base64.b64decode(entry["base64"]), dtype="<f4")
    return data.reshape(entry["shape"])


def close(actual, expected, rtol, atol):
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return f"shape {actual.shape}, expected {expected.shape}"
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        i = np.unravel_index(np.argmax(np.abs(actual - expected) * bad), actual.shape)
        return f"{int(bad.sum())} of {actual.size} elements differ, e.g. at {tuple(int(k) for k in i)}: {actual[i]} vs {expected[i]}"
    return None


class Case:
    def __init__(self, name, graph, inputs, expected, loss_output, loss_weights, gradients, no_gradient):
        self.name, self.graph, self.inputs, self.expected = name, graph, inputs, expected
        self.loss_output, self.loss_weights = loss_output, loss_weights
        self.gradients, self.no_gradient = gradients, set(no_gradient)


def op_cases(work):
    """The op case files; each case's graph is written to WORK/<case>.json."""
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "ops", "*.json"))):
        with open(path) as f:
            c = json.load(f)
        graph = os.path.join(work, c["case"] + ".json")
        with open(graph, "w") as f:
            json.dump(c["graph"], f)
        yield c, Case(c["case"], graph, {k: tensor_of(v) for k, v in c["inputs"].items()},
                      {k: tensor_of(v) for k, v in c["expected"].items()}, None,
                      {k: tensor_of(v) for k, v in c["loss_weights"].items()},
                      {k: tensor_of(v) for k, v in c["gradients"].items()}, c.get("no_gradient", []))


def manifest_cases(manifest):
    with open(os.path.join(ROOT, manifest)) as f:
        entries = json.load(f)
    for e in entries:
        load = lambda p: np.load(os.path.join(ROOT, p))  # noqa: E731
        loss = e["loss"]
        yield Case(e.get("case") or e.get("model"), os.path.join(ROOT, e.get("graph") or e["file"]),
                   {k: load(v) for k, v in e["inputs"].items()}, {k: load(v) for k, v in e["expected"].items()},
                   loss.get("output"), {k: load(v) for k, v in loss.get("weights", {}).items()},
                   {k: load(v) for k, v in e["gradients"].items()}, e.get("no_gradient", []))


def check_case(cli, work, case, problems, optimized=False):
    """Exports the case's graph (or its -O2 form) and checks the module against the references."""
    folder = os.path.join(work, case.name + ("_O2" if optimized else ""))
    os.makedirs(folder, exist_ok=True)
    module_path = os.path.join(folder, "model.py")
    r = run([cli, "export", case.graph, "-o", module_path] + (["--optimized"] if optimized else []))
    if r.returncode != 0:
        problems.append(f"{case.name}: export failed (exit {r.returncode}): {r.stderr.strip()}")
        return
    m = import_module(module_path)
    model = m.load()
    args = []
    for name in m.INPUTS:
        value = case.inputs[name]
        if name in case.gradients:  # the shape the graph declares (a scalar input may be stored as [1])
            value = value.reshape(case.gradients[name].shape)
        t = torch.from_numpy(np.array(value))
        if t.is_floating_point():
            t = t.float().requires_grad_(True)
        args.append(t)
    out = model(*args)
    outs = dict(zip(m.OUTPUTS, out if isinstance(out, tuple) else (out,)))

    # outputs: torch's reference, and Adjoint's own run
    for name, expected in case.expected.items():
        bad = close(outs[name].detach().numpy(), expected, RTOL, ATOL)
        if bad:
            problems.append(f"{case.name}: output {name} vs torch's reference: {bad}")
    inputs = []
    for name, value in case.inputs.items():
        path = os.path.join(folder, f"in_{len(inputs)}.npy")
        np.save(path, value)
        inputs += ["--input", f"{name}={path}"]
    r = run([cli, "run", case.graph, *inputs, "--out", os.path.join(folder, "adjoint")])
    if r.returncode != 0:
        problems.append(f"{case.name}: adjoint-cli run failed: {r.stderr.strip()}")
    else:
        for name in case.expected:
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
            bad = close(outs[name].detach().numpy(), np.load(os.path.join(folder, "adjoint", safe + ".npy")), RTOL, ATOL)
            if bad:
                problems.append(f"{case.name}: output {name} vs adjoint-cli run: {bad}")

    # gradients of the fixture's loss, through the module, against torch's reference
    loss = outs[case.loss_output].sum() if case.loss_output else sum(
        (outs[k] * torch.from_numpy(np.array(w)).float()).sum() for k, w in case.loss_weights.items())
    if not loss.requires_grad:  # piecewise-constant ops (sign, floor, ...): every gradient is zero
        for name, expected in case.gradients.items():
            bad = close(np.zeros(expected.shape), expected, RTOL, GRAD_ATOL)
            if bad:
                problems.append(f"{case.name}: the module gives no gradient, torch's reference for {name}: {bad}")
        return
    by_name = {name: t for name, t in zip(m.INPUTS, args)}
    params = dict(model.named_parameters())
    by_name.update({graph_name: params[attr] for attr, graph_name in m.PARAMETERS.items()})
    leaves = {k: v for k, v in by_name.items() if v.requires_grad}
    grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    grads = dict(zip(leaves.keys(), grads))
    for name, expected in case.gradients.items():
        if optimized and name not in m.INPUTS:
            continue  # -O2 folds and merges parameters (BatchNorm into Conv, Q/K/V into one): the inputs' gradients stay
        g = grads.get(name)
        if g is None:
            g = torch.zeros(expected.shape)
        bad = close(g.numpy(), expected, RTOL, GRAD_ATOL)
        if bad:
            problems.append(f"{case.name}: gradient of {name} vs torch's reference: {bad}")
    if case.loss_output and not optimized:  # Adjoint's own gradient of the same scalar output
        r = run([cli, "grad", case.graph, "--of", case.loss_output, "--wrt", "all", *inputs, "--out", os.path.join(folder, "grad")])
        if r.returncode != 0:
            problems.append(f"{case.name}: adjoint-cli grad failed: {r.stderr.strip()}")
        for name, g in grads.items():
            if g is None or r.returncode != 0:
                continue
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
            bad = close(g.numpy(), np.load(os.path.join(folder, "grad", f"grad_{safe}.npy")), RTOL, GRAD_ATOL)
            if bad:
                problems.append(f"{case.name}: gradient of {name} vs adjoint-cli grad: {bad}")


def checked_case(cli, work, case, problems, optimized=False):
    try:
        check_case(cli, work, case, problems, optimized)
    except Exception as e:  # the exported module failed under torch: a finding, and go on
        problems.append(f"{case.name}: {type(e).__name__}: {e}")


def check_fixtures(cli, work):
    problems, checked, refused = [], 0, 0
    for raw, case in op_cases(work):
        derivative_ops = [op for op in raw["ops"] if op in NO_PYTORCH_FORM]
        if derivative_ops:
            # no PyTorch form: refused, naming the node
            r = run([cli, "export", case.graph, "-o", os.path.join(work, case.name + ".py")])
            if r.returncode != 1 or "error:" not in r.stderr or "derivative op" not in r.stderr or "node '" not in r.stderr:
                problems.append(f"{case.name}: a graph with {derivative_ops} must be refused with an error naming the node; "
                                f"got exit {r.returncode}: {r.stderr.strip()}")
            refused += 1
            continue
        checked_case(cli, work, case, problems)
        checked += 1
    for manifest in ("tests/fixtures/examples/manifest.json", "tests/fixtures/onnx/manifest.json"):
        for case in manifest_cases(manifest):
            checked_case(cli, work, case, problems)
            # and its -O2 form (fusion groups, folded constants, merged matmuls), which must compute the same
            checked_case(cli, work, case, problems, optimized=True)
            checked += 2
    print(f"{checked} graphs exported and checked against torch and adjoint-cli, {refused} with derivative ops refused")
    return problems


def read_checkpoint_parameters(path):
    with open(path) as f:
        c = json.load(f)
    return {p["name"]: np.frombuffer(base64.b64decode(p["base64"]), dtype="<f4").reshape(p["shape"]) for p in c["parameters"]}


def check_training(cli, work):
    problems = []
    graph = os.path.join(ROOT, "resources", "examples", "spirals_mlp.json")
    module_path = os.path.join(work, "spirals.py")

    def export(*options):
        r = run([cli, "export", graph, "-o", module_path, "--train", "--dataset", "spirals", *options])
        if r.returncode != 0:
            sys.exit(f"export --train failed: {r.stderr}")

    def train(processes, steps, batch, save):
        script = os.path.join(work, "spirals_train.py")
        cmd = [sys.executable, script] if processes == 1 else \
            [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
             "--redirects", "1", "--tee", "1", script]  # (torch 1.13 on Python 3.11 fails on their default, 0)
        r = run(cmd + ["--steps", str(steps), "--batch", str(batch), "--save", save], env={**os.environ, "OMP_NUM_THREADS": "1"})
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
        # (torchrun --tee prefixes each line with the process: "[default0]:{...}")
        losses = [json.loads(line[line.index("{"):])["loss"] for line in r.stdout.splitlines() if '{"step"' in line]
        with np.load(save) as data:
            return {k: data[k] for k in data.files}, losses

    def compare(a, b, what, tol):
        for k in a:
            diff = float(np.max(np.abs(a[k] - b[k])))
            if diff > tol:
                problems.append(f"{what}: parameter {k} differs by {diff:.3g} (> {tol})")

    # DDP: 2 processes of 16 rows each against 1 process of 32 rows, Adam, 5 steps
    export("--optimizer", "adam", "--lr", "0.05")
    initial = {k: v.detach().numpy().copy() for k, v in import_module(module_path).load().state_dict().items()}
    one, losses_one = train(1, 5, 32, os.path.join(work, "one.npz"))
    two, losses_two = train(2, 5, 32, os.path.join(work, "two.npz"))
    compare(one, two, "1 process vs 2 under DDP", 1e-5)
    if max(float(np.max(np.abs(one[k] - initial[k]))) for k in one) < 1e-3:
        problems.append("the parameters hardly moved in 5 steps: the script did not train")
    if len(losses_one) != 2 or len(losses_two) != 2 or abs(losses_one[-1] - losses_two[-1]) > 1e-5:
        problems.append(f"logged losses differ: 1 process {losses_one}, 2 processes {losses_two}")

    # the same training as adjoint-cli train: the same rows in each batch (its sampler, written out
    # in the script), momentum SGD; 3 batches of 400 of the 1,000 rows cross an epoch's end
    export("--optimizer", "momentum", "--lr", "0.1")
    checkpoint = os.path.join(work, "adjoint.ckpt")
    r = run([cli, "train", graph, "--dataset", "spirals", "--optimizer", "momentum", "--lr", "0.1", "--steps", "3",
             "--batch", "400", "--checkpoint", checkpoint])
    if r.returncode != 0:
        sys.exit(f"adjoint-cli train failed: {r.stderr}")
    adjoint = read_checkpoint_parameters(checkpoint)
    torch_one, _ = train(1, 3, 400, os.path.join(work, "same_one.npz"))
    torch_two, _ = train(2, 3, 400, os.path.join(work, "same_two.npz"))
    compare(adjoint, torch_one, "adjoint-cli train vs the script on 1 process", 1e-5)
    compare(adjoint, torch_two, "adjoint-cli train vs the script on 2 processes", 1e-5)
    rows = len(np.load(os.path.join(work, "spirals_x.npy")))
    if rows >= 1200:
        problems.append(f"the spirals training split has {rows} rows: 3 batches of 400 no longer cross an epoch's end")
    print("training: 5 Adam steps on 1 and 2 processes, and 3 momentum steps of adjoint-cli train and the script, compared")
    return problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("what", choices=["fixtures", "training"])
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    problems = check_fixtures(a.cli, a.work) if a.what == "fixtures" else check_training(a.cli, a.work)
    for line in problems:
        print("FAIL:", line)
    print("passed" if not problems else f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
