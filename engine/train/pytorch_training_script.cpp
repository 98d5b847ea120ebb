#include "train/pytorch_training_script.h"

#include "io/pytorch_expression.h"

#include <sstream>

namespace adj::train {

namespace {

std::string number(double v) { return pythonFloatLiteral(v); }

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

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
       << "Each step draws one global batch of B rows, the same on every process, and each process takes\n"
       << "B/P of them; DDP averages the gradients, so P processes follow one process on the combined\n"
       << "batch. Rank 0 prints a JSON line per logged step (the first, every 10th, the last) with the\n"
       << "loss over the global batch.\n"
       << "\"\"\"\n"
       << "import argparse\nimport json\nimport os\nimport sys\n\n"
       << "import numpy as np\nimport torch\nimport torch.distributed as dist\nimport torch.nn.functional as F\n"
       << "from torch.nn.parallel import DistributedDataParallel\n\n"
       << "HERE = os.path.dirname(os.path.abspath(__file__))\n"
       << "sys.path.insert(0, HERE)\n"
       << "import " << o.moduleName << " as exported  # noqa: E402  (the module beside this script)\n\n"
       << "CLASS_LABELS = " << (o.classLabels ? "True" : "False") << "  # labels are class indices, else real-valued targets\n\n\n"
       << "def loss_fn(prediction, target):\n"
       << lossBody(o.loss, o.classLabels) << "\n\n"
       << "def batches(count, batch, seed):\n"
       << "    \"\"\"Row indices, batch after batch: a fresh permutation each epoch.\"\"\"\n"
       << "    rng = np.random.RandomState(seed)\n"
       << "    order, position = rng.permutation(count), 0\n"
       << "    while True:\n"
       << "        rows = []\n"
       << "        while len(rows) < batch:\n"
       << "            if position == count:\n"
       << "                order, position = rng.permutation(count), 0\n"
       << "            take = min(batch - len(rows), count - position)\n"
       << "            rows.extend(order[position:position + take])\n"
       << "            position += take\n"
       << "        yield np.array(rows)\n\n\n"
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
       << "    stream = batches(len(x), args.batch, args.seed)\n"
       << "    for step in range(1, args.steps + 1):\n"
       << "        rows = next(stream)[rank * share:(rank + 1) * share]\n"
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
