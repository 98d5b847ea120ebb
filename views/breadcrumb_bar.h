#pragma once
// BreadcrumbBar: where the canvas is in a model's group hierarchy (ir/group_tree.h), as a row of
// crumbs above it: "Graph › layer1 › layer1.0". Clicking a crumb asks to go out to that level
// (crumbClicked); the last crumb is where one is. Hidden while the graph has no groups.
#include <QString>
#include <QWidget>
#include <vector>

class QHBoxLayout;
class QToolButton;

class BreadcrumbBar : public QWidget {
    Q_OBJECT
public:
    explicit BreadcrumbBar(QWidget* parent = nullptr);

    /// Shows the group path "a/b/c" as Graph › a › b › c; "" shows the root alone.
    void setPath(const QString& groupPath);
    QString path() const { return path_; }
    /// The crumbs, the root first (tests click them).
    const std::vector<QToolButton*>& crumbs() const { return crumbs_; }

Q_SIGNALS:
    /// A crumb was clicked: the group path it stands for ("" for the whole graph).
    void crumbClicked(const QString& groupPath);

private:
    QHBoxLayout* row_;
    std::vector<QToolButton*> crumbs_;
    std::vector<QWidget*> separators_;
    QString path_;
};
