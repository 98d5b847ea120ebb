#!/usr/bin/python3
"""Writes the lecture's example graphs (resources/examples/*.json) and a set of example inputs
for each (resources/examples/inputs/<example>/<input>.npy). Parameters come from a seeded NumPy
generator, so the files are reproducible; run it again only to change the examples.

    /usr/bin/python3 scripts/make_examples.py
"""
import json
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "examples")
rng = np.random.default_rng(20261127)


def values(a):
    return [float(np.float32(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def param(name, shape, scale):
    a = (rng.standard_normal(shape) * scale).astype(np.float32)
    return {"name": name, "shape": list(shape), "values": values(a)}


def const(name, value):
    a = np.asarray(value, dtype=np.float32)
    return {"name": name, "op": "constant", "shape": list(a.shape), "values": values(a)}


def node(name, op, inputs, **attrs):
    n = {"name": name, "op": op, "inputs": inputs}
    if attrs:
        n["attrs"] = attrs
    return n


def graph(name, description, inputs, parameters, nodes, outputs):
    return {"format": "adjoint-graph", "version": 1, "name": name, "description": description,
            "inputs": inputs, "parameters": parameters, "nodes": nodes,
            "outputs": [{"name": o, "value": v} for o, v in outputs]}


def write(name, g, example_inputs):
    with open(os.path.join(ROOT, name + ".json"), "w") as f:
        json.dump(g, f, indent=1)
        f.write("\n")
    if not example_inputs:
        return
    d = os.path.join(ROOT, "inputs", name)
    os.makedirs(d, exist_ok=True)
    for k, v in example_inputs.items():
        np.save(os.path.join(d, k + ".npy"), np.asarray(v, dtype=np.float32))


def mlp():
    n, d, h, c = 8, 4, 16, 3
    g = graph("mlp", "A 2-layer MLP (4-16-3, tanh) with a softmax cross-entropy loss on one-hot labels.",
              [{"name": "x", "shape": [n, d], "dims": ["N", None]},
               {"name": "labels", "shape": [n, c], "dims": ["N", None]}],
              [param("w1", [d, h], 0.5), param("b1", [h], 0.1), param("w2", [h, c], 0.5), param("b2", [c], 0.1)],
              [node("fc1", "gemm", ["x", "w1", "b1"]),
               node("h1", "tanh", ["fc1"]),
               node("logits", "gemm", ["h1", "w2", "b2"]),
               node("logp", "log_softmax", ["logits"], axis=1),
               node("picked", "mul", ["labels", "logp"]),
               node("nll", "sum", ["picked"], axes=[1]),
               node("per_example", "neg", ["nll"]),
               node("loss", "mean", ["per_example"])],
              [("loss", "loss"), ("logits", "logits")])
    x = rng.standard_normal((n, d))
    labels = np.eye(c)[rng.integers(0, c, n)]
    write("mlp", g, {"x": x, "labels": labels})


def conv_bn_relu():
    n, cin, cout, hw = 2, 3, 8, 8
    var = rng.uniform(0.5, 1.5, cout)
    g = graph("conv_bn_relu", "A convolution followed by batch normalization (inference form) and ReLU: "
              "the block whose batchnorm folds into the convolution.",
              [{"name": "x", "shape": [n, cin, hw, hw], "dims": ["N", None, None, None]}],
              [param("conv_w", [cout, cin, 3, 3], 0.3), param("conv_b", [cout], 0.1),
               param("bn_scale", [cout], 0.2) | {"values": values(1 + rng.standard_normal(cout) * 0.2)},
               param("bn_bias", [cout], 0.1), param("bn_mean", [cout], 0.1),
               {"name": "bn_var", "shape": [cout], "values": values(var)}],
              [node("conv", "conv2d", ["x", "conv_w", "conv_b"], strides=[1, 1], pads=[1, 1, 1, 1]),
               node("bn", "batchnorm", ["conv", "bn_scale", "bn_bias", "bn_mean", "bn_var"], epsilon=1e-5),
               node("y", "relu", ["bn"])],
              [("y", "y")])
    write("conv_bn_relu", g, {"x": rng.standard_normal((n, cin, hw, hw))})


def attention():
    b, t, d, f = 2, 6, 16, 32
    params = [param("wq", [d, d], 0.25), param("bq", [d], 0.05), param("wk", [d, d], 0.25), param("bk", [d], 0.05),
              param("wv", [d, d], 0.25), param("bv", [d], 0.05), param("wo", [d, d], 0.25), param("bo", [d], 0.05)]
    # the feed-forward half draws from its own generator, so that the examples made after this one
    # keep their values
    ff = np.random.default_rng(11)

    def ff_param(name, shape, scale, offset=0.0):
        a = (ff.standard_normal(shape) * scale + offset).astype(np.float32)
        return {"name": name, "shape": list(shape), "values": values(a)}

    params += [ff_param("ln_scale", [d], 0.1, 1.0), ff_param("ln_bias", [d], 0.05),
               ff_param("w1", [d, f], 0.25), ff_param("b1", [f], 0.05), ff_param("w2", [f, d], 0.18), ff_param("b2", [d], 0.05)]
    g = graph("attention", "A transformer block: single-head self-attention with separate Q, K and V projections "
              "(the three matmuls that share an input merge into one), a residual connection and layer "
              "normalization, then a GELU feed-forward layer with a second residual. -O2 folds the "
              "constant 1/sqrt(d), merges Q/K/V and fuses the elementwise tails.",
              [{"name": "x", "shape": [b, t, d], "dims": ["B", "T", None]}],
              params,
              [node("q_proj", "matmul", ["x", "wq"]), node("q", "add", ["q_proj", "bq"]),
               node("k_proj", "matmul", ["x", "wk"]), node("k", "add", ["k_proj", "bk"]),
               node("v_proj", "matmul", ["x", "wv"]), node("v", "add", ["v_proj", "bv"]),
               node("k_t", "transpose", ["k"], perm=[0, 2, 1]),
               node("scores", "matmul", ["q", "k_t"]),
               const("one", 1.0), const("d_k", float(d)),
               node("sqrt_d_k", "sqrt", ["d_k"]),
               node("scale", "div", ["one", "sqrt_d_k"]),
               node("scaled", "mul", ["scores", "scale"]),
               node("probs", "softmax", ["scaled"], axis=-1),
               node("context", "matmul", ["probs", "v"]),
               node("o_proj", "matmul", ["context", "wo"]),
               node("attn", "add", ["o_proj", "bo"]),
               node("residual", "add", ["x", "attn"]),
               node("normed", "layernorm", ["residual", "ln_scale", "ln_bias"], axis=-1),
               node("ff_in", "matmul", ["normed", "w1"]),
               node("ff_pre", "add", ["ff_in", "b1"]),
               node("ff_act", "gelu", ["ff_pre"]),
               node("ff_out", "matmul", ["ff_act", "w2"]),
               node("ff", "add", ["ff_out", "b2"]),
               node("y", "add", ["normed", "ff"])],
              [("y", "y")])
    write("attention", g, {"x": rng.standard_normal((b, t, d))})


def scalar_function():
    g = graph("scalar_function", "The classic autodiff example f(x1, x2) = ln(x1) + x1*x2 - sin(x2).",
              [{"name": "x1", "shape": []}, {"name": "x2", "shape": []}],
              [],
              [node("v1", "log", ["x1"]),
               node("v2", "mul", ["x1", "x2"]),
               node("v3", "sin", ["x2"]),
               node("v4", "add", ["v1", "v2"]),
               node("f", "sub", ["v4", "v3"])],
              [("f", "f")])
    write("scalar_function", g, {"x1": np.float32(2.0), "x2": np.float32(5.0)})


def elementwise_chain():
    n = 4096
    g = graph("elementwise_chain", "Eight elementwise ops in a chain: unfused, each reads and writes the whole "
              "tensor; fused, one kernel reads x once and writes y once.",
              [{"name": "x", "shape": [n], "dims": ["N"]}],
              [],
              [const("two", 2.0), const("one", 1.0), const("half", 0.5),
               node("a", "mul", ["x", "two"]),
               node("b", "add", ["a", "one"]),
               node("c", "tanh", ["b"]),
               node("d", "mul", ["c", "c"]),
               node("e", "neg", ["d"]),
               node("f", "exp", ["e"]),
               node("g", "sub", ["f", "half"]),
               node("y", "relu", ["g"])],
              [("y", "y")])
    write("elementwise_chain", g, {"x": rng.standard_normal(n)})


def deep_mlp():
    n, d, layers = 64, 128, 12
    params, nodes, h = [], [], "x"
    for i in range(layers):
        # (the project's own generator, "init": a few bytes per tensor instead of 16,384 numbers)
        params += [{"name": f"w{i}", "shape": [d, d], "init": {"kind": "normal", "mean": 0, "std": round(1.0 / np.sqrt(d), 5),
                                                              "seed": 100 + i}},
                   {"name": f"b{i}", "shape": [d], "init": {"kind": "zeros"}}]
        nodes += [node(f"fc{i}", "gemm", [h, f"w{i}", f"b{i}"]), node(f"h{i}", "tanh", [f"fc{i}"])]
        h = f"h{i}"
    nodes += [node("squared", "mul", [h, h]), node("loss", "mean", ["squared"])]
    g = graph("deep_mlp", "The memory lesson: a 12-layer MLP (128 wide, tanh, batch 64) with the loss mean(y^2). Its "
              "backward graph keeps every layer's activation until the backward pass reaches it (View > Analysis > "
              "Memory); checkpointing (sqrt) keeps a few and recomputes the others, trading FLOPs for bytes.",
              [{"name": "x", "shape": [n, d], "dims": ["N", None]}], params, nodes, [("loss", "loss")])
    write("deep_mlp", g, {"x": rng.standard_normal((n, d))})


def wide_branches():
    n, d, branches = 128, 512, 4
    nodes = [node(f"scaled{i}", "mul", ["x", f"s{i}"]) for i in range(branches)]
    nodes += [node(f"e{i}", "exp", [f"scaled{i}"]) for i in range(branches)]
    nodes += [node(f"r{i}", "mean", [f"e{i}"]) for i in range(branches)]
    total = "r0"
    for i in range(1, branches):
        nodes.append(node(f"sum{i}", "add", [total, f"r{i}"]))
        total = f"sum{i}"
    g = graph("wide_branches", "The scheduling lesson: four branches, each a 256 KB exp of the input reduced to one "
              "number. Run in the order the nodes were written (every exp first, then the means) the four exps are "
              "live together; run branch by branch they never are. View > Analysis > Memory, Compare orders.",
              [{"name": "x", "shape": [n, d], "dims": ["N", None]}], [],
              [const(f"s{i}", 0.1 * (i + 1)) for i in range(branches)] + nodes, [("loss", total)])
    write("wide_branches", g, {"x": rng.standard_normal((n, d))})


def partition_lesson():
    n, d, layers, classes = 512, 512, 8, 10
    params, nodes, h = [], [], "x"
    for i in range(layers):
        out = classes if i == layers - 1 else d
        params += [{"name": f"w{i}", "shape": [d, out], "init": {"kind": "normal", "mean": 0, "std": round(1.0 / np.sqrt(d), 5),
                                                                "seed": 200 + i}},
                   {"name": f"b{i}", "shape": [out], "init": {"kind": "zeros"}}]
        nodes.append(node(f"fc{i}", "gemm", [h, f"w{i}", f"b{i}"]))
        if i < layers - 1:
            nodes.append(node(f"h{i}", "relu", [f"fc{i}"]))
            h = f"h{i}"
    g = graph("partition_lesson", "The parallelization lesson: an 8-layer MLP (512 wide, 7 MB of weights) trained on two "
              "GPUs, 512 rows a step. Over PCIe (adjoint-cli partition partition_lesson.json --cluster pcie2) data "
              "parallelism is fastest: all-reducing 7 MB of gradients (one 25 MB bucket, sent once the backward pass "
              "ends) costs less than a pipeline's idle stages and its extra kernel launches. Over 25 Gb/s Ethernet (--cluster ethernet2) "
              "the all-reduce takes longer than the whole step, and the pipeline, which sends only the activations at its "
              "cut, wins. docs/PARALLEL.md.",
              [{"name": "x", "shape": [n, d], "dims": ["N", None]}], params, nodes, [("logits", f"fc{layers - 1}")])
    write("partition_lesson", g, {})  # no saved inputs: 1 MB of random rows says nothing


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    mlp()
    conv_bn_relu()
    attention()
    scalar_function()
    elementwise_chain()
    deep_mlp()
    wide_branches()
    partition_lesson()
