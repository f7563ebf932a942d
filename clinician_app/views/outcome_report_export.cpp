#include "outcome_report_export.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include <cairo-pdf.h>
#include <cairo.h>
#include <wx/brush.h>
#include <wx/graphics.h>
#include <wx/pen.h>

#include "outcome_chart.h"
#include "view_util.h"

namespace tandem::clinician::views {
namespace {

using M = ReportMetrics;

// Column left edges of the score table, in report units from the margin.
constexpr std::array<double, 5> kColumns{0, 130, 250, 390, 600};
constexpr std::array<const char*, 5> kHeadings{"Date", "Instrument", "Score", "Band", "Change"};

struct ReportFonts {
    wxFont title;
    wxFont body;
    wxFont bold;
    wxFont small;
    ChartFonts chart;
};

ReportFonts report_fonts() {
    // A fixed family and size, not the desktop's font: a filed report looks the same whoever
    // exported it.
    const wxFont body(wxFontInfo(10).Family(wxFONTFAMILY_SWISS).FaceName("DejaVu Sans"));
    ReportFonts f{body, body, body, body, chart_fonts(body)};
    f.title.SetPointSize(16);
    f.title.SetWeight(wxFONTWEIGHT_BOLD);
    f.bold.SetWeight(wxFONTWEIGHT_BOLD);
    f.small.SetPointSize(8);
    return f;
}

void draw_block(wxGraphicsContext& gc, const ReportBlock& b, const ReportHeader& header, const PatientOutcomes& outcomes,
                const ReportFonts& fonts) {
    const double x = M::margin;
    const double inner = M::width - 2 * M::margin;
    switch (b.kind) {
        case ReportBlock::Kind::header: {
            gc.SetFont(fonts.title, *wxBLACK);
            gc.DrawText(u8(header.title), x, b.y);
            double tw = 0, th = 0;
            gc.SetFont(fonts.bold, wxColour(150, 20, 20));
            gc.GetTextExtent(u8(header.confidentiality), &tw, &th);
            gc.DrawText(u8(header.confidentiality), M::width - M::margin - tw, b.y + 6);
            gc.SetFont(fonts.body, *wxBLACK);
            gc.DrawText(u8(header.patient), x, b.y + 38);
            gc.DrawText(u8(header.clinician), x, b.y + 60);
            gc.DrawText(u8(header.generated), x, b.y + 82);
            gc.SetPen(wxPen(wxColour(160, 160, 160), 1));
            gc.StrokeLine(x, b.y + b.height - 12, x + inner, b.y + b.height - 12);
            break;
        }
        case ReportBlock::Kind::chart: {
            const auto& chart = outcomes.charts[b.index];
            draw_headline(gc, chart, fonts.chart, x, b.y);
            const auto geometry = layout_chart(chart, inner, b.height - M::chart_headline - 14);
            draw_chart(gc, chart, geometry, fonts.chart, x, b.y + M::chart_headline);
            break;
        }
        case ReportBlock::Kind::table_head: {
            gc.SetFont(fonts.bold, *wxBLACK);
            for (std::size_t c = 0; c < kColumns.size(); ++c) gc.DrawText(kHeadings[c], x + kColumns[c], b.y + 10);
            gc.SetPen(wxPen(wxColour(120, 120, 120), 1));
            gc.StrokeLine(x, b.y + b.height - 3, x + inner, b.y + b.height - 3);
            break;
        }
        case ReportBlock::Kind::table_row: {
            const auto& row = outcomes.table[b.index];
            if (b.index % 2 == 1) {
                gc.SetPen(*wxTRANSPARENT_PEN);
                gc.SetBrush(wxBrush(wxColour(244, 244, 244)));
                gc.DrawRectangle(x, b.y, inner, b.height);
            }
            gc.SetFont(fonts.body, *wxBLACK);
            const std::array<const std::string*, 5> cells{&row.date, &row.instrument, &row.score, &row.band, &row.change};
            for (std::size_t c = 0; c < cells.size(); ++c) gc.DrawText(u8(*cells[c]), x + kColumns[c], b.y + 4);
            break;
        }
        case ReportBlock::Kind::empty_note:
            gc.SetFont(fonts.body, *wxBLACK);
            gc.DrawText("No scored questionnaires for this patient yet.", x, b.y + 8);
            break;
    }
}

void draw_page(wxGraphicsContext& gc, const ReportLayout& layout, int page, const ReportHeader& header,
               const PatientOutcomes& outcomes, const ReportFonts& fonts) {
    gc.SetAntialiasMode(wxANTIALIAS_DEFAULT);
    for (const auto& b : layout.blocks) {
        if (b.page == page) draw_block(gc, b, header, outcomes, fonts);
    }
    // Every page says whose it is and that it is confidential: pages get separated in a file.
    gc.SetFont(fonts.small, wxColour(90, 90, 90));
    const std::string footer = header.confidentiality + " \u00b7 " + header.patient + " \u00b7 page " +
                               std::to_string(page + 1) + " of " + std::to_string(layout.pages);
    gc.DrawText(u8(footer), M::margin, layout.page_height - M::margin * 0.7);
}

// Owns a cairo surface and context; cairo's status says whether writing worked.
struct CairoTarget {
    cairo_surface_t* surface = nullptr;
    cairo_t* cr = nullptr;
    ~CairoTarget() {
        if (cr != nullptr) cairo_destroy(cr);
        if (surface != nullptr) cairo_surface_destroy(surface);
    }
};

Result<void> cairo_failed(const std::filesystem::path& path, cairo_status_t status) {
    return fail(ErrorCode::io, "could not write the report to " + path.string() + ": " + cairo_status_to_string(status));
}

std::unique_ptr<wxGraphicsContext> context_for(cairo_t* cr) {
    // The same wx drawing code on a cairo surface of our choosing (image or PDF): wx references
    // the cairo_t and releases it when the context is deleted.
    return std::unique_ptr<wxGraphicsContext>(wxGraphicsRenderer::GetCairoRenderer()->CreateContextFromNativeContext(cr));
}

}  // namespace

Result<void> export_report_png(const std::filesystem::path& path, const ReportHeader& header,
                               const PatientOutcomes& outcomes) {
    const ReportLayout layout = layout_report(outcomes);
    const int width = static_cast<int>(layout.width);
    const int height = static_cast<int>(layout.page_height);
    CairoTarget t;
    t.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    t.cr = cairo_create(t.surface);
    if (cairo_status(t.cr) != CAIRO_STATUS_SUCCESS) return cairo_failed(path, cairo_status(t.cr));
    cairo_set_source_rgb(t.cr, 1, 1, 1);
    cairo_paint(t.cr);
    {
        const auto gc = context_for(t.cr);
        if (!gc) return fail(ErrorCode::internal, "no cairo graphics renderer in this wxWidgets build");
        draw_page(*gc, layout, 0, header, outcomes, report_fonts());
    }
    cairo_surface_flush(t.surface);
    const cairo_status_t status = cairo_surface_write_to_png(t.surface, path.c_str());
    if (status != CAIRO_STATUS_SUCCESS) return cairo_failed(path, status);
    return {};
}

Result<void> export_report_pdf(const std::filesystem::path& path, const ReportHeader& header,
                               const PatientOutcomes& outcomes) {
    // Report units scaled onto A4: 1000 units across the page's width.
    const double scale = kA4WidthPt / M::width;
    const ReportLayout layout = layout_report(outcomes, kA4HeightPt / scale);
    CairoTarget t;
    t.surface = cairo_pdf_surface_create(path.c_str(), kA4WidthPt, kA4HeightPt);
    if (cairo_surface_status(t.surface) != CAIRO_STATUS_SUCCESS) return cairo_failed(path, cairo_surface_status(t.surface));
    cairo_pdf_surface_set_metadata(t.surface, CAIRO_PDF_METADATA_TITLE, "Tandem outcome report");
    t.cr = cairo_create(t.surface);
    const ReportFonts fonts = report_fonts();
    for (int page = 0; page < layout.pages; ++page) {
        {
            const auto gc = context_for(t.cr);
            if (!gc) return fail(ErrorCode::internal, "no cairo graphics renderer in this wxWidgets build");
            gc->Scale(scale, scale);
            draw_page(*gc, layout, page, header, outcomes, fonts);
        }
        cairo_show_page(t.cr);
    }
    cairo_surface_finish(t.surface);
    if (cairo_surface_status(t.surface) != CAIRO_STATUS_SUCCESS) return cairo_failed(path, cairo_surface_status(t.surface));
    return {};
}

Result<void> export_report(const std::filesystem::path& path, const ReportHeader& header,
                           const PatientOutcomes& outcomes) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".png") return export_report_png(path, header, outcomes);
    if (ext == ".pdf") return export_report_pdf(path, header, outcomes);
    return fail(ErrorCode::invalid_argument, "a report is written as .pdf or .png, not '" + ext + "'", "path");
}

}  // namespace tandem::clinician::views
