#include "io/layered_layout.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace adj {

namespace {

constexpr double kGap = 24;       // between boxes of a rank
constexpr double kRankGap = 44;   // between ranks
constexpr double kPad = 12;       // around the drawing
constexpr double kArrow = 7;      // the arrowhead's length
constexpr double kFramePad = 8;   // a frame around its members
constexpr double kFrameTitle = 20;

struct Placement {
    std::vector<std::vector<int>> succ, pred;  // drawn edges, each pair once, no self loops
    std::vector<int> rank;
    std::vector<std::vector<int>> layers;      // box indices, in order
    std::vector<double> x;
};

/// Back edges of a depth-first search from the boxes in their order: leaving them out leaves a DAG.
std::unordered_set<std::uint64_t> backEdges(const Placement& p) {
    const std::size_t n = p.succ.size();
    std::vector<char> state(n, 0);  // 0 new, 1 on the stack, 2 done
    std::unordered_set<std::uint64_t> back;
    std::vector<std::pair<int, std::size_t>> stack;
    for (std::size_t root = 0; root < n; ++root) {
        if (state[root]) continue;
        stack.push_back({int(root), 0});
        state[root] = 1;
        while (!stack.empty()) {
            auto& [u, next] = stack.back();
            if (next < p.succ[std::size_t(u)].size()) {
                const int v = p.succ[std::size_t(u)][next++];
                if (state[std::size_t(v)] == 1) back.insert((std::uint64_t(u) << 32) | std::uint32_t(v));
                else if (state[std::size_t(v)] == 0) {
                    state[std::size_t(v)] = 1;
                    stack.push_back({v, 0});
                }
            } else {
                state[std::size_t(u)] = 2;
                stack.pop_back();
            }
        }
    }
    return back;
}

void assignRanks(Placement& p) {
    const std::size_t n = p.succ.size();
    const auto back = backEdges(p);
    auto forward = [&](int u, int v) { return !back.count((std::uint64_t(u) << 32) | std::uint32_t(v)); };
    // Kahn's order over the forward edges
    std::vector<int> indeg(n, 0), order;
    order.reserve(n);
    for (std::size_t u = 0; u < n; ++u)
        for (int v : p.succ[u])
            if (forward(int(u), v)) ++indeg[std::size_t(v)];
    for (std::size_t u = 0; u < n; ++u)
        if (!indeg[u]) order.push_back(int(u));
    for (std::size_t k = 0; k < order.size(); ++k)
        for (int v : p.succ[std::size_t(order[k])])
            if (forward(order[k], v) && --indeg[std::size_t(v)] == 0) order.push_back(v);
    p.rank.assign(n, 0);
    for (int u : order)
        for (int v : p.succ[std::size_t(u)])
            if (forward(u, v)) p.rank[std::size_t(v)] = std::max(p.rank[std::size_t(v)], p.rank[std::size_t(u)] + 1);
    // a box nothing points to goes down next to its first reader
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const int u = *it;
        bool hasPred = false;
        for (int v : p.pred[std::size_t(u)]) hasPred = hasPred || forward(v, u);
        if (hasPred) continue;
        int lowest = std::numeric_limits<int>::max();
        for (int v : p.succ[std::size_t(u)])
            if (forward(u, v)) lowest = std::min(lowest, p.rank[std::size_t(v)]);
        if (lowest != std::numeric_limits<int>::max()) p.rank[std::size_t(u)] = std::max(p.rank[std::size_t(u)], lowest - 1);
    }
    const int ranks = n ? *std::max_element(p.rank.begin(), p.rank.end()) + 1 : 0;
    p.layers.assign(std::size_t(ranks), {});
    for (int u : order) p.layers[std::size_t(p.rank[std::size_t(u)])].push_back(u);
}

