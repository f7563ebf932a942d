#pragma once
// Small helpers the view files share (text, colours, fonts) and the virtual list that shows a
// presenter's rows. Views only: wx types are fine here.

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include <wx/listctrl.h>

#include "tandem/clinician/caseload.h"
#include "tandem/clinician/flag_queue.h"
#include "tandem/clinician/severity_style.h"
#include "tandem/clinician/time_text.h"

namespace tandem::clinician::views {

/// UTF-8 text for wx. GUI thread.
inline wxString u8(const std::string& s) { return wxString::FromUTF8(s.data(), s.size()); }
/// A severity style's colour for wx. GUI thread.
inline wxColour colour(Rgb c) { return wxColour(c.r, c.g, c.b); }
/// The window's font, larger and bold: pane headers and the lock screen's title. GUI thread.
inline wxFont heading_font(const wxWindow& w) {
    wxFont big = w.GetFont();
    big.SetPointSize(big.GetPointSize() + 2);
    big.SetWeight(wxFONTWEIGHT_BOLD);
    return big;
}

/// How a row looks: the severity whose colours it takes and whether it is bold (overdue).
struct RowLook {
    Severity severity = Severity::none;
    bool bold = false;
};

/// A virtual report list over a presenter (FlagQueuePresenter, CaseloadPresenter): rows are read
/// by index only when drawn, so 50,000 flags or 5,000 patients cost only the visible rows.
/// Colour never carries severity alone: the presenter's cells hold its glyph and word too.
template <class Presenter, class Row>
class PresenterList : public wxListCtrl {
public:
    struct Column {
        const char* label;
        int width;
        wxListColumnFormat format = wxLIST_FORMAT_LEFT;
    };
    /// nullopt: the row keeps the list's default look.
    using Look = std::function<std::optional<RowLook>(const Row&, TimePoint now)>;

    PresenterList(wxWindow* parent, const Presenter& presenter, std::initializer_list<Column> columns, Look look)
        : wxListCtrl(parent, wxID_ANY, wxDefaultPosition, wxDefaultSize, wxLC_REPORT | wxLC_VIRTUAL | wxLC_SINGLE_SEL),
          presenter_(presenter),
          look_(std::move(look)) {
        for (const auto& c : columns) AppendColumn(c.label, c.format, FromDIP(c.width));
    }
    /// The time countdowns and ages are drawn against (the frame's tick moves it).
    TimePoint now = now_ms();

private:
    wxString OnGetItemText(long item, long column) const override {
        return u8(presenter_.cell(static_cast<std::size_t>(item), static_cast<int>(column), now));
    }
    wxItemAttr* OnGetItemAttr(long item) const override {
        const auto look = look_(presenter_.row(static_cast<std::size_t>(item)), now);
        if (!look) return nullptr;
        const auto& style = severity_style(look->severity);
        attr_.SetTextColour(colour(style.colour));
        attr_.SetBackgroundColour(colour(style.background));
        wxFont font = GetFont();
        if (look->bold) font.SetWeight(wxFONTWEIGHT_BOLD);
        attr_.SetFont(font);
        return &attr_;
    }

    const Presenter& presenter_;
    Look look_;
    mutable wxItemAttr attr_;
};

class FlagList : public PresenterList<FlagQueuePresenter, FlagRow> {
    using PresenterList::PresenterList;
};
class CaseloadList : public PresenterList<CaseloadPresenter, CaseloadRow> {
    using PresenterList::PresenterList;
};

}  // namespace tandem::clinician::views
