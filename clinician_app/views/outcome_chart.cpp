#include "outcome_chart.h"

#include <memory>

#include <wx/dcbuffer.h>
#include <wx/brush.h>
#include <wx/graphics.h>
#include <wx/pen.h>

#include "view_util.h"

namespace tandem::clinician::views {
namespace {

const wxColour kLine(32, 74, 135);
const wxColour kGrid(0, 0, 0, 28);
const wxColour kFrame(150, 150, 150);
const wxColour kTickText(80, 80, 80);
const wxColour kBandText(105, 105, 105);

wxColour tone_colour(OutcomeTone tone) {
    switch (tone) {
        case OutcomeTone::improving: return wxColour(20, 110, 50);
        case OutcomeTone::worsening: return wxColour(170, 30, 30);
        case OutcomeTone::neutral: break;
    }
    return wxColour(30, 30, 30);
}

}  // namespace

ChartFonts chart_fonts(const wxFont& base) {
    ChartFonts f{base, base};
    f.text.SetPointSize(std::max(7, base.GetPointSize() - 1));
    f.headline.SetWeight(wxFONTWEIGHT_BOLD);
    f.headline.SetPointSize(base.GetPointSize() + 1);
    return f;
}

int headline_height(const ChartFonts& fonts) {
    // Point size to pixels at 96 dpi, plus a little air below.
    return static_cast<int>(fonts.headline.GetPointSize() * 96.0 / 72.0 * 1.25) + 8;
}

void draw_headline(wxGraphicsContext& gc, const InstrumentChart& chart, const ChartFonts& fonts, double x, double y) {
    gc.SetFont(fonts.headline, tone_colour(chart.tone));
    gc.DrawText(u8(chart.headline), x, y);
}

void draw_chart(wxGraphicsContext& gc, const InstrumentChart& chart, const ChartGeometry& g, const ChartFonts& fonts,
                double x, double y) {
    gc.PushState();
    gc.Translate(x, y);
    const double w = g.right - g.left;
    const double h = g.bottom - g.top;
    gc.SetPen(*wxTRANSPARENT_PEN);
    gc.SetBrush(*wxWHITE_BRUSH);
    gc.DrawRectangle(g.left, g.top, w, h);

    gc.SetFont(fonts.text, kBandText);
    for (const auto& b : g.bands) {
        gc.SetBrush(wxBrush(colour(b.fill)));
        gc.DrawRectangle(g.left, b.top, w, b.bottom - b.top);
        double tw = 0, th = 0;
        gc.GetTextExtent(u8(b.title), &tw, &th);
        // A band too thin for its title keeps its colour; its neighbours' titles still say where it is.
        if (b.bottom - b.top >= th * 0.8) gc.DrawText(u8(b.title), g.right + 6, (b.top + b.bottom - th) / 2);
    }

    gc.SetFont(fonts.text, kTickText);
    gc.SetPen(wxPen(kGrid, 1));
    for (const auto& t : g.y_ticks) {
        gc.StrokeLine(g.left, t.at, g.right, t.at);
        double tw = 0, th = 0;
        gc.GetTextExtent(u8(t.text), &tw, &th);
        gc.DrawText(u8(t.text), g.left - 6 - tw, t.at - th / 2);
    }
    gc.SetPen(wxPen(kFrame, 1));
    for (const auto& t : g.x_ticks) {
        gc.StrokeLine(t.at, g.bottom, t.at, g.bottom + 4);
        double tw = 0, th = 0;
        gc.GetTextExtent(u8(t.text), &tw, &th);
        gc.DrawText(u8(t.text), t.at - tw / 2, g.bottom + 5);
    }
    gc.SetBrush(*wxTRANSPARENT_BRUSH);
    gc.DrawRectangle(g.left, g.top, w, h);

    if (g.points.size() > 1) {
        wxGraphicsPath path = gc.CreatePath();
        path.MoveToPoint(g.points.front().x, g.points.front().y);
        for (std::size_t i = 1; i < g.points.size(); ++i) path.AddLineToPoint(g.points[i].x, g.points[i].y);
        gc.SetPen(wxPen(kLine, 2));
        gc.StrokePath(path);
    }
    constexpr double r = 4.5;
    gc.SetFont(fonts.text, wxColour(20, 20, 20));
    for (const auto& p : g.points) {
        const auto& point = chart.points[p.index];
        gc.SetPen(wxPen(kLine, 2));
        // A prorated score (missing items filled in) is hollow: an estimate, not an answer.
        gc.SetBrush(point.prorated ? *wxWHITE_BRUSH : wxBrush(kLine));
        gc.DrawEllipse(p.x - r, p.y - r, 2 * r, 2 * r);
        const wxString score = wxString::Format("%d", point.score);
        double tw = 0, th = 0;
        gc.GetTextExtent(score, &tw, &th);
        const double ty = p.y - r - th - 1 < g.top ? p.y + r + 1 : p.y - r - th - 1;
        gc.DrawText(score, p.x - tw / 2, ty);
    }
    gc.PopState();
}

OutcomeChartPanel::OutcomeChartPanel(wxWindow* parent, InstrumentChart chart)
    : wxPanel(parent, wxID_ANY), chart_(std::move(chart)) {
    SetBackgroundStyle(wxBG_STYLE_PAINT);
    SetMinSize(FromDIP(wxSize(360, 190)));
    Bind(wxEVT_PAINT, &OutcomeChartPanel::on_paint, this);
    Bind(wxEVT_MOTION, &OutcomeChartPanel::on_motion, this);
    Bind(wxEVT_SIZE, [this](wxSizeEvent& e) {
        Refresh();
        e.Skip();
    });
}

void OutcomeChartPanel::set_chart(InstrumentChart chart) {
    chart_ = std::move(chart);
    shown_tip_.clear();
    UnsetToolTip();
    Refresh();
}

ChartGeometry OutcomeChartPanel::geometry() const {
    const wxSize size = GetClientSize();
    const int head = headline_height(chart_fonts(GetFont()));
    return layout_chart(chart_, size.x, std::max(60, size.y - head));
}

std::string OutcomeChartPanel::tooltip_at(int x, int y) const {
    const int head = headline_height(chart_fonts(GetFont()));
    const auto hit = geometry().hit(x, y - head, FromDIP(8));
    return hit ? chart_.points[*hit].tooltip : std::string{};
}

wxPoint OutcomeChartPanel::point_position(std::size_t i) const {
    const auto g = geometry();
    const int head = headline_height(chart_fonts(GetFont()));
    for (const auto& p : g.points) {
        if (p.index == i) return wxPoint(static_cast<int>(p.x), static_cast<int>(p.y) + head);
    }
    return wxDefaultPosition;
}

void OutcomeChartPanel::on_paint(wxPaintEvent&) {
    wxAutoBufferedPaintDC dc(this);
    dc.SetBackground(wxBrush(GetBackgroundColour()));
    dc.Clear();
    std::unique_ptr<wxGraphicsContext> gc(wxGraphicsContext::Create(dc));
    if (!gc) return;
    gc->SetAntialiasMode(wxANTIALIAS_DEFAULT);
    const auto fonts = chart_fonts(GetFont());
    draw_headline(*gc, chart_, fonts, 4, 2);
    draw_chart(*gc, chart_, geometry(), fonts, 0, headline_height(fonts));
}

void OutcomeChartPanel::on_motion(wxMouseEvent& e) {
    const std::string tip = tooltip_at(e.GetX(), e.GetY());
    if (tip != shown_tip_) {
        shown_tip_ = tip;
        if (tip.empty()) UnsetToolTip();
        else SetToolTip(u8(tip));
    }
    e.Skip();
}

}  // namespace tandem::clinician::views
