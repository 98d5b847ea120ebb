#pragma once
// A machine model for the roofline: peak FLOP/s (the faster of 4-wide multiply-add chains and the
// packed GEMM) and memory bandwidth of this CPU, measured by a
// short calibration (well under a second) and cached in $XDG_CACHE_HOME/adjoint/machine.json
// (~/.cache/adjoint/machine.json without XDG_CACHE_HOME).
#include <string>
#include <vector>

#include "cost/cost_model.h"
#include "ir/graph.h"

namespace adj {

struct MachineModel {
    double peakFlops = 0;      // FLOP/s, all threads
    double bandwidth = 0;      // bytes/s, all threads
    int threads = 0;
    /// The same roofs for one thread alone (a oneTBB arena of one): what a single-threaded
    /// device of the partitioning simulator's `local` preset reaches.
    double threadPeakFlops = 0;
    double threadBandwidth = 0;
    /// The ridge point: intensity above which a kernel is compute-bound.
    double ridge() const { return bandwidth > 0 ? peakFlops / bandwidth : 0; }
    /// min(peak, intensity * bandwidth).
    double attainable(double intensity) const;
    /// max(flops / peak, bytes / bandwidth), in seconds.
    double predictSeconds(const Cost& c) const;
    bool computeBound(const Cost& c) const { return c.intensity() >= ridge(); }
};

/// Measures the machine now (about 0.2 s).
MachineModel calibrateMachine();
/// The cached model when it exists and matches the thread count, otherwise calibrates and caches.
MachineModel machineModel();
/// The cache file path.
std::string machineCachePath();

struct RooflinePoint {
    std::string label;
    std::string op;
    double intensity = 0;
    double flopsPerSecond = 0;  // attainable (model), or measured when given
};

/// The roofline chart as SVG text: log-log axes (FLOP/byte, FLOP/s), the machine's roofs and one
/// labelled dot per kernel node (fusion groups included) at its attainable performance, plus a
/// hollow dot at its measured performance when `nodeMicros` is given (indexed by node id).
std::string rooflineSvg(const Graph& graph, const MachineModel& machine, const std::vector<double>& nodeMicros = {});

}  // namespace adj
