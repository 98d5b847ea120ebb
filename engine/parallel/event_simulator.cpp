#include "parallel/event_simulator.h"

#include <algorithm>
#include <queue>
#include <stdexcept>

#include "base/errors.h"

namespace adj::parallel {

const char* taskPhaseName(TaskPhase phase) {
    switch (phase) {
        case TaskPhase::Forward: return "forward";
        case TaskPhase::Backward: return "backward";
        case TaskPhase::Update: return "update";
        case TaskPhase::Collective: return "all-reduce";
        case TaskPhase::Activation: return "activations";
    }
    return "?";
}

int StepTasks::add(SimTask task) {
    tasks_.push_back(std::move(task));
    return int(tasks_.size()) - 1;
}

int StepTasks::compute(int device, double seconds, TaskPhase phase, std::vector<int> after, std::string label, int microbatch) {
    SimTask t;
    t.kind = TaskKind::Compute;
    t.phase = phase;
    t.device = device;
    t.seconds = seconds;
    t.after = std::move(after);
    t.label = std::move(label);
    t.microbatch = microbatch;
    return add(std::move(t));
}

int StepTasks::send(const Cluster& cluster, int from, int to, double bytes, TaskPhase phase, std::vector<int> after, const std::string& label,
                    int microbatch) {
    int last = -1;
    int at = from;
    for (int linkIndex : cluster.route(from, to)) {
        const ClusterLink& link = cluster.links[std::size_t(linkIndex)];
        SimTask t;
        t.kind = TaskKind::Transfer;
        t.phase = phase;
        t.device = at;
        t.link = linkIndex;
        t.toDevice = link.a == at ? link.b : link.a;
        t.bytes = bytes;
        t.seconds = transferSeconds(link, bytes);
        t.after = last < 0 ? after : std::vector<int>{last};
        t.label = label;
        t.microbatch = microbatch;
        at = t.toDevice;
        last = add(std::move(t));
    }
    return last;
}

double transferSeconds(const ClusterLink& link, double bytes) { return link.latencySeconds + bytes / link.bandwidth; }

namespace {

struct Finish {
    double time;
    int task;
    bool operator>(const Finish& o) const { return time != o.time ? time > o.time : task > o.task; }
};

struct Ready {
    double time;
    int task;
    bool operator>(const Ready& o) const { return time != o.time ? time > o.time : task > o.task; }
};

}  // namespace

SimResult simulate(const Cluster& cluster, const std::vector<SimTask>& tasks, const std::vector<double>& residentBytes) {
    const int devices = int(cluster.devices.size());
    const int resources = devices + 2 * int(cluster.links.size());
    auto resourceOf = [&](const SimTask& t) {
        if (t.kind == TaskKind::Compute) return t.device;
        return devices + 2 * t.link + (cluster.links[std::size_t(t.link)].a == t.device ? 0 : 1);
    };
    const std::size_t n = tasks.size();
    std::vector<int> waiting(n, 0);
    std::vector<std::vector<int>> dependents(n);
    for (std::size_t i = 0; i < n; ++i) {
        const SimTask& t = tasks[i];
        if (t.kind == TaskKind::Compute ? (t.device < 0 || t.device >= devices)
                                        : (t.link < 0 || t.link >= int(cluster.links.size()) || t.device < 0 || t.device >= devices))
            throw std::logic_error("simulate: task " + std::to_string(i) + " names no device or link of the cluster");
        for (int d : t.after) {
            if (d < 0 || std::size_t(d) >= n) throw std::logic_error("simulate: task " + std::to_string(i) + " depends on no task");
            ++waiting[i];
            dependents[std::size_t(d)].push_back(int(i));
        }
    }
    // Devices: tasks in the order added. Links: ready tasks, earliest ready first.
    std::vector<std::vector<int>> program(static_cast<std::size_t>(devices));
    for (std::size_t i = 0; i < n; ++i)
        if (tasks[i].kind == TaskKind::Compute) program[std::size_t(tasks[i].device)].push_back(int(i));
    std::vector<std::size_t> next(std::size_t(devices), 0);
    std::vector<char> ready(n, 0);
    std::vector<double> readyAt(n, 0);
    std::vector<std::priority_queue<Ready, std::vector<Ready>, std::greater<Ready>>> linkQueue(static_cast<std::size_t>(resources));
    std::vector<char> idle(std::size_t(resources), 1);

    SimResult r;
    r.spans.assign(n, {});
    r.busySeconds.assign(std::size_t(devices), 0);
    r.peakBytes.assign(std::size_t(devices), 0);
    r.linkBytes.assign(cluster.links.size(), 0);
    r.linkBusySeconds.assign(cluster.links.size(), 0);
    std::vector<double> held(std::size_t(devices), 0);
    for (int d = 0; d < devices && std::size_t(d) < residentBytes.size(); ++d) held[std::size_t(d)] = residentBytes[std::size_t(d)];
    r.peakBytes = held;

    std::priority_queue<Finish, std::vector<Finish>, std::greater<Finish>> events;
    double now = 0;
    std::size_t finished = 0;
    auto makeReady = [&](int task) {
        ready[std::size_t(task)] = 1;
        readyAt[std::size_t(task)] = now;
        if (tasks[std::size_t(task)].kind == TaskKind::Transfer) linkQueue[std::size_t(resourceOf(tasks[std::size_t(task)]))].push({now, task});
    };
    auto start = [&](int task, int resource) {
        const SimTask& t = tasks[std::size_t(task)];
        idle[std::size_t(resource)] = 0;
        r.spans[std::size_t(task)] = {now, now + t.seconds};
        if (t.kind == TaskKind::Compute) {
            double& h = held[std::size_t(t.device)];
            h += t.allocateBytes;
            r.peakBytes[std::size_t(t.device)] = std::max(r.peakBytes[std::size_t(t.device)], h);
            r.busySeconds[std::size_t(t.device)] += t.seconds;
        } else {
            r.linkBytes[std::size_t(t.link)] += t.bytes;
            r.linkBusySeconds[std::size_t(t.link)] += t.seconds;
        }
        events.push({now + t.seconds, task});
    };
    auto dispatch = [&]() {
        for (int d = 0; d < devices; ++d) {
            if (!idle[std::size_t(d)] || next[std::size_t(d)] >= program[std::size_t(d)].size()) continue;
            const int head = program[std::size_t(d)][next[std::size_t(d)]];
            if (!ready[std::size_t(head)]) continue;
            ++next[std::size_t(d)];
            start(head, d);
        }
        for (int res = devices; res < resources; ++res) {
            auto& q = linkQueue[std::size_t(res)];
            if (!idle[std::size_t(res)] || q.empty()) continue;
            const int task = q.top().task;
            q.pop();
            start(task, res);
        }
    };
    for (std::size_t i = 0; i < n; ++i)
        if (waiting[i] == 0) makeReady(int(i));
    dispatch();
    while (!events.empty()) {
        now = events.top().time;
        // Every task ending now ends before anything starts, so that equal times do not depend on
        // the order of the queue.
        while (!events.empty() && events.top().time == now) {
            const int task = events.top().task;
            events.pop();
            const SimTask& t = tasks[std::size_t(task)];
            idle[std::size_t(resourceOf(t))] = 1;
            if (t.kind == TaskKind::Compute) held[std::size_t(t.device)] -= t.releaseBytes;
            ++finished;
            for (int dep : dependents[std::size_t(task)])
                if (--waiting[std::size_t(dep)] == 0) makeReady(dep);
        }
        dispatch();
    }
    if (finished != n)
        throw Error("the schedule deadlocks: " + std::to_string(n - finished) + " of " + std::to_string(n) +
                    " tasks never start (a dependency runs against a device's order of work)");
    for (const TaskSpan& s : r.spans) r.stepSeconds = std::max(r.stepSeconds, s.end);
    return r;
}

}  // namespace adj::parallel
