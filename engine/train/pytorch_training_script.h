#pragma once
// The training script that `adjoint-cli export GRAPH -o model.py --train` writes beside the
// module (io/pytorch_export.h): it trains model.py's Model with the loss, optimizer and
// hyper-parameters that `adjoint-cli train` would use (losses.h and optimizers.h follow
// torch.optim's conventions, so the optimizer is torch.optim's own), in one process or, under
// torchrun, in several with DistributedDataParallel (gloo backend, CPU). Every process draws the
// same global batch each step, the rows `train` draws with the same seed (batches.h's sampler and
// base/rng's generator, written out in Python), and takes its equal share of them; DDP averages
// the gradients, so P processes follow one process on the combined batch, and both follow train.
#include <cstdint>
#include <string>

#include "train/losses.h"
#include "train/optimizers.h"

namespace adj::train {

struct PyTorchTrainingOptions {
    std::string moduleName = "model";  // the module file beside the script, without ".py"
    LossKind loss = LossKind::CrossEntropy;
    OptimizerConfig optimizer;
    std::int64_t steps = 1000;
    std::int64_t batch = 64;
    std::uint64_t seed = 0;
    bool classLabels = true;  // labels are class indices, else real-valued targets
    std::string dataFile;     // defaults of --data and --labels, beside the script; empty: none
    std::string labelsFile;
};

std::string pytorchTrainingScript(const PyTorchTrainingOptions& options);

}  // namespace adj::train
