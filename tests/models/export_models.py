#!/usr/bin/python3
"""Real model families for the `models` tests (tests/models/CMakeLists.txt): each built by
torchvision or written here as people write them, exported by PyTorch's own exporter, with torch's
outputs and full gradients as the reference.

    /usr/bin/python3 tests/models/export_models.py --list
    /usr/bin/python3 tests/models/export_models.py --model NAME --out DIR

writes into DIR:
    model.onnx            the model with its loss: outputs "y" (the model's output) and
                          "loss" = sum(y * w), w a second graph input
    x.npy (or ids.npy), w.npy   the inputs (token ids as int64)
    expected/y.npy, expected/loss.npy          torch's forward, in float64
    expected/grad_<name>.npy                   d loss / d name by torch autograd (float64), for the
                                               float input, w and every parameter
    reference.json        what was written (names, shapes, the ONNX ops of the file)

Random weights (torchvision's own initialisation, seeded, then as randomize() says), nothing
downloaded.
Every model is exported in eval mode with training=TrainingMode.PRESERVE (BatchNormalization stays
a node, so the Conv+BN fold is adjoint's to do) and do_constant_folding=False, so that every
initializer is a module parameter or buffer under its own name and the gradient is checked for
all of them.

Needs Debian's python3-torch (1.13), python3-torchvision (0.14), python3-onnx and python3-numpy,
installed for /usr/bin/python3 by scripts/install-deps.sh.
"""
import argparse
import copy
import json
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torchvision import models as tvm
except ImportError as e:  # the tests must not vanish on a machine without them: they fail, saying so
    print(f"error: the model-family tests need PyTorch and torchvision ({e}); "
          "scripts/install-deps.sh installs python3-torch and python3-torchvision", file=sys.stderr)
    sys.exit(1)
import onnx

OPSET = 17
BATCH = 2


# ---- hand-written architectures ----

class TokenEncoder(nn.Module):
    """Transformer encoder over int64 token ids: embedding, learned positions, padding mask."""

    def __init__(self, vocab=50, d=32, tokens=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(1, tokens, d))
        layer = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(d, 5)

    def forward(self, ids):
        h = self.embed(ids) + self.pos
        h = self.encoder(h, src_key_padding_mask=ids == 0)
        return self.head(h.mean(dim=1))


