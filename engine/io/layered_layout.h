#pragma once
// A layered drawing of our own for graphs too large for Graphviz's dot (whose last phase grows
// faster than quadratically: 2 s at 11,000 placements, 28 s at 23,000, minutes beyond): the same
// top-to-bottom convention in time linear in the drawing (a few sweeps over its edges).
//   ranks     longest path from the sources (edges that close a cycle, as collapsed groups can,
//             are left out), then every box pulled down next to its first reader (weights sit
//             beside the op that reads them, not at the top)
//   order     within a rank, by the mean position of each box's neighbours, four sweeps down and
//             up (the barycentre heuristic)
//   x         each box towards the mean x of its neighbours, overlaps pushed apart in rank order
//   edges     one cubic curve from the bottom of the tail box to the top of the head box
//   frames    each cluster's frame is the bounding box of its members and inner frames
// It draws what dot draws (boxes, edges, frames) less well: edges may cross boxes, and frames of
// interleaved groups overlap. io/graphviz.cpp chooses it above DotOptions::layeredAbove.
#include <string>
#include <vector>

#include "io/graphviz.h"

namespace adj {

/// One box to place: a node, a collapsed group (layoutCollapsedId) or a graph output
/// (layoutOutputId), its size in points, and the cluster it sits in (-1: none).
struct LayeredBox {
    NodeId id = kNoNode;
    double width = 0, height = 0;
    int cluster = -1;
};

/// One edge between placed boxes; `tail` and `head` are the boxes drawn (a collapsed group's box
/// for its members' values).
struct LayeredEdge {
    EdgeLayout edge;  // from, to, toIndex, label, fromBox, toBox; the points are filled in
    NodeId tail = kNoNode, head = kNoNode;
};

/// Places the boxes and routes the edges. `clusterNames` and `clusterParent` as in DotOptions.
GraphLayout layeredLayout(const std::vector<LayeredBox>& boxes, std::vector<LayeredEdge> edges,
                          const std::vector<std::string>& clusterNames, const std::vector<int>& clusterParent);

}  // namespace adj