/// Orders each rank by the mean relative position of its neighbours, sweeping down and up.
void orderRanks(Placement& p) {
    const std::size_t n = p.succ.size();
    std::vector<double> at(n, 0.5);
    auto refresh = [&](const std::vector<int>& layer) {
        for (std::size_t k = 0; k < layer.size(); ++k) at[std::size_t(layer[k])] = (double(k) + 0.5) / double(layer.size());
    };
    for (const auto& layer : p.layers) refresh(layer);
    auto sweep = [&](std::vector<int>& layer, const std::vector<std::vector<int>>& neighbours) {
        std::vector<std::pair<double, int>> keyed;
        keyed.reserve(layer.size());
        for (int u : layer) {
            const auto& nb = neighbours[std::size_t(u)];
            double key = at[std::size_t(u)];
            if (!nb.empty()) {
                key = 0;
                for (int v : nb) key += at[std::size_t(v)];
                key /= double(nb.size());
            }
            keyed.push_back({key, u});
        }
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t k = 0; k < layer.size(); ++k) layer[k] = keyed[k].second;
        refresh(layer);
    };
    for (int round = 0; round < 4; ++round) {
        for (std::size_t r = 1; r < p.layers.size(); ++r) sweep(p.layers[r], p.pred);
        for (std::size_t r = p.layers.size(); r-- > 1;) sweep(p.layers[r - 1], p.succ);
    }
}

/// x of each box: towards its neighbours' mean, without overlaps within a rank.
void placeX(Placement& p, const std::vector<LayeredBox>& boxes) {
    const std::size_t n = boxes.size();
    p.x.assign(n, 0);
    for (const auto& layer : p.layers) {
        double at = 0;
        for (int u : layer) {
            p.x[std::size_t(u)] = at + boxes[std::size_t(u)].width / 2;
            at += boxes[std::size_t(u)].width + kGap;
        }
        for (int u : layer) p.x[std::size_t(u)] -= at / 2;  // centred on 0
    }
    auto separation = [&](int a, int b) { return (boxes[std::size_t(a)].width + boxes[std::size_t(b)].width) / 2 + kGap; };
    std::vector<double> want(n), left, right;
    for (int round = 0; round < 6; ++round) {
        for (std::size_t u = 0; u < n; ++u) {
            double sum = 0;
            std::size_t count = 0;
            for (int v : p.pred[u]) sum += p.x[std::size_t(v)], ++count;
            for (int v : p.succ[u]) sum += p.x[std::size_t(v)], ++count;
            want[u] = count ? (p.x[u] + sum / double(count)) / 2 : p.x[u];
        }
        for (const auto& layer : p.layers) {
            const std::size_t m = layer.size();
            left.assign(m, 0);
            right.assign(m, 0);
            for (std::size_t k = 0; k < m; ++k)
                left[k] = k ? std::max(want[std::size_t(layer[k])], left[k - 1] + separation(layer[k - 1], layer[k])) : want[std::size_t(layer[k])];
            for (std::size_t k = m; k-- > 0;)
                right[k] = k + 1 < m ? std::min(want[std::size_t(layer[k])], right[k + 1] - separation(layer[k], layer[k + 1]))
                                     : want[std::size_t(layer[k])];
            for (std::size_t k = 0; k < m; ++k) {
                double x = (left[k] + right[k]) / 2;
                if (k) x = std::max(x, p.x[std::size_t(layer[k - 1])] + separation(layer[k - 1], layer[k]));
                p.x[std::size_t(layer[k])] = x;
            }
        }
    }
}

}  // namespace

