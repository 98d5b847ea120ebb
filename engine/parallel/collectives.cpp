#include "parallel/collectives.h"

namespace adj::parallel {

const char* allReduceName(AllReduceAlgorithm a) { return a == AllReduceAlgorithm::Ring ? "ring" : "tree"; }

double ringAllReduceBytesPerDevice(double bytes, int n) { return n > 1 ? 2.0 * double(n - 1) / double(n) * bytes : 0.0; }

namespace {

std::vector<int> after(int task) { return task >= 0 ? std::vector<int>{task} : std::vector<int>{}; }

/// `steps` ring steps of `chunk` bytes: at step k device i sends to device i+1 what it received
/// at step k-1 (its own data at step 0, and in `ownDataSteps` it adds its own data to it).
std::vector<std::vector<int>> ringSteps(StepTasks& tasks, const Cluster& cluster, const std::vector<int>& devices, double chunk, int steps,
                                        int ownDataSteps, const std::vector<int>& readyOn, const std::string& label, TaskPhase phase, int bucket,
                                        bool reduceScatterFirst) {
    const int n = int(devices.size());
    std::vector<int> previous(std::size_t(n), -1);
    for (int k = 0; k < steps; ++k) {
        std::vector<int> sent(std::size_t(n), -1);
        for (int i = 0; i < n; ++i) {
            std::vector<int> deps = after(previous[std::size_t((i + n - 1) % n)]);
            // a collective starts once every device has entered it: a step waits for its sender's
            // data and for its receiver's, whose own chunk the incoming one is added to
            for (int end : {i, (i + 1) % n})
                if (k < ownDataSteps && readyOn[std::size_t(end)] >= 0) deps.push_back(readyOn[std::size_t(end)]);
            const std::size_t firstHop = tasks.tasks().size();
            sent[std::size_t(i)] = tasks.send(cluster, devices[std::size_t(i)], devices[std::size_t((i + 1) % n)], chunk, phase, std::move(deps),
                                              label + " step " + std::to_string(k + 1) + "/" + std::to_string(steps));
            // (every hop of a routed transfer carries the same chunk; the receiver acts on the last)
            const bool reducing = reduceScatterFirst && k < n - 1;
            const int gatherStep = reduceScatterFirst ? k - (n - 1) : k;
            const int c = reducing ? ((i - k) % n + n) % n : ((i + 1 - gatherStep) % n + n) % n;
            for (std::size_t t = firstHop; t < tasks.tasks().size(); ++t) {  // the hops send() added
                SimTask& task = tasks.tasks()[t];
                task.bucket = bucket;
                task.chunk = c;
                task.reduce = reducing;
            }
        }
        previous = sent;
    }
    std::vector<std::vector<int>> done(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) done[std::size_t(i)] = after(previous[std::size_t((i + n - 1) % n)]);
    return done;
}

}  // namespace

std::vector<std::vector<int>> addAllReduce(StepTasks& tasks, const Cluster& cluster, const std::vector<int>& devices, double bytes,
                                           AllReduceAlgorithm algorithm, const std::vector<int>& readyOn, const std::string& label, TaskPhase phase,
                                           int bucket) {
    const int n = int(devices.size());
    if (n < 2 || bytes <= 0) return std::vector<std::vector<int>>(std::size_t(n));
    if (algorithm == AllReduceAlgorithm::Ring)
        return ringSteps(tasks, cluster, devices, bytes / n, 2 * (n - 1), n - 1, readyOn, label + " (ring)", phase, bucket, true);
    // A binary tree over the positions: reduce toward position 0, then broadcast back down.
    std::vector<int> up(std::size_t(n), -1), down(std::size_t(n), -1);
    auto children = [&](int i) {
        std::vector<int> c;
        for (int k : {2 * i + 1, 2 * i + 2})
            if (k < n) c.push_back(k);
        return c;
    };
    for (int i = n - 1; i >= 1; --i) {
        std::vector<int> deps = after(readyOn[std::size_t(i)]);
        for (int c : children(i)) deps.push_back(up[std::size_t(c)]);
        up[std::size_t(i)] = tasks.send(cluster, devices[std::size_t(i)], devices[std::size_t((i - 1) / 2)], bytes, phase, std::move(deps),
                                        label + " (tree) reduce");
    }
    std::vector<int> rootDone = after(readyOn[0]);
    for (int c : children(0)) rootDone.push_back(up[std::size_t(c)]);
    for (int i = 1; i < n; ++i) {
        const int parent = (i - 1) / 2;
        std::vector<int> deps = parent == 0 ? rootDone : after(down[std::size_t(parent)]);
        down[std::size_t(i)] = tasks.send(cluster, devices[std::size_t(parent)], devices[std::size_t(i)], bytes, phase, std::move(deps),
                                          label + " (tree) broadcast");
    }
    std::vector<std::vector<int>> done(static_cast<std::size_t>(n));
    done[0] = rootDone;
    for (int i = 1; i < n; ++i) done[std::size_t(i)] = after(down[std::size_t(i)]);
    return done;
}

std::vector<std::vector<int>> addAllGather(StepTasks& tasks, const Cluster& cluster, const std::vector<int>& devices, double bytes,
                                           const std::vector<int>& readyOn, const std::string& label, TaskPhase phase) {
    const int n = int(devices.size());
    if (n < 2 || bytes <= 0) return std::vector<std::vector<int>>(std::size_t(n));
    return ringSteps(tasks, cluster, devices, bytes / n, n - 1, 1, readyOn, label + " (all-gather)", phase, -1, false);
}

}  // namespace adj::parallel
