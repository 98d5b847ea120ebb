#pragma once
// The numbers behind the roofline chart and the canvas's intensity colouring: one dot per kernel
// node (fusion groups included) with its FLOPs, bytes, intensity and attainable performance on
// the machine model, and the colours that show intensity or bound on the canvas.
#include <QColor>
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
/// Light colours (black text stays readable) from orange (low intensity) to blue (high), on a
/// log scale from 0.01 to 100 FLOP/byte.
QColor intensityColour(double intensity);
QColor boundColour(bool computeBound);
/// Node fills for the canvas: by intensity, or by bound (compute or memory) on the machine.
std::map<adj::NodeId, QColor> intensityFills(const adj::Graph& graph);
std::map<adj::NodeId, QColor> boundFills(const adj::Graph& graph, const adj::MachineModel& machine);
