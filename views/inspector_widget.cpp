#include "inspector_widget.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QVBoxLayout>
#include <cmath>

#include "io/graphviz.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"

using namespace adj;

namespace {

QString qstr(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QStringList listItems(QString text) {
    text = text.trimmed();
    if (text.startsWith(QLatin1Char('[')) && text.endsWith(QLatin1Char(']'))) text = text.mid(1, text.size() - 2);
    QStringList items;
    for (const QString& part : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts)) items << part;
    return items;
}

QString valueText(const AttrValue& v) {
    if (auto s = std::get_if<std::string>(&v)) return QString::fromStdString(*s);
    return QString::fromStdString(attrValueToString(v));
}

}  // namespace

InspectorWidget::InspectorWidget(QWidget* parent)
    : QWidget(parent), title_(new QLabel(this)), name_(new QLineEdit(this)), op_(new QLabel(this)), inputs_(new QLabel(this)),
      outputs_(new QLabel(this)), problem_(new QLabel(this)), attrBox_(new QWidget(this)), attrForm_(new QFormLayout(attrBox_)),
      message_(new QLabel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    QFont f = title_->font();
    f.setBold(true);
    title_->setFont(f);
    layout->addWidget(title_);
    auto* form = new QFormLayout;
    form->addRow(tr("Name"), name_);
    form->addRow(tr("Op"), op_);
    form->addRow(tr("Inputs"), inputs_);
    form->addRow(tr("Outputs"), outputs_);
    inputs_->setWordWrap(true);
    outputs_->setWordWrap(true);
    inputs_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outputs_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addLayout(form);
    attrForm_->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(attrBox_);
    problem_->setWordWrap(true);
    problem_->setStyleSheet(QStringLiteral("color: #b01010;"));
    message_->setWordWrap(true);
    message_->setStyleSheet(QStringLiteral("color: #b01010; font-weight: bold;"));
    layout->addWidget(problem_);
    layout->addWidget(message_);
    layout->addStretch(1);
    connect(name_, &QLineEdit::editingFinished, this, &InspectorWidget::commitName);
    clear();
}

void InspectorWidget::clear() {
    node_ = kNoNode;
    title_->setText(tr("No node selected"));
    name_->clear();
    name_->setEnabled(false);
    op_->clear();
    inputs_->clear();
    outputs_->clear();
    problem_->clear();
    problem_->hide();
    message_->clear();
    message_->hide();
    while (attrForm_->rowCount() > 0) attrForm_->removeRow(0);
    shape_ = nullptr;
}

void InspectorWidget::showNode(const Graph& graph, NodeId id, const QString& problem) {
    const NodeId previous = node_;
    const QString previousMessage = message_->text();
    clear();
    if (!graph.contains(id)) return;
    node_ = id;
    copy_ = graph.node(id);
    const OpInfo& info = opInfo(copy_.op);
    title_->setText(tr("Node %1").arg(QString::fromStdString(copy_.name)));
    name_->setEnabled(true);
    name_->setText(QString::fromStdString(copy_.name));
    op_->setText(qstr(info.name));

    QStringList ins;
    inputTypes_.clear();
    inputTypesKnown_ = true;
    for (std::size_t i = 0; i < copy_.inputs.size(); ++i) {
        const ValueRef v = copy_.inputs[i];
        if (!graph.contains(v.node)) {
            ins << tr("%1: (not connected)").arg(i);
            inputTypesKnown_ = false;
            continue;
        }
        QString text = QStringLiteral("%1: %2").arg(i).arg(QString::fromStdString(graph.valueName(v)));
        if (graph.hasType(v)) {
            text += QStringLiteral(" [%1]").arg(QString::fromStdString(shapeLabel(graph.type(v).shape)));
            inputTypes_.push_back(graph.type(v));
        } else {
            inputTypesKnown_ = false;
        }
        ins << text;
    }
    if (int(copy_.inputs.size()) < info.minInputs) {
        ins << tr("needs %n input(s)", nullptr, info.minInputs);
        inputTypesKnown_ = false;
    }
    inputs_->setText(ins.isEmpty() ? tr("none") : ins.join(QLatin1Char('\n')));
    QStringList outs;
    for (const ValueType& t : copy_.outputs) outs << QString::fromStdString(shapeLabel(t.shape));
    outputs_->setText(outs.isEmpty() ? tr("unknown (see problems)") : outs.join(QStringLiteral(", ")));

    if (isSource(copy_.op)) {
        shape_ = new QLineEdit(attrBox_);
        const Shape s = copy_.op == Op::Input ? copy_.declaredShape : copy_.value.shape();
        QStringList dims;
        for (auto d : s) dims << QString::number(d);
        shape_->setText(QStringLiteral("[%1]").arg(dims.join(QStringLiteral(", "))));
        shape_->setToolTip(copy_.op == Op::Input ? tr("Declared shape of the input")
                                                 : tr("Shape of the value (a new shape is filled with zeros)"));
        attrForm_->addRow(tr("Shape"), shape_);
        connect(shape_, &QLineEdit::editingFinished, this, &InspectorWidget::commitShape);
    }
    for (const AttrSpec& spec : info.attrs) {
        auto* field = new QLineEdit(attrBox_);
        field->setObjectName(QString::fromStdString(spec.name));
        const auto it = copy_.attrs.map().find(spec.name);
        if (it != copy_.attrs.map().end()) field->setText(valueText(it->second));
        field->setPlaceholderText(spec.required ? tr("required") : QString::fromStdString(spec.defaultText));
        field->setToolTip(tr("%1 (%2)").arg(QString::fromStdString(spec.name), qstr(attrTypeName(spec.type))));
        const QString name = QString::fromStdString(spec.name);
        connect(field, &QLineEdit::editingFinished, this, [this, name] { commitAttribute(name); });
        attrForm_->addRow(name, field);
    }
    if (!problem.isEmpty()) {
        problem_->setText(problem);
        problem_->show();
    }
    if (previous == id && !previousMessage.isEmpty()) refuse(previousMessage);
}

