#pragma once
// The numbers behind the roofline chart and the canvas's intensity colouring: one dot per kernel
// node (fusion groups included) with its FLOPs, bytes, intensity and attainable performance on
// the machine model, and the colours that show intensity or bound on the canvas.
#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <map>
#include <vector>

#include "cost/machine_model.h"
#include "ir/graph.h"

struct RooflineDot {
    adj::NodeId node = adj::kNoNode;
    QString label;  // "name (op)"
    double flops = 0;
    double bytes = 0;
    double intensity = 0;   // FLOP/byte
    double attainable = 0;  // FLOP/s on the model
    bool computeBound = false;
};

/// Dots for the kernel nodes that do arithmetic (FLOPs > 0) and move memory; `graph` must carry
/// types (verified).
std::vector<RooflineDot> rooflineDots(const adj::Graph& graph, const adj::MachineModel& machine);
/// The markers the chart draws. Dots lie on the roof (intensity alone places them), and dots closer
/// than `decadesPerMarker` in intensity share one marker of their bound: in Qt Charts each scatter
/// marker is a graphics item of its own, and a graph of a thousand repeated blocks would otherwise
/// hold the window for a tenth of a second to draw thousands of markers on top of each other.
struct RooflineMarkers {
    QList<QPointF> compute, memory;
};
RooflineMarkers rooflineMarkers(const std::vector<RooflineDot>& dots, double decadesPerMarker);
/// Light colours (black text stays readable) from orange (low intensity) to blue (high), on a
/// log scale from 0.01 to 100 FLOP/byte.
QColor intensityColour(double intensity);
QColor boundColour(bool computeBound);
/// Node fills for the canvas: by intensity, or by bound (compute or memory) on the machine.
std::map<adj::NodeId, QColor> intensityFills(const adj::Graph& graph);
std::map<adj::NodeId, QColor> boundFills(const adj::Graph& graph, const adj::MachineModel& machine);
