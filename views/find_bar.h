#pragma once
// FindBar: a one-line search for a node by name, op or group (Ctrl+F), completing from the
// graph's node names. Enter asks for the node (findRequested); Escape closes the bar.
#include <QStringList>
#include <QWidget>

class QCompleter;
class QLabel;
class QLineEdit;
class QStringListModel;

class FindBar : public QWidget {
    Q_OBJECT
public:
    explicit FindBar(QWidget* parent = nullptr);

    QLineEdit* field() const { return field_; }
    /// The names the field completes from.
    void setNames(const QStringList& names);
    /// Shows "not found" (or clears it with an empty text).
    void setStatus(const QString& text);

public Q_SLOTS:
    /// Shows the bar with the field focused and its text selected.
    void activate();

Q_SIGNALS:
    void findRequested(const QString& name);

protected:
    void keyPressEvent(QKeyEvent* event) override;

private:
    QLineEdit* field_;
    QLabel* status_;
    QStringListModel* names_;
    QCompleter* completer_;
};
