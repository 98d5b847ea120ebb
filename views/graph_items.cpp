#include "graph_items.h"

#include <QFontMetricsF>
#include <QGraphicsSceneHoverEvent>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

#include "ir/group_tree.h"

namespace {

// Keep in step with the font sizes of the DOT text (engine/io/graphviz.cpp).
constexpr int kNodePixelSize = 13;
constexpr int kSmallPixelSize = 10;
constexpr int kEdgePixelSize = 10;
constexpr double kLineSpacing = 1.2;  // Graphviz's LINESPACING

const QColor kSelection(0x1f, 0x6f, 0xeb);
const QColor kText(0x1d, 0x23, 0x2b);
const QColor kMutedText(0x4a, 0x53, 0x60);
const QColor kEdgeColour(0x5f, 0x6b, 0x7a);
const QColor kEdgeText(0x37, 0x41, 0x4d);

bool gPresentation = false;
bool gDark = false;
constexpr double kPortRadius = 3.5;
const QColor kProblem(0xd0, 0x1f, 0x1f);
const QColor kPortFill(0xff, 0xff, 0xff);

QFont makeFont(int pixelSize, bool bold = false) {
    QFont f(QStringLiteral("Helvetica"));
    f.setStyleHint(QFont::SansSerif);
    f.setPixelSize(pixelSize);
    f.setBold(bold);
    return f;
}

QPainterPath octagon(const QRectF& r) {
    const double cx = std::min(r.width(), r.height()) * 0.22;
    QPolygonF p;
    p << QPointF(r.left() + cx, r.top()) << QPointF(r.right() - cx, r.top()) << QPointF(r.right(), r.top() + cx)
      << QPointF(r.right(), r.bottom() - cx) << QPointF(r.right() - cx, r.bottom()) << QPointF(r.left() + cx, r.bottom())
      << QPointF(r.left(), r.bottom() - cx) << QPointF(r.left(), r.top() + cx);
    QPainterPath path;
    path.addPolygon(p);
    path.closeSubpath();
    return path;
}

}  // namespace

QFont graphNodeFont() { return makeFont(kNodePixelSize); }
QFont graphSmallFont() { return makeFont(kSmallPixelSize); }
QFont graphEdgeFont() { return makeFont(kEdgePixelSize); }

static QColor colourFromHex(std::string_view hex) {
    return QColor(QString::fromLatin1(hex.data(), qsizetype(hex.size())));
}

void setGraphPresentationMode(bool on) { gPresentation = on; }
bool graphPresentationMode() { return gPresentation; }
void setGraphDarkMode(bool on) { gDark = on; }
bool graphDarkMode() { return gDark; }

QColor graphBackgroundColour() {
    if (gPresentation) return Qt::white;
    return gDark ? QColor(0x23, 0x27, 0x2e) : QColor(0xfa, 0xfb, 0xfc);
}

namespace {
bool darkCanvas() { return gDark && !gPresentation; }
QColor edgeColour() { return gPresentation ? QColor(0x20, 0x24, 0x2a) : gDark ? QColor(0xa4, 0xae, 0xbc) : kEdgeColour; }
QColor edgeTextColour() { return gPresentation ? QColor(Qt::black) : gDark ? QColor(0xdc, 0xe2, 0xea) : kEdgeText; }
QColor frameLineColour() { return gPresentation ? QColor(0x30, 0x36, 0x40) : gDark ? QColor(0x80, 0x8a, 0x9a) : QColor(0x8a, 0x94, 0xa3); }
QColor frameFillColour() { return darkCanvas() ? QColor(0x38, 0x3e, 0x48, 110) : QColor(0xf4, 0xf1, 0xea, 90); }
QColor frameTextColour() { return gPresentation ? QColor(Qt::black) : gDark ? QColor(0xc8, 0xcf, 0xd9) : kMutedText; }
}  // namespace

QColor graphFillColour(adj::NodeCategory category) { return colourFromHex(adj::nodeCategoryFill(category)); }
QColor graphBorderColour(adj::NodeCategory category) { return colourFromHex(adj::nodeCategoryBorder(category)); }

// ---------------------------------------------------------------------------------------------

