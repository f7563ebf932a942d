#pragma once
// Drawing an instrument's chart with wxGraphicsContext (anti-aliased): the same functions draw
// on screen (OutcomeChartPanel) and into the exported report (a cairo PNG or PDF surface), so
// the report shows exactly what the clinician saw. Views only: wx types are fine here.

#include <wx/font.h>
#include <wx/panel.h>

#include "tandem/clinician/outcome_presenter.h"

class wxGraphicsContext;

namespace tandem::clinician::views {

/// The fonts a chart is drawn with; the report passes its own so text scales with the page.
struct ChartFonts {
    wxFont text;      ///< ticks, band titles, score labels
    wxFont headline;  ///< the outcome line above the chart (bold)
};

/// Fonts from a base font (the window's, or a fixed one for the report). GUI thread.
ChartFonts chart_fonts(const wxFont& base);

/// Draws the outcome headline at (x, y), tone as colour AND words (the words are in the text). GUI thread.
void draw_headline(wxGraphicsContext& gc, const InstrumentChart& chart, const ChartFonts& fonts, double x, double y);

/// Draws the plot of `chart` as laid out by `geometry` (positions relative to (x, y)): band
/// shading with titles, grid and ticks, the line and its points with their scores. GUI thread.
void draw_chart(wxGraphicsContext& gc, const InstrumentChart& chart, const ChartGeometry& geometry,
                const ChartFonts& fonts, double x, double y);

/// Height of the headline line for these fonts. GUI thread.
int headline_height(const ChartFonts& fonts);

/// One instrument's chart on screen: the headline above, the plot below; hovering a point shows
/// its date, score, band and every item's answer. Redraws at any size. GUI thread.
class OutcomeChartPanel : public wxPanel {
public:
    OutcomeChartPanel(wxWindow* parent, InstrumentChart chart);
    /// Replaces what is drawn.
    void set_chart(InstrumentChart chart);
    const InstrumentChart& chart() const { return chart_; }
    /// The tooltip text for the point under (x, y) in window coordinates, empty when none (tests).
    std::string tooltip_at(int x, int y) const;
    /// Where point i is drawn, in window coordinates (tests hover it).
    wxPoint point_position(std::size_t i) const;

private:
    void on_paint(wxPaintEvent&);
    void on_motion(wxMouseEvent&);
    ChartGeometry geometry() const;

    InstrumentChart chart_;
    std::string shown_tip_;
};

}  // namespace tandem::clinician::views
