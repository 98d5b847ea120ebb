#!/usr/bin/python3
"""Writes a large ONNX model whose node names carry a module hierarchy the way PyTorch's exporter
writes them ("/encoder/stage3/layers.41/attn/MatMul"): stages of transformer-like blocks (attention
with Q/K/V projections, a residual, a decomposed layer norm, a ReLU MLP), narrow (width 8) so that
the size is in the nodes, not the weights. For bench/bench_gui.sh and the scale tests.

    /usr/bin/python3 bench/make_scoped_graph.py --nodes 10000 -o big.onnx

--nodes is the approximate number of Adjoint nodes (ONNX nodes plus initializers, about 36 a block).
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTH = 8
PER_BLOCK = 36  # Adjoint nodes a block becomes (25 ONNX nodes, 11 initializers)


def block(nodes, inits, rng, x, scope):
    def w(name, shape):
        full = scope.replace("/", ".").strip(".") + "." + name
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), full))
        return full

    taken = set()

    def op(kind, inputs, sub, **attrs):
        stem = f"{scope}/{sub}/{kind}" if sub else f"{scope}/{kind}"
        name, k = stem, 0
        while name in taken:  # PyTorch's second MatMul of a module is MatMul_1
            k += 1
            name = f"{stem}_{k}"
        taken.add(name)
        out = f"{name}_output_0"
        nodes.append(helper.make_node(kind, inputs, [out], name=name, **attrs))
        return out

    q = op("MatMul", [x, w("attn.q.weight", (WIDTH, WIDTH))], "attn/q")
    k = op("MatMul", [x, w("attn.k.weight", (WIDTH, WIDTH))], "attn/k")
    v = op("MatMul", [x, w("attn.v.weight", (WIDTH, WIDTH))], "attn/v")
    kt = op("Transpose", [k], "attn", perm=[1, 0])
    s = op("MatMul", [q, kt], "attn")
    s = op("Mul", [s, w("attn.scale", (1,))], "attn")
    p = op("Softmax", [s], "attn", axis=-1)
    a = op("MatMul", [p, v], "attn")
    o = op("MatMul", [a, w("attn.out.weight", (WIDTH, WIDTH))], "attn/out")
    h = op("Add", [x, o], "")
    # layer norm, written out as the exporter of an older opset does
    mean = op("ReduceMean", [h], "norm", axes=[-1], keepdims=1)
    d = op("Sub", [h, mean], "norm")
    sq = op("Mul", [d, d], "norm")
    var = op("ReduceMean", [sq], "norm", axes=[-1], keepdims=1)
    ve = op("Add", [var, w("norm.eps", (1,))], "norm")
    sd = op("Sqrt", [ve], "norm")
    n = op("Div", [d, sd], "norm")
    n = op("Mul", [n, w("norm.weight", (WIDTH,))], "norm")
    n = op("Add", [n, w("norm.bias", (WIDTH,))], "norm")
    m = op("MatMul", [n, w("mlp.fc1.weight", (WIDTH, WIDTH))], "mlp/fc1")
    m = op("Add", [m, w("mlp.fc1.bias", (WIDTH,))], "mlp/fc1")
    m = op("Relu", [m], "mlp")
    m = op("MatMul", [m, w("mlp.fc2.weight", (WIDTH, WIDTH))], "mlp/fc2")
    return op("Add", [n, m], "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--blocks-per-stage", type=int, default=0, help="default: about the square root of the blocks")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    blocks = max(1, a.nodes // PER_BLOCK)
    per_stage = a.blocks_per_stage or max(1, int(round(blocks ** 0.5)))
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for b in range(blocks):
        x = block(nodes, inits, rng, x, f"/encoder/stage{b // per_stage}/layers.{b}")
    nodes.append(helper.make_node("ReduceSum", [x], ["y"], name="/head/ReduceSum", keepdims=0))
    graph = helper.make_graph(nodes, "scoped", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, WIDTH])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_scoped_graph")
    model.ir_version = 8
    onnx.save(model, a.output)
    print(f"{a.output}: {blocks} blocks in {(blocks + per_stage - 1) // per_stage} stages, {len(nodes)} ONNX nodes, "
          f"{len(inits)} initializers")


if __name__ == "__main__":
    main()