GraphLayout layeredLayout(const std::vector<LayeredBox>& boxes, std::vector<LayeredEdge> edges,
                          const std::vector<std::string>& clusterNames, const std::vector<int>& clusterParent) {
    GraphLayout result;
    result.layered = true;
    const std::size_t n = boxes.size();
    std::unordered_map<NodeId, int> index;
    for (std::size_t i = 0; i < n; ++i) index[boxes[i].id] = int(i);
    Placement p;
    p.succ.assign(n, {});
    p.pred.assign(n, {});
    std::unordered_set<std::uint64_t> seen;
    for (const LayeredEdge& e : edges) {
        auto t = index.find(e.tail), h = index.find(e.head);
        if (t == index.end() || h == index.end() || t->second == h->second) continue;
        if (!seen.insert((std::uint64_t(t->second) << 32) | std::uint32_t(h->second)).second) continue;
        p.succ[std::size_t(t->second)].push_back(h->second);
        p.pred[std::size_t(h->second)].push_back(t->second);
    }
    assignRanks(p);
    orderRanks(p);
    placeX(p, boxes);

    // y by rank; then the drawing moved to start at (kPad, kPad)
    std::vector<double> y(n, 0);
    double top = 0;
    for (const auto& layer : p.layers) {
        double h = 0;
        for (int u : layer) h = std::max(h, boxes[std::size_t(u)].height);
        for (int u : layer) y[std::size_t(u)] = top + h / 2;
        top += h + kRankGap;
    }
    double minX = std::numeric_limits<double>::max();
    for (std::size_t i = 0; i < n; ++i) minX = std::min(minX, p.x[i] - boxes[i].width / 2);
    if (n == 0) minX = 0;
    double maxX = 0, maxY = 0;
    for (std::size_t i = 0; i < n; ++i) {
        p.x[i] += kPad - minX;
        y[i] += kPad;
        result.nodes.push_back({boxes[i].id, p.x[i], y[i], boxes[i].width, boxes[i].height});
        maxX = std::max(maxX, p.x[i] + boxes[i].width / 2);
        maxY = std::max(maxY, y[i] + boxes[i].height / 2);
    }

    for (LayeredEdge& e : edges) {
        auto t = index.find(e.tail), h = index.find(e.head);
        if (t == index.end() || h == index.end()) continue;
        const std::size_t a = std::size_t(t->second), b = std::size_t(h->second);
        const double x0 = p.x[a], y0 = y[a] + boxes[a].height / 2;
        const double tipX = p.x[b], tipY = y[b] - boxes[b].height / 2;
        const double x1 = tipX, y1 = tipY - kArrow;
        const double bend = std::max(20.0, std::abs(y1 - y0) / 2);
        e.edge.points = {{x0, y0}, {x0, y0 + bend}, {x1, y1 - bend}, {x1, y1}};
        e.edge.hasArrow = true;
        e.edge.arrowX = tipX;
        e.edge.arrowY = tipY;
        e.edge.labelX = (x0 + x1) / 2 + 4;
        e.edge.labelY = (y0 + y1) / 2;
        result.edges.push_back(std::move(e.edge));
    }

    // frames: members' bounding boxes, inner frames first so that outer ones take them in
    const std::size_t clusters = clusterNames.size();
    std::vector<double> left(clusters, std::numeric_limits<double>::max()), right(clusters, std::numeric_limits<double>::lowest()),
        upper(clusters, std::numeric_limits<double>::max()), lower(clusters, std::numeric_limits<double>::lowest());
    auto take = [&](std::size_t c, double l, double r, double t, double b) {
        left[c] = std::min(left[c], l);
        right[c] = std::max(right[c], r);
        upper[c] = std::min(upper[c], t);
        lower[c] = std::max(lower[c], b);
    };
    for (std::size_t i = 0; i < n; ++i)
        if (boxes[i].cluster >= 0 && std::size_t(boxes[i].cluster) < clusters)
            take(std::size_t(boxes[i].cluster), p.x[i] - boxes[i].width / 2, p.x[i] + boxes[i].width / 2, y[i] - boxes[i].height / 2,
                 y[i] + boxes[i].height / 2);
    auto parentOf = [&](std::size_t c) {
        const int q = c < clusterParent.size() ? clusterParent[c] : -1;
        return q >= 0 && std::size_t(q) < clusters && std::size_t(q) != c ? q : -1;
    };
    std::vector<int> depth(clusters, 0);
    for (std::size_t c = 0; c < clusters; ++c)
        for (int q = parentOf(c), guard = 0; q >= 0 && guard < 64; q = parentOf(std::size_t(q)), ++guard) ++depth[c];
    std::vector<std::size_t> byDepth(clusters);
    std::iota(byDepth.begin(), byDepth.end(), std::size_t(0));
    std::stable_sort(byDepth.begin(), byDepth.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
    for (std::size_t c : byDepth) {
        if (left[c] > right[c]) continue;  // nothing drawn in it
        left[c] -= kFramePad;
        right[c] += kFramePad;
        upper[c] -= kFramePad + kFrameTitle;
        lower[c] += kFramePad;
        if (const int q = parentOf(c); q >= 0) take(std::size_t(q), left[c], right[c], upper[c], lower[c]);
    }
    for (auto it = byDepth.rbegin(); it != byDepth.rend(); ++it) {
        const std::size_t c = *it;
        if (left[c] > right[c]) continue;
        result.clusters.push_back({int(c), clusterNames[c], left[c], upper[c], right[c] - left[c], lower[c] - upper[c]});
        maxX = std::max(maxX, right[c]);
        maxY = std::max(maxY, lower[c]);
    }
    result.width = maxX + kPad;
    result.height = maxY + kPad;
    return result;
}

}  // namespace adj
