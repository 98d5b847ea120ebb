#pragma once
// InspectorWidget: the selected node's name, op, inputs, output shapes, source shape and
// attributes. Edits are validated against the op's schema (ops.def) before they leave the
// widget: a value of the wrong type, an unknown or missing required attribute, or a malformed
// shape is refused with a message next to the field and nothing is requested. Valid edits are
// requests (signals) for the document to carry out; the widget itself changes nothing.
#include <QString>
#include <QWidget>
#include <optional>

#include "ir/graph.h"

class QFormLayout;
class QLabel;
class QLineEdit;

class InspectorWidget : public QWidget {
    Q_OBJECT
public:
    explicit InspectorWidget(QWidget* parent = nullptr);

    /// Shows `id` of `graph` (copies what it shows); `problem` is the verifier's message, if any.
    void showNode(const adj::Graph& graph, adj::NodeId id, const QString& problem = {});
    void clear();
    adj::NodeId nodeId() const { return node_; }

    QLineEdit* nameField() const { return name_; }
    /// The source shape field (Input, Parameter, Constant), nullptr for other nodes.
    QLineEdit* shapeField() const { return shape_; }
    /// The field of an attribute of the shown op, nullptr when it has none of that name.
    QLineEdit* attributeField(const QString& name) const;
    /// The last refusal ("axis: expected an integer, got 'x'"), empty after a valid edit.
    QString message() const;

    /// Parses an attribute's text for its schema type: 3; 0.5; 1, 2 or [1, 2]; text.
    /// Returns nothing, with the reason in *error, when the text does not fit the type.
    static std::optional<adj::AttrValue> parseAttribute(const adj::AttrSpec& spec, const QString& text, QString* error);
    /// Parses "4, 8" or "[4, 8]" (or "" / "[]" for a scalar); dimensions must be positive.
    static std::optional<adj::Shape> parseShape(const QString& text, QString* error);

Q_SIGNALS:
    void renameRequested(adj::NodeId node, const QString& name);
    void attributeRequested(adj::NodeId node, const QString& name, const adj::AttrValue& value);
    void attributeClearRequested(adj::NodeId node, const QString& name);
    void shapeRequested(adj::NodeId node, const adj::Shape& shape);

public:
    /// Shows a refusal next to the fields (an edit the document declined); empty clears it.
    void refuse(const QString& message);

private:
    void commitName();
    void commitShape();
    void commitAttribute(const QString& name);

    adj::NodeId node_ = adj::kNoNode;
    adj::Node copy_;  // the node as shown (for validation)
    std::vector<adj::ValueType> inputTypes_;
    bool inputTypesKnown_ = false;
    std::vector<std::string> takenNames_;
    QLabel* title_;
    QLineEdit* name_;
    QLabel* op_;
    QLabel* inputs_;
    QLabel* outputs_;
    QLabel* problem_;
    QLineEdit* shape_ = nullptr;
    QWidget* attrBox_;
    QFormLayout* attrForm_;
    QLabel* message_;
};