class CausalDecoder(nn.Module):
    """A GPT-style decoder over int64 token ids: sinusoidal positions from the cumulative sum of the
    non-padding mask (CumSum), a causal mask from torch.triu (Trilu), two heads, next-token logits."""

    def __init__(self, vocab=30, d=16, heads=2, tokens=7):
        super().__init__()
        self.heads, self.d = heads, d
        self.embed = nn.Embedding(vocab, d)
        self.register_buffer("freqs", torch.exp(-torch.arange(0, d // 2) * 0.7))
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, vocab)
        self.tokens = tokens

    def forward(self, ids):
        b, t = ids.shape
        pos = torch.cumsum((ids != 0).float().unsqueeze(-1), dim=1) - 1  # [b, t, 1]: a sum along a middle axis
        angles = pos * self.freqs
        h = self.embed(ids) + torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
        q, k, v = self.qkv(self.norm(h)).chunk(3, dim=-1)
        split = lambda z: z.reshape(b, t, self.heads, self.d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / (self.d // self.heads) ** 0.5 + causal, dim=-1)
        h = h + self.proj((att @ v).transpose(1, 2).reshape(b, t, self.d))
        h = h + self.mlp(h)
        return self.head(h)


class LossHead(nn.Module):
    """A classifier whose per-sample losses are its output, as training graphs are exported:
    cross_entropy with class weights and an ignored class, and with its mean (SoftmaxCrossEntropyLoss),
    and nll_loss over a spatial map (NegativeLogLikelihoodLoss), labels as int64 initializers."""

    def __init__(self, classes=5):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, classes))
        self.conv = nn.Conv2d(6, classes, 1)
        g = torch.Generator().manual_seed(7)
        self.register_buffer("labels", torch.randint(0, classes, (BATCH,), generator=g))
        self.register_buffer("map_labels", torch.randint(0, classes, (BATCH, 3, 3), generator=g))
        self.register_buffer("class_weights", 0.5 + torch.rand(classes, generator=g))

    def forward(self, x):
        ce = F.cross_entropy(self.fc(x), self.labels, weight=self.class_weights, ignore_index=2, reduction="none")
        maps = x[:, :, None, None].expand(-1, -1, 3, 3) * torch.linspace(0.5, 1.5, 9).reshape(1, 1, 3, 3)
        # log-sigmoid, not log_softmax (which the exporter would fold into SoftmaxCrossEntropyLoss)
        nll = F.nll_loss(F.logsigmoid(self.conv(maps)), self.map_labels, reduction="none")
        mean = F.cross_entropy(self.fc(x), self.labels, label_smoothing=0.0)
        return torch.cat([ce, nll.flatten(1).sum(1), mean.reshape(1)])


class RecurrentClassifier(nn.Module):
    """Embedding, a two-layer bidirectional LSTM or GRU, the last step's state to the classes."""

    def __init__(self, cell, vocab=40, d=16, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.rnn = cell(d, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 4)

    def forward(self, ids):
        out, _ = self.rnn(self.embed(ids))
        return self.head(out[:, -1])


class AudioNet(nn.Module):
    """A 1-D convolutional keyword spotter: strided Conv1d stem, BatchNorm1d, residual dilated
    blocks, max pooling, global average pooling, a linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(1, 16, 9, stride=4, padding=4), nn.BatchNorm1d(16), nn.ReLU())
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(16, 16, 3, padding=d, dilation=d), nn.BatchNorm1d(16), nn.ReLU())
            for d in (1, 2, 4))
        self.pool = nn.MaxPool1d(2, ceil_mode=True)
        self.head = nn.Linear(16, 6)

    def forward(self, x):
        h = self.stem(x)
        for b in self.blocks:
            h = h + b(h)
        h = self.pool(h)
        return self.head(h.mean(dim=2))


class UNet(nn.Module):
    """A small U-Net: two down steps, a bottleneck, one ConvTranspose and one bilinear Resize up,
    skip connections by concatenation."""

    @staticmethod
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.mid = self.block(3, 8), self.block(8, 16), self.block(16, 32)
        self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.dec2 = self.block(32, 16)
        self.reduce1 = nn.Conv2d(16, 8, 1)
        self.dec1 = self.block(16, 8)
        self.out = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        u1 = F.interpolate(self.reduce1(d2), scale_factor=2, mode="bilinear", align_corners=False)
        d1 = self.dec1(torch.cat([u1, e1], dim=1))
        return self.out(d1)


class SegmentationOut(nn.Module):
    """torchvision's segmentation models return {"out": ...}; the export wants a tensor."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


# ---- the families ----

def _seg(builder, **kw):
    return SegmentationOut(builder(weights=None, weights_backbone=None, num_classes=4, **kw))


def _small_convnext():
    from torchvision.models.convnext import CNBlockConfig
    return tvm.ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)],
                        layer_scale=0.5, num_classes=10)


def _small_swin():
    # (Swin V2, the same class with SwinTransformerBlockV2, does not export: torch 1.13 has no ONNX
    # form for the aten::zero_ its attention uses)
    return tvm.SwinTransformer(patch_size=[2, 2], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
                               stochastic_depth_prob=0.0, num_classes=10)


IMG = (BATCH, 3, 64, 64)