GraphNodeItem::GraphNodeItem(adj::NodeId id, adj::NodeCategory category, QStringList lines,
                             const adj::NodeLayout& layout, QColor fill)
    : id_(id), category_(category), lines_(std::move(lines)),
      box_(-layout.width / 2, -layout.height / 2, layout.width, layout.height),
      fill_(fill.isValid() ? fill : graphFillColour(category)), border_(graphBorderColour(category)) {
    setPos(layout.x, layout.y);
    setFlag(ItemIsSelectable);
    if (category_ != adj::NodeCategory::Output) setFlag(ItemIsMovable);
    setAcceptHoverEvents(true);
    setZValue(1);
}

void GraphNodeItem::setPorts(int inputs, int outputs) {
    prepareGeometryChange();
    inputPorts_ = std::max(0, inputs);
    outputPorts_ = std::max(0, outputs);
    update();
}

QPointF GraphNodeItem::inputPortPos(int index) const {
    const double step = box_.width() / (inputPorts_ + 1);
    return {box_.left() + step * (index + 1), box_.top()};
}

QPointF GraphNodeItem::outputPortPos(int port) const {
    const double step = box_.width() / (outputPorts_ + 1);
    return {box_.left() + step * (port + 1), box_.bottom()};
}

int GraphNodeItem::inputPortAt(const QPointF& p) const {
    for (int i = 0; i < inputPorts_; ++i)
        if (QLineF(p, inputPortPos(i)).length() <= kPortRadius * 2.5) return i;
    return -1;
}

int GraphNodeItem::outputPortAt(const QPointF& p) const {
    for (int k = 0; k < outputPorts_; ++k)
        if (QLineF(p, outputPortPos(k)).length() <= kPortRadius * 2.5) return k;
    return -1;
}

int GraphNodeItem::nearestInputPort(const QPointF& p) const {
    int best = -1;
    double bestDistance = 0;
    for (int i = 0; i < inputPorts_; ++i) {
        const double d = QLineF(p, inputPortPos(i)).length();
        if (best < 0 || d < bestDistance) best = i, bestDistance = d;
    }
    return best;
}

void GraphNodeItem::setProblem(const QString& message) {
    if (message == problem_) return;
    if (problem_.isEmpty()) baseToolTip_ = toolTip();
    problem_ = message;
    setToolTip(message.isEmpty() ? baseToolTip_
                                 : QStringLiteral("<span style='color:#b01010'><b>%1</b></span><br>%2")
                                       .arg(message.toHtmlEscaped(), baseToolTip_));
    update();
}

void GraphNodeItem::setCollapsedGroup(bool on) {
    collapsedGroup_ = on;
    setFlag(ItemIsMovable, !on && category_ != adj::NodeCategory::Output);
    if (on) border_ = QColor(0x5b, 0x53, 0x46);
    update();
}

void GraphNodeItem::setFillOverride(const QColor& fill) {
    fillOverride_ = fill;
    update();
}

QRectF GraphNodeItem::boundingRect() const { return box_.adjusted(-kPortRadius * 2 - 2, -kPortRadius * 2 - 8, kPortRadius * 2 + 10, kPortRadius * 2 + 2); }

QPainterPath GraphNodeItem::shape() const { return outline(); }

QPainterPath GraphNodeItem::outline() const {
    QPainterPath path;
    const QRectF r = box_.adjusted(1, 1, -1, -1);
    switch (category_) {
    case adj::NodeCategory::Input: path.addEllipse(r); break;
    case adj::NodeCategory::Parameter:
    case adj::NodeCategory::Constant: path.addRoundedRect(r, 2, 2); break;
    case adj::NodeCategory::Output: path = octagon(r); break;
    default: {
        const double radius = std::min(8.0, r.height() / 3);
        path.addRoundedRect(r, radius, radius);
        break;
    }
    }
    return path;
}

void GraphNodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const bool selected = option->state & QStyle::State_Selected;
    if (QStyleOptionGraphicsItem::levelOfDetailFromTransform(painter->worldTransform()) < kDetailedAbove) {
        // too small to read: a plain box in its colour (thousands of them pan smoothly)
        painter->setPen(selected ? QPen(kSelection, 0) : QPen(border_, 0));
        painter->setBrush(fillOverride_.isValid() ? fillOverride_ : fill_);
        painter->drawRect(box_);
        return;
    }
    painter->setRenderHint(QPainter::Antialiasing);

    QColor fill = fillOverride_.isValid() ? fillOverride_ : fill_;
    if (hovered_) fill = fill.lighter(104);
    const double thick = gPresentation ? 2.0 : 1.0;
    QPen pen(selected ? kSelection : (hovered_ || gPresentation ? border_.darker(gPresentation ? 170 : 130) : border_),
             (selected ? 2.6 : 1.3) * thick);
    pen.setJoinStyle(Qt::RoundJoin);
    painter->setPen(pen);
    painter->setBrush(fill);
    const QPainterPath path = outline();
    if (collapsedGroup_) {
        // Two cards behind the box: several nodes folded into one.
        painter->drawPath(path.translated(5, 5));
        painter->drawPath(path.translated(2.5, 2.5));
    }
    painter->drawPath(path);
    if (category_ == adj::NodeCategory::Output) {
        painter->setBrush(Qt::NoBrush);
        painter->setPen(QPen(pen.color(), 1.0));
        painter->drawPath(octagon(box_.adjusted(5, 5, -5, -5)));
    }

    // Label: the op in bold over the node name for ops; a single line for the others; extra
    // lines (costs) in the small font.
    const bool isOp = category_ != adj::NodeCategory::Input && category_ != adj::NodeCategory::Parameter &&
                      category_ != adj::NodeCategory::Constant && category_ != adj::NodeCategory::Output;
    const bool small = category_ == adj::NodeCategory::Constant;
    struct Line {
        QString text;
        QFont font;
        QColor colour;
    };
    std::vector<Line> lines;
    for (qsizetype i = 0; i < lines_.size(); ++i) {
        if (small) lines.push_back({lines_[i], graphSmallFont(), kText});
        else if (isOp && i == 0) lines.push_back({lines_[i], makeFont(kNodePixelSize, true), kText});
        else if (i >= (isOp ? 2 : 1)) lines.push_back({lines_[i], graphSmallFont(), kMutedText});
        else lines.push_back({lines_[i], graphNodeFont(), kText});
    }
    double width = 0, height = 0;
    for (const Line& l : lines) {
        width = std::max(width, QFontMetricsF(l.font).horizontalAdvance(l.text));
        height += l.font.pixelSize() * kLineSpacing;
    }
    const double room = box_.width() - (category_ == adj::NodeCategory::Input ? 16 : 8);
    painter->save();
    if (width > room && width > 0) {
        const double s = room / width;
        painter->scale(s, s);
        width *= 1 / s;
    }
    double y = -height / 2;
    for (const Line& l : lines) {
        const double h = l.font.pixelSize() * kLineSpacing;
        painter->setFont(l.font);
        painter->setPen(l.colour);
        const double w = std::max(width, QFontMetricsF(l.font).horizontalAdvance(l.text)) + 4;
        painter->drawText(QRectF(-w / 2, y, w, h), Qt::AlignCenter, l.text);
        y += h;
    }
    painter->restore();

    painter->setPen(QPen(border_.darker(gPresentation ? 170 : 120), 1.0 * thick));
    painter->setBrush(kPortFill);
    for (int i = 0; i < inputPorts_; ++i) painter->drawEllipse(inputPortPos(i), kPortRadius, kPortRadius);
    painter->setBrush(border_);
    for (int k = 0; k < outputPorts_; ++k) painter->drawEllipse(outputPortPos(k), kPortRadius, kPortRadius);

    if (collapsedGroup_) {
        // The expand mark (a boxed plus) in the top left corner: double-click expands.
        const QRectF mark(box_.left() + 5, box_.top() + 5, 10, 10);
        painter->setPen(QPen(border_, 1.2 * thick));
        painter->setBrush(Qt::white);
        painter->drawRect(mark);
        painter->drawLine(QPointF(mark.left() + 2.5, mark.center().y()), QPointF(mark.right() - 2.5, mark.center().y()));
        painter->drawLine(QPointF(mark.center().x(), mark.top() + 2.5), QPointF(mark.center().x(), mark.bottom() - 2.5));
    }

    if (!problem_.isEmpty()) {
        const QPointF c(box_.right() - 1, box_.top() + 1);
        const double r = 7;
        painter->setPen(QPen(Qt::white, 1.5));
        painter->setBrush(kProblem);
        painter->drawEllipse(c, r, r);
        QFont f = makeFont(11, true);
        painter->setFont(f);
        painter->setPen(Qt::white);
        painter->drawText(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), Qt::AlignCenter, QStringLiteral("!"));
    }
}

void GraphNodeItem::hoverEnterEvent(QGraphicsSceneHoverEvent* event) {
    hovered_ = true;
    update();
    QGraphicsItem::hoverEnterEvent(event);
}

