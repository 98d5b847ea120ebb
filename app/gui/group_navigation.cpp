// Moving in and out of a model's groups on the canvas: double-clicking a box goes in (expands
// it), a breadcrumb or Alt+Up goes out (collapses the group one was in and selects its box).
// The breadcrumbs above the canvas say where one is. (MainWindow members; main_window.h.)
#include <QStatusBar>

#include "breadcrumb_bar.h"
#include "graph_document.h"
#include "graph_items.h"
#include "graph_scene.h"
#include "graph_view.h"
#include "ir/group_tree.h"
#include "main_window.h"

namespace {
QString parentPath(const QString& path) {
    const int slash = path.lastIndexOf(QLatin1Char('/'));
    return slash < 0 ? QString() : path.left(slash);
}
}  // namespace

QString MainWindow::currentGroupPath() const {
    const std::vector<adj::NodeId> selected = view_->graphScene()->selectedNodeIds();
    if (!selected.empty() && doc_->graph().contains(selected.front())) {
        const adj::NodeId id = selected.front();
        const QString drawn = doc_->drawnGroupOf(id);
        // a collapsed box is drawn in its parent's frame; a node in its own group's
        if (!drawn.isEmpty() && doc_->isGroupCollapsed(drawn)) return parentPath(drawn);
        return doc_->groupOf(id);
    }
    // (the group gone into may have been removed or renamed since)
    QString path = enteredGroup_;
    while (!path.isEmpty() && doc_->groupMembers(path).empty()) path = parentPath(path);
    return path;
}

void MainWindow::updateBreadcrumbs() {
    const bool grouped = !doc_->groups().isEmpty();
    breadcrumbs_->setVisible(grouped);
    if (grouped) breadcrumbs_->setPath(currentGroupPath());
}

void MainWindow::toggleGroup(const QString& group) {
    const bool collapse = !doc_->isGroupCollapsed(group);
    enteredGroup_ = collapse ? parentPath(group) : group;
    doc_->setGroupCollapsed(group, collapse);
    statusBar()->showMessage(collapse ? tr("Collapsed %1 (double-click it to go in)").arg(group)
                                      : tr("In %1 (double-click its title, or Alt+Up, to go out)").arg(group),
                             4000);
    updateBreadcrumbs();
}

void MainWindow::goOutTo(const QString& groupPath) {
    const QString here = currentGroupPath();
    if (groupPath == here) {
        // "you are here": the group's frame (or the whole drawing) in view
        QRectF frame;
        for (const GraphClusterItem* c : view_->graphScene()->clusterItems())
            if (c->name() == groupPath) frame = c->sceneBoundingRect();
        if (groupPath.isEmpty()) view_->fitToWindow();
        else if (!frame.isNull()) view_->bringIntoView(frame);
        return;
    }
    if (!adj::isWithinGroup(here.toStdString(), groupPath.toStdString()) && !groupPath.isEmpty()) return;
    // the group one level below the target on the way to here
    const QStringList parts = here.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    const int depth = groupPath.isEmpty() ? 0 : int(groupPath.split(QLatin1Char('/'), Qt::SkipEmptyParts).size());
    if (depth >= parts.size()) return;
    const QString child = parts.mid(0, depth + 1).join(QLatin1Char('/'));
    const std::vector<adj::NodeId> members = doc_->groupMembers(child);
    if (members.empty()) return;
    enteredGroup_ = groupPath;
    view_->graphScene()->clearSelection();
    doc_->setGroupCollapsed(child, true);
    // once drawn: its box selected and in view (the breadcrumbs then read the target)
    centreAfterLayout_ = members.front();
    statusBar()->showMessage(tr("Out of %1 (double-click its box to go back in)").arg(child), 4000);
    updateBreadcrumbs();
}

void MainWindow::goOutOneLevel() {
    const QString here = currentGroupPath();
    if (!here.isEmpty()) goOutTo(parentPath(here));
}