# name -> (builder, {input: shape or ("int64", shape, vocabulary)}, note)
FAMILIES = {
    # torchvision classification: every architecture of torchvision 0.14 that torch 1.13 exports
    # (all but Swin V2), its smallest variant (or a narrow configuration of the same class where
    # the standard one is needlessly large), 10 classes; the other variants of each family are the
    # same code at other depths and widths
    "alexnet": (lambda: tvm.alexnet(num_classes=10), {"x": (1, 3, 224, 224)}, "AlexNet (its adaptive pooling needs 224 x 224)"),
    "vgg11_bn": (lambda: tvm.vgg11_bn(num_classes=10), {"x": (1, 3, 224, 224)}, "VGG-11 with batch norm (its adaptive pooling needs 224 x 224)"),
    "resnet18": (lambda: tvm.resnet18(num_classes=10), {"x": IMG}, "ResNet-18 (basic blocks)"),
    "resnet50": (lambda: tvm.resnet50(num_classes=10), {"x": IMG}, "ResNet-50 (bottlenecks)"),
    "resnext50_32x4d": (lambda: tvm.resnext50_32x4d(num_classes=10), {"x": IMG}, "ResNeXt-50 (grouped convolutions)"),
    "wide_resnet50_2": (lambda: tvm.wide_resnet50_2(num_classes=10), {"x": (1, 3, 32, 32)}, "Wide ResNet-50-2"),
    "squeezenet1_0": (lambda: tvm.squeezenet1_0(num_classes=10), {"x": IMG}, "SqueezeNet 1.0 (ceil-mode pools)"),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(num_classes=10), {"x": IMG}, "SqueezeNet 1.1"),
    "densenet121": (lambda: tvm.densenet121(num_classes=10), {"x": IMG}, "DenseNet-121"),
    "googlenet": (lambda: tvm.googlenet(num_classes=10, aux_logits=False, init_weights=True), {"x": IMG}, "GoogLeNet"),
    "inception_v3": (lambda: tvm.inception_v3(num_classes=10, aux_logits=False, init_weights=True), {"x": (BATCH, 3, 80, 80)}, "Inception v3"),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(num_classes=10), {"x": IMG}, "ShuffleNetV2 (channel shuffle)"),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(num_classes=10, width_mult=0.5), {"x": IMG}, "MobileNetV2, width 0.5"),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(num_classes=10), {"x": IMG}, "MobileNetV3-Small (hard-swish, SE)"),
    "mobilenet_v3_large": (lambda: tvm.mobilenet_v3_large(num_classes=10, width_mult=0.5), {"x": IMG}, "MobileNetV3-Large, width 0.5"),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(num_classes=10), {"x": IMG}, "MnasNet 0.5"),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(num_classes=10), {"x": IMG}, "EfficientNet-B0 (SiLU, SE)"),
    "efficientnet_v2_s": (lambda: tvm.efficientnet_v2_s(num_classes=10), {"x": (1, 3, 32, 32)}, "EfficientNetV2-S (fused MBConv)"),
    "regnet_x_400mf": (lambda: tvm.regnet_x_400mf(num_classes=10), {"x": IMG}, "RegNetX-400MF"),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(num_classes=10), {"x": IMG}, "RegNetY-400MF (SE)"),
    "convnext": (_small_convnext, {"x": IMG}, "ConvNeXt (narrow: 16-32-64 channels, one block a stage)"),
    "vit": (lambda: tvm.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32,
                                          mlp_dim=64, num_classes=10), {"x": (BATCH, 3, 32, 32)},
            "Vision Transformer (2 layers, width 32, 8x8 patches)"),
    "swin": (_small_swin, {"x": (BATCH, 3, 32, 32)}, "Swin Transformer (narrow, two stages)"),
    "maxvit": (lambda: tvm.MaxVit(input_size=(32, 32), stem_channels=8, partition_size=2, block_channels=[16, 32],
                                  block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.0, num_classes=10),
               {"x": (BATCH, 3, 32, 32)}, "MaxViT (narrow, two stages)"),
    # torchvision segmentation
    "fcn_resnet50": (lambda: _seg(torchvision.models.segmentation.fcn_resnet50), {"x": (1, 3, 48, 48)}, "FCN, ResNet-50 backbone"),
    "deeplabv3_mobilenet_v3_large": (lambda: _seg(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large),
                                     {"x": (1, 3, 64, 64)}, "DeepLabV3 (ASPP), MobileNetV3 backbone"),
    "lraspp_mobilenet_v3_large": (lambda: _seg(torchvision.models.segmentation.lraspp_mobilenet_v3_large),
                                  {"x": (1, 3, 64, 64)}, "LR-ASPP, MobileNetV3 backbone"),
    # written here as people write them
    "token_encoder": (TokenEncoder, {"ids": ("int64", (BATCH, 8), 50)}, "Transformer encoder over int64 token ids with a padding mask"),
    "causal_decoder": (CausalDecoder, {"ids": ("int64", (BATCH, 7), 30)}, "GPT-style decoder: CumSum positions, Trilu causal mask"),
    "loss_head": (LossHead, {"x": (BATCH, 6)}, "classifier with its losses: cross_entropy (weights, ignore_index), nll_loss over a map"),
    "lstm_classifier": (lambda: RecurrentClassifier(nn.LSTM), {"ids": ("int64", (BATCH, 7), 40)}, "bidirectional two-layer LSTM text classifier"),
    "gru_classifier": (lambda: RecurrentClassifier(nn.GRU), {"ids": ("int64", (BATCH, 7), 40)}, "bidirectional two-layer GRU text classifier"),
    "audio_conv1d": (AudioNet, {"x": (BATCH, 1, 400)}, "1-D convolutional audio model"),
    "unet": (UNet, {"x": (BATCH, 3, 32, 32)}, "small U-Net with ConvTranspose and Resize"),
}


