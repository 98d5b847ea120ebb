#pragma once
// FusionPanel: the graph before elementwise fusion with each fusion group drawn as a coloured
// translucent hull around its nodes; selecting a group (its hull or the list) shows the kernel
// generated for it (the CPU's fused loop, and the Vulkan backend's GLSL compute shader) and its
// cost fused against unfused. The reasons neighbours were not fused
// are listed under the source.
//
// The analysis runs off the GUI thread: request() analyses on a worker and shows the groups when
// they arrive (analysisChanged); a newer request drops an older one's result, and meanwhile the
// panel says "computing…" and keeps its previous drawing. setGraph() is the synchronous form.
#include <QWidget>
#include <memory>

#include "async_analysis.h"
#include "fusion_panel_model.h"

class CanvasOverlays;
class GraphView;
class QLabel;
class QListWidget;
class QPlainTextEdit;

class FusionPanel : public QWidget {
    Q_OBJECT
public:
    explicit FusionPanel(QWidget* parent = nullptr);

    /// Analyses `graph` and shows its groups; false (with the message) on failure.
    bool setGraph(const adj::Graph& graph, QString* error = nullptr);
    /// Analyses `graph` on a worker; a failure clears the panel and emits failed.
    void request(std::shared_ptr<const adj::Graph> graph);
    void selectGroup(int index);

    bool isComputing() const { return compute_.isBusy(); }
    /// Results applied so far (tests: stale results are never applied).
    int appliedCount() const { return compute_.appliedCount(); }

    int groupCount() const { return analysis_ ? int(analysis_->groups.size()) : 0; }
    int selectedGroup() const;
    const FusionAnalysis* analysis() const { return analysis_.get(); }
    GraphView* view() const { return view_; }
    CanvasOverlays* overlays() const { return overlays_; }
    /// The CPU kernel (readable C++-like text) and the generated Vulkan GLSL of the selection.
    QPlainTextEdit* sourceView() const { return source_; }
    QPlainTextEdit* glslView() const { return glsl_; }
    QLabel* costLabel() const { return cost_; }
    QListWidget* groupList() const { return list_; }

    /// The colour of group `index` (hull and list swatch).
    static QColor groupColour(int index);

Q_SIGNALS:
    /// A new analysis is shown (or none, after a failure).
    void analysisChanged();
    void failed(const QString& message);

private:
    /// Scrolls the canvas so that group `index`'s hull is in view (when drawn).
    void scrollToGroup(int index);
    void setAnalysis(FusionAnalysis&& analysis);
    void showFailure(const QString& message);
    void setBusy(bool busy);

    std::unique_ptr<FusionAnalysis> analysis_;
    GraphView* view_;
    CanvasOverlays* overlays_;
    QListWidget* list_;
    QPlainTextEdit* source_;
    QPlainTextEdit* glsl_;
    QLabel* cost_;
    QLabel* notes_;
    QLabel* busy_;
    AsyncAnalysis<FusionAnalysis> compute_;
};
