#pragma once
// PNG output for charts that the engine writes as SVG (the roofline): Qt's SVG renderer draws the
// SVG onto an image at twice its size, and the PNG is saved atomically. The CLI stays headless:
// with no Qt application yet, one is made on the "offscreen" platform, so no display is needed.
#include <string>

namespace adj::cli {

/// Renders `svg` (a complete SVG document) to the PNG file `path` at `scale` times its size.
/// Throws adj::Error when the SVG cannot be parsed or the file cannot be written.
void writeSvgAsPng(const std::string& svg, const std::string& path, double scale = 2.0);

}  // namespace adj::cli