class WithLoss(nn.Module):
    """The model and the loss sum(y * w) whose gradient is checked, in one graph."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, w):
        y = self.net(x)
        return y, (y * w).sum()


def randomize(net, x, g):
    """Weights as after training, roughly: torchvision's own initialisation, every parameter moved
    by a little noise (the exporter merges initializers of equal values into one, whose gradient
    would be no one parameter's: zero biases, unit norm scales, the layers of a deep-copied
    encoder), batch-norm statistics measured on an input of 8 samples (so that no activation
    grows without bound through ~200 layers; from the batch alone, a late layer's statistics would
    come from a handful of values), then batch-norm scales and shifts halved (trained residual
    nets keep their branches small: with each norm's output at unit scale, ResNet-50 and RegNetY
    at random are so sensitive that float32 rounding flips ReLUs and moves torch's own float32
    gradients 1-5% off its float64 ones)."""
    with torch.no_grad():
        for p in net.parameters():
            spread = 0.1 if p.numel() > 1 and bool((p == p.flatten()[0]).all()) else 0.01 * float(p.std()) if p.numel() > 1 else 0.1
            p.add_(spread * torch.randn(p.shape, generator=g))
        norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if norms:
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a cumulative average: after one batch, that batch's statistics
            net.train()
            net(x)
            for m in norms:
                m.momentum = 0.1
                if m.affine:  # after the measurement, so that each block's output is damped
                    m.weight.mul_(0.5)
                    m.bias.mul_(0.5)
                m.running_mean.add_(0.05 * m.running_mean.abs().mean() * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.mul_(1 + 0.1 * torch.rand(m.running_var.shape, generator=g))
        net.eval()


def file_name(name):
    """adjoint-cli's file names: characters outside [A-Za-z0-9._-] become '_' (CLI.md)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def export(name, out):
    builder, input_specs, note = FAMILIES[name]
    seed = sum(map(ord, name))
    torch.manual_seed(seed)
    net = builder()
    rng = np.random.default_rng(seed)
    (xname, spec), = input_specs.items()
    if spec[0] == "int64":
        x = rng.integers(1, spec[2], spec[1]).astype(np.int64)
        for r in range(x.shape[0]):  # row r ends in r padding tokens (id 0)
            if r:
                x[r, -r:] = 0
    else:
        x = rng.standard_normal(spec).astype(np.float32)
    cshape = (8,) + tuple(spec[1][1:] if spec[0] == "int64" else spec[1:])
    calibration = torch.from_numpy(rng.integers(1, spec[2], cshape).astype(np.int64) if spec[0] == "int64"
                                   else rng.standard_normal(cshape).astype(np.float32))
    randomize(net, calibration, torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        y_shape = tuple(net(torch.from_numpy(x)).shape)
    w = rng.standard_normal(y_shape).astype(np.float32)

    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    model_file = os.path.join(out, "model.onnx")
    module = WithLoss(net).eval()
    torch.onnx.export(module, (torch.from_numpy(x), torch.from_numpy(w)), model_file, opset_version=OPSET,
                      input_names=[xname, "w"], output_names=["y", "loss"], do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    model = onnx.load(model_file)
    onnx.checker.check_model(model)
    np.save(os.path.join(out, f"{xname}.npy"), x)
    np.save(os.path.join(out, "w.npy"), w)

    # torch's reference in float64
    m64 = copy.deepcopy(module).double().eval()
    float_input = spec[0] != "int64"
    x64 = torch.tensor(x, dtype=torch.float64, requires_grad=True) if float_input else torch.tensor(x)
    w64 = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    y64, loss64 = m64(x64, w64)
    np.save(os.path.join(out, "expected", "y.npy"), y64.detach().numpy().astype(np.float32))
    np.save(os.path.join(out, "expected", "loss.npy"), loss64.detach().numpy().astype(np.float32))
    params = list(m64.named_parameters())  # net.NAME, as in the file
    leaves = ([(xname, x64)] if float_input else []) + [("w", w64)] + params
    grads = torch.autograd.grad(loss64, [t for _, t in leaves], allow_unused=True)
    gradients = {}
    for (n, t), g in zip(leaves, grads):
        g = torch.zeros_like(t) if g is None else g
        f = f"grad_{file_name(n)}.npy"
        np.save(os.path.join(out, "expected", f), g.numpy().astype(np.float32))
        gradients[n] = f
    # torch's own float32 error against its float64 result, per tensor: the check allows adjoint's
    # float32 a multiple of it (some nets amplify rounding far more than others)
    x32 = torch.tensor(x, requires_grad=True) if float_input else torch.tensor(x)
    w32 = torch.tensor(w, requires_grad=True)
    y32, loss32 = module(x32, w32)
    leaves32 = ([x32] if float_input else []) + [w32] + list(module.parameters())
    grads32 = torch.autograd.grad(loss32, leaves32, allow_unused=True)
    loss_scale = float((y64 * w64).abs().sum())

    def error(got, want, scale=None):
        got, want = got.detach().double(), want.detach()
        d = (got - want).abs()
        norm = float(want.norm())
        if scale is not None:
            return [float(d.max()) / scale, float(d.max()) / scale]
        return [float(d.norm()) / norm if norm else 0.0, float(d.max()) / float(want.abs().max()) if norm else 0.0]

    torch_error = {"y": error(y32, y64), "loss": error(loss32, loss64, loss_scale)}
    for (n, t), g32, g64 in zip(leaves, grads32, grads):
        if g32 is not None and g64 is not None:
            torch_error[n] = error(g32, g64)
    initializers = {t.name for t in model.graph.initializer}
    ref = {
        "model": name,
        "note": note,
        "input": xname,
        "input_dtype": "int64" if not float_input else "float32",
        "gradients": gradients,
        "loss_scale": loss_scale,
        # [relative L2 error, largest error / largest magnitude] of torch in float32
        "torch_float32_error": torch_error,
        # a parameter the exporter did not keep as an initializer of its own name cannot be checked
        # by name: listed, and the check fails on any
        "parameters_not_initializers": sorted(n for n, _ in params if n not in initializers),
        "parameters": sum(p.numel() for _, p in params),
        "nodes": len(model.graph.node),
        "onnx_ops": sorted({n.op_type for n in model.graph.node}),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print the family names, one a line")
    ap.add_argument("--model", choices=sorted(FAMILIES))
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.list:
        for n, (_, _, note) in FAMILIES.items():
            print(f"{n}\t{note}")
        return 0
    if not a.model or not a.out:
        ap.error("--model and --out are needed")
    ref = export(a.model, a.out)
    print(f"{a.model}: {ref['nodes']} ONNX nodes, {ref['parameters']} parameters -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
