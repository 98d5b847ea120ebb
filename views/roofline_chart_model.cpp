#include "roofline_chart_model.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "cost/cost_model.h"
#include "passes/rewriter.h"

std::vector<RooflineDot> rooflineDots(const adj::Graph& graph, const adj::MachineModel& machine) {
    std::vector<RooflineDot> dots;
    for (adj::NodeId id : graph.topoOrder()) {
        const adj::Node& n = graph.node(id);
        if (!adj::isKernelOp(n.op) || n.outputs.empty()) continue;
        const adj::Cost c = adj::nodeCost(graph, id);
        if (c.flops <= 0 || c.bytes() <= 0) continue;
        RooflineDot d;
        d.node = id;
        d.label = QStringLiteral("%1 (%2)").arg(QString::fromStdString(n.name), QString::fromUtf8(adj::opName(n.op).data(), int(adj::opName(n.op).size())));
        d.flops = c.flops;
        d.bytes = c.bytes();
        d.intensity = c.intensity();
        d.attainable = machine.attainable(d.intensity);
        d.computeBound = machine.computeBound(c);
        dots.push_back(d);
    }
    return dots;
}

RooflineMarkers rooflineMarkers(const std::vector<RooflineDot>& dots, double decadesPerMarker) {
    RooflineMarkers markers;
    std::set<std::pair<bool, long long>> taken;
    for (const RooflineDot& d : dots) {
        const auto bucket = static_cast<long long>(std::floor(std::log10(std::max(d.intensity, 1e-300)) / decadesPerMarker));
        if (!taken.insert({d.computeBound, bucket}).second) continue;
        (d.computeBound ? markers.compute : markers.memory).append(QPointF(d.intensity, d.attainable));
    }
    return markers;
}

QColor intensityColour(double intensity) {
    const double t = std::clamp((std::log10(std::max(intensity, 1e-6)) + 2.0) / 4.0, 0.0, 1.0);
    return QColor::fromHslF(float((30 + 190 * t) / 360.0), 0.75f, 0.78f);
}

QColor boundColour(bool computeBound) { return computeBound ? QColor(170, 205, 255) : QColor(255, 210, 160); }

std::map<adj::NodeId, QColor> intensityFills(const adj::Graph& graph) {
    std::map<adj::NodeId, QColor> fills;
    for (adj::NodeId id : graph.nodeIds()) {
        const adj::Node& n = graph.node(id);
        if (!adj::isKernelOp(n.op) || n.outputs.empty()) continue;
        fills[id] = intensityColour(adj::nodeCost(graph, id).intensity());
    }
    return fills;
}

std::map<adj::NodeId, QColor> boundFills(const adj::Graph& graph, const adj::MachineModel& machine) {
    std::map<adj::NodeId, QColor> fills;
    for (adj::NodeId id : graph.nodeIds()) {
        const adj::Node& n = graph.node(id);
        if (!adj::isKernelOp(n.op) || n.outputs.empty()) continue;
        fills[id] = boundColour(machine.computeBound(adj::nodeCost(graph, id)));
    }
    return fills;
}