void GraphNodeItem::hoverLeaveEvent(QGraphicsSceneHoverEvent* event) {
    hovered_ = false;
    update();
    QGraphicsItem::hoverLeaveEvent(event);
}

// ---------------------------------------------------------------------------------------------

GraphEdgeItem::GraphEdgeItem(const adj::EdgeLayout& layout)
    : from_(layout.from), to_(layout.to), toIndex_(layout.toIndex), fromBox_(layout.fromBox), toBox_(layout.toBox), label_(QString::fromStdString(layout.label)) {
    QPainterPath path;
    const auto& pts = layout.points;
    if (!pts.empty()) {
        path.moveTo(pts[0].first, pts[0].second);
        std::size_t i = 1;
        for (; i + 2 < pts.size(); i += 3)
            path.cubicTo(pts[i].first, pts[i].second, pts[i + 1].first, pts[i + 1].second, pts[i + 2].first,
                         pts[i + 2].second);
        for (; i < pts.size(); ++i) path.lineTo(pts[i].first, pts[i].second);
    }
    QPolygonF arrow;
    if (layout.hasArrow && !pts.empty()) {
        const QPointF tip(layout.arrowX, layout.arrowY);
        const QPointF base(pts.back().first, pts.back().second);
        const QPointF d = tip - base;
        const double len = std::hypot(d.x(), d.y());
        if (len > 1e-3) {
            const QPointF n(-d.y() / len, d.x() / len);
            const double half = std::max(2.5, len * 0.36);
            arrow << tip << base + n * half << base - n * half;
        }
    }
    QPointF at(layout.labelX, layout.labelY);
    if (at.isNull() && !path.isEmpty()) at = path.pointAtPercent(0.5) + QPointF(4, 0);
    setGeometry(std::move(path), std::move(arrow), at);
    setZValue(0);
    setAcceptHoverEvents(true);
}

void GraphEdgeItem::setGeometry(QPainterPath path, QPolygonF arrow, QPointF labelAt) {
    prepareGeometryChange();
    path_ = std::move(path);
    ends_ = path_.elementCount() ? QLineF(path_.elementAt(0), path_.elementAt(path_.elementCount() - 1)) : QLineF();
    arrow_ = std::move(arrow);
    labelRect_ = {};
    labelPath_ = {};
    if (!label_.isEmpty()) {
        const QFontMetricsF fm(graphEdgeFont());
        const double w = fm.horizontalAdvance(label_) + 6, h = fm.height() + 2;
        labelRect_ = QRectF(labelAt.x() - w / 2, labelAt.y() - h / 2, w, h);
        labelPath_.addText(labelAt.x() - fm.horizontalAdvance(label_) / 2, labelAt.y() + (fm.ascent() - fm.descent()) / 2,
                           graphEdgeFont(), label_);
    }
    bounds_ = path_.boundingRect().united(arrow_.boundingRect()).united(labelRect_).adjusted(-3, -3, 3, 3);
    update();
}

void GraphEdgeItem::reroute(const QPointF& tail, const QPointF& head) {
    constexpr double kArrow = 7;
    const QPointF base = head - QPointF(0, kArrow);
    const double bend = std::max(20.0, std::abs(base.y() - tail.y()) * 0.5);
    QPainterPath path(tail);
    path.cubicTo(tail + QPointF(0, bend), base - QPointF(0, bend), base);
    QPolygonF arrow;
    arrow << head << base + QPointF(-kArrow * 0.45, 0) << base + QPointF(kArrow * 0.45, 0);
    const QPointF labelAt = path.pointAtPercent(0.5) + QPointF(4 + labelRect_.width() / 2, 0);
    setGeometry(std::move(path), std::move(arrow), labelAt);
}

QRectF GraphEdgeItem::boundingRect() const { return bounds_; }

QPainterPath GraphEdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(8);
    QPainterPath s = stroker.createStroke(path_);
    s.addPolygon(arrow_);
    if (!labelRect_.isNull()) s.addRect(labelRect_);
    return s;
}

void GraphEdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem*, QWidget*) {
    const QColor edgeColour = ::edgeColour();
    if (QStyleOptionGraphicsItem::levelOfDetailFromTransform(painter->worldTransform()) < GraphNodeItem::kDetailedAbove) {
        // too small to read: a hairline, no arrowhead, no label
        painter->setPen(QPen(edgeColour, 0));
        painter->setBrush(Qt::NoBrush);
        painter->drawLine(ends_);
        return;
    }
    painter->setRenderHint(QPainter::Antialiasing);
    QPen pen(edgeColour, gPresentation ? 2.4 : 1.2);
    pen.setCapStyle(Qt::RoundCap);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path_);
    if (!arrow_.isEmpty()) {
        painter->setPen(QPen(edgeColour, 1.0));
        painter->setBrush(edgeColour);
        painter->drawPolygon(arrow_);
    }
    if (!label_.isEmpty()) {
        // A halo in the background colour keeps the label readable where an edge passes by.
        QColor background = graphBackgroundColour();
        background.setAlpha(230);
        QPen halo(background, 3.0);
        halo.setJoinStyle(Qt::RoundJoin);
        painter->strokePath(labelPath_, halo);
        painter->fillPath(labelPath_, edgeTextColour());
    }
}

// ---------------------------------------------------------------------------------------------

GraphClusterItem::GraphClusterItem(const adj::ClusterLayout& layout)
    : name_(QString::fromStdString(layout.name)),
      label_(QString::fromStdString(adj::groupLabel(layout.name))),
      frame_(layout.left, layout.top, layout.width, layout.height) {
    // nested frames: an inner one above its parent's, all below the nodes
    setZValue(-1 + 0.01 * std::min(50, int(std::count(layout.name.begin(), layout.name.end(), '/'))));
    setFlag(QGraphicsItem::ItemUsesExtendedStyleOption);  // paint() is told the exposed part
    setToolTip(QObject::tr("group <b>%1</b><br><i>double-click its title to collapse it into one node</i>")
                   .arg(name_.toHtmlEscaped()));
}

bool GraphClusterItem::titleContains(const QPointF& scenePos) const {
    const QRectF title(frame_.left() - 6, frame_.top() - 6, frame_.width() + 6, kTitleHeight + 6);
    return title.contains(mapFromScene(scenePos));
}

QRectF GraphClusterItem::boundingRect() const { return frame_.adjusted(-7, -7, 2, 2); }

void GraphClusterItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const QColor line = frameLineColour();
    if (QStyleOptionGraphicsItem::levelOfDetailFromTransform(painter->worldTransform()) < GraphNodeItem::kDetailedAbove) {
        painter->setPen(QPen(line, 0));
        painter->setBrush(Qt::NoBrush);
        painter->drawRect(frame_);
        return;
    }
    const QRectF exposed = option->exposedRect.adjusted(-4, -4, 4, 4);
    if (!exposed.contains(frame_)) {
        // a frame larger than the view (an expanded block of a big model): only the part in
        // view, as straight dashed lines; stroking the whole outline costs its full length
        const QRectF seen = frame_.intersected(exposed);
        painter->fillRect(seen, frameFillColour());
        painter->setPen(QPen(line, gPresentation ? 2.0 : 1.2, Qt::DashLine));
        if (seen.left() == frame_.left()) painter->drawLine(QLineF(seen.topLeft(), seen.bottomLeft()));
        if (seen.right() == frame_.right()) painter->drawLine(QLineF(seen.topRight(), seen.bottomRight()));
        if (seen.top() == frame_.top()) painter->drawLine(QLineF(seen.topLeft(), seen.topRight()));
        if (seen.bottom() == frame_.bottom()) painter->drawLine(QLineF(seen.bottomLeft(), seen.bottomRight()));
        if (!exposed.contains(QRectF(frame_.left(), frame_.top(), frame_.width(), kTitleHeight))) return;
    } else {
        painter->setRenderHint(QPainter::Antialiasing);
        QPen pen(line, gPresentation ? 2.0 : 1.2, Qt::DashLine);
        painter->setPen(pen);
        painter->setBrush(frameFillColour());
        painter->drawRoundedRect(frame_, 8, 8);
    }
    // Title: the name where Graphviz left room for it (centred at the top), and a collapse mark
    // (a boxed minus) on the frame's top left corner.
    painter->setFont(graphSmallFont());
    painter->setPen(frameTextColour());
    painter->drawText(QRectF(frame_.left(), frame_.top() + 2, frame_.width(), kTitleHeight - 4), Qt::AlignCenter, label_);
    const QRectF mark(frame_.left() - 5, frame_.top() - 5, 10, 10);
    painter->setPen(QPen(line.darker(130), 1.2));
    painter->setBrush(Qt::white);
    painter->drawRect(mark);
    painter->drawLine(QPointF(mark.left() + 2.5, mark.center().y()), QPointF(mark.right() - 2.5, mark.center().y()));
}