QLineEdit* InspectorWidget::attributeField(const QString& name) const { return attrBox_->findChild<QLineEdit*>(name); }

QString InspectorWidget::message() const { return message_->text(); }

void InspectorWidget::refuse(const QString& message) {
    message_->setText(message);
    message_->setVisible(!message.isEmpty());
}

void InspectorWidget::commitName() {
    if (node_ == kNoNode) return;
    const QString text = name_->text().trimmed();
    if (text == QString::fromStdString(copy_.name)) return;
    if (text.isEmpty()) {
        refuse(tr("A node needs a name."));
        name_->setText(QString::fromStdString(copy_.name));
        return;
    }
    refuse({});
    Q_EMIT renameRequested(node_, text);
}

void InspectorWidget::commitShape() {
    if (node_ == kNoNode || !shape_) return;
    QString error;
    const auto shape = parseShape(shape_->text(), &error);
    if (!shape) {
        refuse(tr("shape: %1").arg(error));
        return;
    }
    const Shape current = copy_.op == Op::Input ? copy_.declaredShape : copy_.value.shape();
    refuse({});
    if (*shape != current) Q_EMIT shapeRequested(node_, *shape);
}

void InspectorWidget::commitAttribute(const QString& name) {
    if (node_ == kNoNode) return;
    QLineEdit* field = attributeField(name);
    if (!field) return;
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& s : opInfo(copy_.op).attrs)
        if (QString::fromStdString(s.name) == name) spec = &s;
    if (!spec) return;
    const auto current = copy_.attrs.map().find(spec->name);
    const QString text = field->text().trimmed();
    if (text.isEmpty()) {
        if (current == copy_.attrs.map().end()) return;
        if (spec->required) {
            refuse(tr("%1: required by %2, cannot be cleared").arg(name, qstr(opName(copy_.op))));
            return;
        }
        refuse({});
        Q_EMIT attributeClearRequested(node_, name);
        return;
    }
    QString error;
    const auto value = parseAttribute(*spec, text, &error);
    if (!value) {
        refuse(QStringLiteral("%1: %2").arg(name, error));
        return;
    }
    if (current != copy_.attrs.map().end() && current->second == *value) {
        refuse({});
        return;
    }
    Node trial = copy_;
    trial.attrs.set(spec->name, *value);
    for (const std::string& p : checkAttributes(trial))
        if (p.find("'" + spec->name + "'") != std::string::npos) {
            refuse(QString::fromStdString(p));
            return;
        }
    if (inputTypesKnown_) {
        try {
            (void)inferNodeTypes(trial, inputTypes_);
        } catch (const std::exception& e) {
            refuse(tr("%1 = %2 does not fit the inputs: %3").arg(name, text, QString::fromStdString(e.what())));
            return;
        }
    }
    refuse({});
    Q_EMIT attributeRequested(node_, name, *value);
}

std::optional<AttrValue> InspectorWidget::parseAttribute(const AttrSpec& spec, const QString& text, QString* error) {
    auto fail = [&](const QString& why) -> std::optional<AttrValue> {
        if (error) *error = why;
        return std::nullopt;
    };
    const QString t = text.trimmed();
    switch (spec.type) {
    case AttrType::Int: {
        bool ok = false;
        const qlonglong v = t.toLongLong(&ok);
        if (!ok) return fail(tr("expected an integer, got '%1'").arg(t));
        return AttrValue(std::int64_t(v));
    }
    case AttrType::Float: {
        bool ok = false;
        const double v = t.toDouble(&ok);
        if (!ok || !std::isfinite(v)) return fail(tr("expected a number, got '%1'").arg(t));
        return AttrValue(v);
    }
    case AttrType::Ints: {
        std::vector<std::int64_t> out;
        for (const QString& item : listItems(t)) {
            bool ok = false;
            const qlonglong v = item.toLongLong(&ok);
            if (!ok) return fail(tr("expected a list of integers like [0, 1], got '%1'").arg(item));
            out.push_back(v);
        }
        return AttrValue(out);
    }
    case AttrType::Floats: {
        std::vector<double> out;
        for (const QString& item : listItems(t)) {
            bool ok = false;
            const double v = item.toDouble(&ok);
            if (!ok || !std::isfinite(v)) return fail(tr("expected a list of numbers like [0.5, 1], got '%1'").arg(item));
            out.push_back(v);
        }
        return AttrValue(out);
    }
    case AttrType::String: {
        QString s = t;
        if (s.size() >= 2 && s.startsWith(QLatin1Char('"')) && s.endsWith(QLatin1Char('"'))) s = s.mid(1, s.size() - 2);
        return AttrValue(s.toStdString());
    }
    }
    return fail(tr("unknown attribute type"));
}

std::optional<Shape> InspectorWidget::parseShape(const QString& text, QString* error) {
    Shape shape;
    for (const QString& item : listItems(text)) {
        bool ok = false;
        const qlonglong v = item.toLongLong(&ok);
        if (!ok || v <= 0 || v > (qlonglong(1) << 31)) {
            if (error) *error = tr("dimensions must be positive integers, got '%1'").arg(item);
            return std::nullopt;
        }
        shape.push_back(v);
    }
    if (!shapeIsSane(shape)) {
        if (error) *error = tr("the shape is too large");
        return std::nullopt;
    }
    return shape;
}
