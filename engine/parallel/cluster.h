#pragma once
// A cluster for the partitioning simulator (issue #20): devices with a peak FLOP/s, a memory
// bandwidth and a memory size, and links between pairs of devices with a bandwidth and a latency
// (each direction of a link carries its own traffic at that bandwidth). Read from a JSON file
// (docs/PARALLEL.md gives the format) or taken from a preset: pcie2, nvlink8, ethernet2, local.
#include <optional>
#include <string>
#include <vector>

namespace adj::parallel {

struct ClusterDevice {
    std::string name;
    double peakFlops = 0;        // FLOP/s
    double memoryBandwidth = 0;  // bytes/s
    double memoryBytes = 0;
    double launchSeconds = 0;    // fixed cost of each kernel (a GPU's launch, a CPU's dispatch)
    /// A thread of this machine (the `local` preset, or "measured": true in a file): the simulator
    /// times the step's nodes here (parallel/node_profile.h) instead of using the roofs.
    bool measured = false;
};

struct ClusterLink {
    int a = 0, b = 0;       // device indices
    double bandwidth = 0;   // bytes/s in each direction
    double latencySeconds = 0;
};

struct Cluster {
    std::string name;
    std::string description;
    std::vector<ClusterDevice> devices;
    std::vector<ClusterLink> links;

    /// The link between two devices, or -1.
    int linkBetween(int a, int b) const;
    /// The links a transfer from `from` to `to` takes, hop by hop (fewest hops, then the widest
    /// path); empty when from == to. Throws adj::Error when no path joins them.
    std::vector<int> route(int from, int to) const;
    /// The first `n` devices and the links among them; Error when the cluster has fewer.
    Cluster firstDevices(int n) const;
    /// The same cluster with every link's bandwidth times `factor` (the view's slider).
    Cluster withLinkBandwidthScaled(double factor) const;
};

/// Parses a cluster file's text; adj::Error starting with `where` and naming the field (a missing
/// or unknown field, a value that is not a positive number, a link to an unknown device...).
Cluster parseCluster(const std::string& text, const std::string& where);
/// Reads a cluster file; Error naming the file.
Cluster loadCluster(const std::string& path);
/// The cluster as JSON text (the format parseCluster reads).
std::string clusterJson(const Cluster& cluster);

/// The presets' names: pcie2, nvlink8, ethernet2, local.
const std::vector<std::string>& clusterPresetNames();
/// A preset by name; nullopt for another name. `local` is this machine: one device per hardware
/// thread with the roofs one thread reaches (cost/machine_model.h, cached), whose node times the
/// simulator measures (ClusterDevice::measured), joined by copies through memory at one thread's
/// copy bandwidth with a thread hand-off's latency (measured once per process).
std::optional<Cluster> clusterPreset(const std::string& name);
/// A preset's name or a file's path, as the CLI's --cluster takes it.
Cluster clusterFromArgument(const std::string& presetOrPath);

}  // namespace adj::parallel
