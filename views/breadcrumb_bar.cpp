#include "breadcrumb_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

BreadcrumbBar::BreadcrumbBar(QWidget* parent) : QWidget(parent), row_(new QHBoxLayout(this)) {
    setObjectName(QStringLiteral("breadcrumbs"));
    row_->setContentsMargins(6, 2, 6, 2);
    row_->setSpacing(2);
    row_->addStretch(1);
    setToolTip(tr("Where you are in the model's modules: click a level to go back out to it "
                  "(Alt+Up: one level out); double-click a box to go in"));
    setPath(QString());
}

void BreadcrumbBar::setPath(const QString& groupPath) {
    QStringList parts = groupPath.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    const QString normal = parts.join(QLatin1Char('/'));
    if (normal == path_ && !crumbs_.empty()) return;
    path_ = normal;
    for (QToolButton* b : crumbs_) delete b;
    for (QWidget* w : separators_) delete w;
    crumbs_.clear();
    separators_.clear();
    QStringList labels{tr("Graph")};
    labels += parts;
    QString prefix;
    for (int i = 0; i < labels.size(); ++i) {
        if (i > 0) {
            auto* sep = new QLabel(QStringLiteral("\u203a"), this);
            sep->setEnabled(false);
            row_->insertWidget(row_->count() - 1, sep);
            separators_.push_back(sep);
            prefix = prefix.isEmpty() ? parts[i - 1] : prefix + QLatin1Char('/') + parts[i - 1];
        }
        auto* crumb = new QToolButton(this);
        crumb->setAutoRaise(true);
        crumb->setText(labels[i]);
        crumb->setToolTip(i == 0 ? tr("The whole graph") : prefix);
        const bool here = i == labels.size() - 1;
        if (here) {
            QFont f = crumb->font();
            f.setBold(true);
            crumb->setFont(f);
        }
        const QString target = i == 0 ? QString() : prefix;
        connect(crumb, &QToolButton::clicked, this, [this, target] { Q_EMIT crumbClicked(target); });
        row_->insertWidget(row_->count() - 1, crumb);
        crumbs_.push_back(crumb);
    }
}
