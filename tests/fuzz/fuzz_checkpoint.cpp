// libFuzzer target: training checkpoints (engine/train/checkpoint), the file `adjoint-cli train
// --resume` and the GUI's resume read. A checkpoint that parses is written back and parsed again
// (it must come back bit for bit), then restored into a real trainer (the spirals MLP of
// resources/examples) and one training step runs from it. Every adj::Error is an expected answer
// to bad input; anything else (a crash, a sanitizer report, another exception, a round trip that
// changes the checkpoint) stops the fuzzer.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/errors.h"
#include "io/graph_file.h"
#include "runtime/executor.h"
#include "train/checkpoint.h"
#include "train/datasets.h"
#include "train/trainer.h"

namespace {

using adj::train::Checkpoint;

struct Rig {
    std::unique_ptr<adj::Executor> executor = adj::makeCpuExecutor();
    std::unique_ptr<adj::train::Trainer> trainer;
    Checkpoint fresh;
    Rig() {
        adj::train::TrainerConfig config;
        config.optimizer.kind = adj::train::OptimizerKind::Adam;
        config.loss = adj::train::LossKind::CrossEntropy;
        config.batchSize = 8;
        config.steps = 1 << 30;
        config.seed = 7;
        const adj::Graph model = adj::loadGraphFile(ADJOINT_SOURCE_DIR "/resources/examples/spirals_mlp.json");
        trainer = std::make_unique<adj::train::Trainer>(model, adj::train::makeDataset("spirals"), config, *executor);
        fresh = trainer->checkpoint();
    }
};

bool sameTensors(const std::vector<std::pair<std::string, adj::Tensor>>& a, const std::vector<std::pair<std::string, adj::Tensor>>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].first != b[i].first || a[i].second.shape() != b[i].second.shape()) return false;
        const auto n = std::size_t(a[i].second.numel()) * sizeof(float);
        if (n && std::memcmp(a[i].second.data(), b[i].second.data(), n) != 0) return false;
    }
    return true;
}

bool same(const Checkpoint& a, const Checkpoint& b) {
    return a.step == b.step && a.seed == b.seed && a.loss == b.loss && a.optimizer == b.optimizer && a.batchSize == b.batchSize &&
           a.sampler.rng == b.sampler.rng && a.sampler.order == b.sampler.order && a.sampler.position == b.sampler.position &&
           a.sampler.epoch == b.sampler.epoch && sameTensors(a.parameters, b.parameters) && sameTensors(a.state, b.state);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Rig rig;
    const std::string text(reinterpret_cast<const char*>(data), size);
    Checkpoint c;
    try {
        c = adj::train::parseCheckpoint(text, "fuzz.ckpt");
    } catch (const adj::Error&) {
        return 0;
    }
    const Checkpoint again = adj::train::parseCheckpoint(adj::train::checkpointToJson(c), "round-trip.ckpt");
    if (!same(c, again)) {
        std::fprintf(stderr, "checkpoint round trip changed the checkpoint\n");
        std::abort();
    }
    try {
        rig.trainer->restore(c);
        rig.trainer->runStep();
    } catch (const adj::Error&) {
    }
    rig.trainer->restore(rig.fresh);
    return 0;
}
