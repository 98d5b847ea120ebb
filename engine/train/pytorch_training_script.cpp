#include "train/pytorch_training_script.h"

#include "io/pytorch_expression.h"

#include <sstream>

namespace adj::train {

namespace {

std::string number(double v) { return pythonFloatLiteral(v); }

std::string quoted(const std::string& s) { return pythonStringLiteral(s); }

std::string optimizerCall(const OptimizerConfig& o) {
    const std::string common = "model.parameters(), lr=args.lr, weight_decay=" + number(o.weightDecay);
    switch (o.kind) {
        case OptimizerKind::Sgd: return "torch.optim.SGD(" + common + ")";
        case OptimizerKind::Momentum: return "torch.optim.SGD(" + common + ", momentum=" + number(o.momentum) + ")";
        case OptimizerKind::Adam:
            return "torch.optim.Adam(" + common + ", betas=(" + number(o.beta1) + ", " + number(o.beta2) + "), eps=" + number(o.epsilon) + ")";
    }
    return "";
}

// the loss as losses.h defines it, and the target it reads
std::string lossBody(LossKind loss, bool classLabels) {
    switch (loss) {
        case LossKind::CrossEntropy:
            return "    # mean over the batch of -sum_k onehot(label)_k * log_softmax(prediction)_k\n"
                   "    return F.cross_entropy(prediction, target)\n";
        case LossKind::MeanSquaredError:
            return std::string("    # mean over all elements of (prediction - target)^2") +
                   (classLabels ? "; class labels as one-hot rows\n"
                                  "    target = F.one_hot(target, prediction.shape[1]).to(prediction.dtype)\n"
                                : "\n") +
                   "    return F.mse_loss(prediction, target)\n";
        case LossKind::BinaryCrossEntropy:
            return "    # mean over all elements of binary cross-entropy on logits; labels as a 0/1 column\n"
                   "    return F.binary_cross_entropy_with_logits(prediction, target.to(prediction.dtype).reshape(prediction.shape))\n";
    }
    return "";
}

}  // namespace

std::string pytorchTrainingScript(const PyTorchTrainingOptions& o) {
    const std::string script = o.moduleName + "_train.py";
    std::ostringstream py;
    py << "\"\"\"Trains " << o.moduleName << ".py's Model as `adjoint-cli train` would: " << lossName(o.loss) << " loss, "
       << optimizerName(o.optimizer.kind) << " (lr " << number(o.optimizer.learningRate) << "), batches of " << o.batch << ", "
       << o.steps << " steps, seed " << o.seed << ". Exported by Adjoint (adjoint-cli export --train).\n\n"
       << "One process:\n"
       << "    python3 " << script << " [--data X.npy --labels Y.npy] [--steps N] [--batch B] [--lr LR] [--seed S]\n"
       << "        [--save PARAMETERS.npz]\n"
       << "Data parallel over P processes (DistributedDataParallel, gloo backend, CPU):\n"
       << "    torchrun --nproc_per_node=P " << script << " ...\n"
       << "(Debian 12's torch 1.13 under Python 3.11 also needs --redirects 1 --tee 1: torchrun's default of 0\n"
       << "fails there.)\n\n"
       << "Each step draws one global batch of B rows, the rows adjoint-cli train draws with the same seed,\n"
       << "the same on every process, and each process takes B/P of them; DDP averages the gradients, so\n"
       << "P processes follow one process on the combined batch, and both follow adjoint-cli train. Rank 0\n"
       << "prints a JSON line per logged step (the first, every 10th, the last) with the loss over the\n"
       << "global batch.\n"
       << "\"\"\"\n"
       << "import argparse\nimport importlib.util\nimport json\nimport os\nimport sys\n\n"
       << "import numpy as np\nimport torch\nimport torch.distributed as dist\nimport torch.nn.functional as F\n"
       << "from torch.nn.parallel import DistributedDataParallel\n\n"
       << "HERE = os.path.dirname(os.path.abspath(__file__))\n"
       << "# the module beside this script, by its file (whatever characters its name has)\n"
       << "_spec = importlib.util.spec_from_file_location(\"exported_model\", os.path.join(HERE, " << quoted(o.moduleName + ".py") << "))\n"
       << "exported = importlib.util.module_from_spec(_spec)\n"
       << "_spec.loader.exec_module(exported)\n\n"
       << "CLASS_LABELS = " << (o.classLabels ? "True" : "False") << "  # labels are class indices, else real-valued targets\n\n\n"
       << "def loss_fn(prediction, target):\n"
       << lossBody(o.loss, o.classLabels) << "\n\n"
       << "MASK = (1 << 64) - 1\n\n\n"
       << "def _rotl(x, k):\n"
       << "    return ((x << k) | (x >> (64 - k))) & MASK\n\n\n"
       << "class AdjointBatches:\n"
       << "    \"\"\"The rows of each batch exactly as adjoint-cli train draws them (engine/base/rng,\n"
       << "    engine/train/batches): xoshiro256** seeded through splitmix64, a Fisher-Yates shuffle of\n"
       << "    the training rows per epoch, batches taken in order across epoch ends.\"\"\"\n\n"
       << "    def __init__(self, count, batch, seed):\n"
       << "        self.count, self.batch, self.s, sm = count, batch, [], seed & MASK\n"
       << "        for _ in range(4):\n"
       << "            sm = (sm + 0x9E3779B97F4A7C15) & MASK\n"
       << "            z = ((sm ^ (sm >> 30)) * 0xBF58476D1CE4E5B9) & MASK\n"
       << "            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK\n"
       << "            self.s.append(z ^ (z >> 31))\n"
       << "        self.shuffle()\n\n"
       << "    def next64(self):\n"
       << "        s = self.s\n"
       << "        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK\n"
       << "        t = (s[1] << 17) & MASK\n"
       << "        s[2] ^= s[0]\n"
       << "        s[3] ^= s[1]\n"
       << "        s[1] ^= s[2]\n"
       << "        s[0] ^= s[3]\n"
       << "        s[2] ^= t\n"
       << "        s[3] = _rotl(s[3], 45)\n"
       << "        return result\n\n"
       << "    def shuffle(self):\n"
       << "        self.order, self.position = list(range(self.count)), 0\n"
       << "        for i in range(self.count - 1, 0, -1):\n"
       << "            j = (self.next64() * (i + 1)) >> 64  # an integer below i + 1 (Lemire)\n"
       << "            self.order[i], self.order[j] = self.order[j], self.order[i]\n\n"
       << "    def next(self):\n"
       << "        rows = []\n"
       << "        while len(rows) < self.batch:\n"
       << "            if self.position == self.count:\n"
       << "                self.shuffle()\n"
       << "            rows.append(self.order[self.position])\n"
       << "            self.position += 1\n"
       << "        return np.array(rows)\n\n\n"
       << "def beside(name):\n"
       << "    return os.path.join(HERE, name) if name else None\n\n\n"
       << "def main():\n"
       << "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])\n"
       << "    parser.add_argument(\"--data\", default=beside(" << quoted(o.dataFile) << "), help=\"features, [n, ...] float32 .npy\")\n"
       << "    parser.add_argument(\"--labels\", default=beside(" << quoted(o.labelsFile)
       << "), help=\"class labels [n] (integers) or targets [n, k] .npy\")\n"
       << "    parser.add_argument(\"--steps\", type=int, default=" << o.steps << ")\n"
       << "    parser.add_argument(\"--batch\", type=int, default=" << o.batch << ", help=\"the global batch, over all processes\")\n"
       << "    parser.add_argument(\"--lr\", type=float, default=" << number(o.optimizer.learningRate) << ")\n"
       << "    parser.add_argument(\"--seed\", type=int, default=" << o.seed << ")\n"
       << "    parser.add_argument(\"--save\", help=\"write the trained parameters to this .npz (rank 0)\")\n"
       << "    args = parser.parse_args()\n"
       << "    if not args.data or not args.labels:\n"
       << "        sys.exit(\"error: give --data X.npy and --labels Y.npy\")\n"
       << "    world = int(os.environ.get(\"WORLD_SIZE\", \"1\"))\n"
       << "    rank = int(os.environ.get(\"RANK\", \"0\"))\n"
       << "    if args.batch % world:\n"
       << "        sys.exit(f\"error: --batch {args.batch} is not a multiple of the {world} processes\")\n"
       << "    if world > 1:\n"
       << "        dist.init_process_group(\"gloo\")\n"
       << "    torch.manual_seed(args.seed)\n\n"
       << "    x = torch.from_numpy(np.load(args.data).astype(np.float32))\n"
       << "    labels = np.load(args.labels)\n"
       << "    target = torch.from_numpy(labels.reshape(-1).astype(np.int64) if CLASS_LABELS else labels.astype(np.float32))\n"
       << "    if len(target) != len(x):\n"
       << "        sys.exit(f\"error: {args.data} has {len(x)} rows but {args.labels} has {len(target)}\")\n"
       << "    model = exported.load()\n"
       << "    net = DistributedDataParallel(model) if world > 1 else model\n"
       << "    optimizer = " << optimizerCall(o.optimizer) << "\n"
       << "    share = args.batch // world\n"
       << "    batches = AdjointBatches(len(x), args.batch, args.seed)\n"
       << "    for step in range(1, args.steps + 1):\n"
       << "        rows = batches.next()[rank * share:(rank + 1) * share]\n"
       << "        loss = loss_fn(net(x[rows]), target[rows])\n"
       << "        optimizer.zero_grad()\n"
       << "        loss.backward()\n"
       << "        optimizer.step()\n"
       << "        if step == 1 or step % 10 == 0 or step == args.steps:\n"
       << "            value = loss.detach().clone()\n"
       << "            if world > 1:\n"
       << "                dist.all_reduce(value)\n"
       << "                value /= world\n"
       << "            if rank == 0:\n"
       << "                print(json.dumps({\"step\": step, \"loss\": float(value)}), flush=True)\n"
       << "    if args.save and rank == 0:\n"
       << "        np.savez(args.save, **{name: t.detach().numpy() for name, t in model.state_dict().items()})\n"
       << "    if world > 1:\n"
       << "        dist.destroy_process_group()\n\n\n"
       << "if __name__ == \"__main__\":\n"
       << "    main()\n";
    return py.str();
}

}  // namespace adj::train
