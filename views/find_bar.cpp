#include "find_bar.h"

#include <QCompleter>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QStringListModel>
#include <QToolButton>

FindBar::FindBar(QWidget* parent)
    : QWidget(parent), field_(new QLineEdit(this)), status_(new QLabel(this)), names_(new QStringListModel(this)),
      completer_(new QCompleter(names_, this)) {
    completer_->setCaseSensitivity(Qt::CaseInsensitive);
    completer_->setFilterMode(Qt::MatchContains);
    field_->setCompleter(completer_);
    field_->setPlaceholderText(tr("Name, op or group (Enter again: next)"));
    field_->setClearButtonEnabled(true);
    auto* close = new QToolButton(this);
    close->setText(QStringLiteral("\u2715"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Close (Esc)"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 2, 6, 2);
    layout->addWidget(new QLabel(tr("Find:"), this));
    layout->addWidget(field_, 1);
    layout->addWidget(status_);
    layout->addWidget(close);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    connect(field_, &QLineEdit::returnPressed, this, [this] {
        const QString name = field_->text().trimmed();
        if (!name.isEmpty()) Q_EMIT findRequested(name);
    });
    connect(completer_, qOverload<const QString&>(&QCompleter::activated), this,
            [this](const QString& name) { Q_EMIT findRequested(name); });
}

void FindBar::setNames(const QStringList& names) { names_->setStringList(names); }

void FindBar::setStatus(const QString& text) { status_->setText(text); }

void FindBar::activate() {
    show();
    field_->setFocus(Qt::ShortcutFocusReason);
    field_->selectAll();
}

void FindBar::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape) {
        hide();
        event->accept();
        return;
    }
    QWidget::keyPressEvent(event);
}
