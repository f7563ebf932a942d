#include "tandem/clinician/outcome_presenter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "tandem/clinician/outcome_text.h"
#include "tandem/domain/json.h"
#include "tandem/measures/measures.h"

namespace tandem::clinician {
namespace {

// Muted tints from calm to alarming; a chart with n bands spreads over them. Pale enough that
// black points and labels stay readable on every one, and the band's title is drawn too.
constexpr std::array<Rgb, 5> kBandTints{{{226, 240, 226}, {240, 242, 218}, {250, 238, 214}, {248, 226, 212}, {242, 212, 212}}};

Rgb tint(std::size_t index, std::size_t count, bool higher_is_better) {
    if (count <= 1) return kBandTints[0];
    std::size_t i = index;
    if (higher_is_better) i = count - 1 - index;
    const auto pos = static_cast<std::size_t>(std::lround(static_cast<double>(i) * 4.0 / static_cast<double>(count - 1)));
    return kBandTints[std::min<std::size_t>(pos, 4)];
}

std::string title_of(const InstrumentDefinition* def, const std::string& id) {
    if (def == nullptr) return id;
    if (!def->short_title.empty()) return def->short_title;
    return def->title.empty() ? id : def->title;
}

std::string band_title(const InstrumentDefinition* def, const std::string& label) {
    if (def != nullptr) {
        for (const auto& b : def->scoring.bands) {
            if (b.label == label) return b.title.empty() ? b.label : b.title;
        }
    }
    if (label.empty()) return {};
    // A triage band ("high") or one the definition does not list: readable words.
    std::string out = label;
    std::replace(out.begin(), out.end(), '_', ' ');
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

std::string tooltip_of(const InstrumentDefinition* def, const AssessmentPoint& p, const std::string& band) {
    std::string out = date_text(p.when()) + "  " + title_of(def, p.instrument) + " " + std::to_string(*p.score);
    if (!band.empty()) out += " (" + band + ")";
    for (std::size_t i = 0; i < p.items.size(); ++i) {
        out += "\n" + std::to_string(i + 1) + ". ";
        const InstrumentItem* item = def != nullptr && i < def->items.size() ? &def->items[i] : nullptr;
        if (item != nullptr) out += item->text + ": ";
        if (!p.items[i]) {
            out += "not asked or unanswered";
            continue;
        }
        const int value = *p.items[i];
        std::string label;
        if (item != nullptr) {
            for (const auto& o : item->options) {
                if (o.value == value) label = o.label;
            }
        }
        out += label.empty() ? std::to_string(value) : label + " (" + std::to_string(value) + ")";
    }
    return out;
}

}  // namespace

std::optional<Assessment> to_assessment(const AssessmentPoint& p) {
    nlohmann::json record{{"id", p.id}, {"patient_id", p.patient_id}, {"instrument", p.instrument},
                          {"administered_at", format_utc(p.administered_at)}};
    record["items"] = nlohmann::json::array();
    for (const auto& item : p.items) record["items"].push_back(item ? nlohmann::json(*item) : nlohmann::json(nullptr));
    if (p.score) record["score"] = *p.score;
    if (!p.band.empty()) record["band"] = p.band;
    if (p.completed_at) record["completed_at"] = format_utc(*p.completed_at);
    auto parsed = from_json_checked<Assessment>(record);
    if (!parsed) return std::nullopt;
    return std::move(*parsed);
}

std::vector<std::string> outcome_words(const InstrumentDefinition* def, const Outcome& outcome) {
    std::vector<std::string> out;
    const bool has_reliable = def != nullptr && def->outcomes.reliable_change.has_value();
    for (const auto& label : outcome.labels) {
        if (label == "no_data") continue;
        // Without a reliable-change threshold (the alliance, a clinic's own measure) "no
        // reliable change" would claim a test that was never made.
        if (label == "no_reliable_change" && !has_reliable) continue;
        std::string words = label;
        std::replace(words.begin(), words.end(), '_', ' ');
        out.push_back(words);
    }
    return out;
}

std::string outcome_headline(const std::string& title, const Outcome& outcome, const std::vector<std::string>& words) {
    if (!outcome.baseline) return title + ": no scores yet";
    std::string out = title + " " + std::to_string(outcome.baseline->total);
    if (outcome.latest) {
        out += " \u2192 " + std::to_string(outcome.latest->total);
        if (outcome.percent_change) out += " (" + signed_percent(*outcome.percent_change) + ")";
    }
    for (const auto& w : words) {
        if (w == "baseline only") out += " (baseline only)";
        else out += " \u00b7 " + w;
    }
    return out;
}

PatientOutcomes patient_outcomes(const AssessmentBook& book, const InstrumentRegistry& registry,
                                 const std::string& patient_id) {
    PatientOutcomes out;
    out.patient_id = patient_id;
    struct Row {
        TimePoint at;
        ScoreRow row;
    };
    std::vector<Row> rows;
    for (const auto& instrument : book.instruments(patient_id)) {
        const auto series = book.series(patient_id, instrument);
        if (series.empty()) continue;
        const InstrumentDefinition* def = registry.find(std::string_view{instrument});
        InstrumentChart chart;
        chart.instrument = instrument;
        chart.title = title_of(def, instrument);
        chart.higher_is_better = def != nullptr && !def->outcomes.lower_is_better;

        // Outcomes by the library, from the records it rescoring itself; an instrument it does not
        // know gets the bridge's scores with no outcome words.
        std::optional<Outcome> outcome;
        std::vector<Assessment> records;
        if (def != nullptr) {
            for (const auto* p : series) {
                if (auto a = to_assessment(*p)) records.push_back(std::move(*a));
            }
            outcome = outcomes(*def, records);
            chart.labels = outcome_words(def, *outcome);
            chart.headline = outcome_headline(chart.title, *outcome, chart.labels);
            for (const auto& l : outcome->labels) {
                if (l == "deterioration") chart.tone = OutcomeTone::worsening;
            }
            if (chart.tone == OutcomeTone::neutral &&
                (outcome->response || outcome->remission || outcome->reliable_improvement)) {
                chart.tone = OutcomeTone::improving;
            }
        } else {
            chart.headline = chart.title + " " + std::to_string(*series.front()->score);
            if (series.size() > 1) chart.headline += " \u2192 " + std::to_string(*series.back()->score);
        }

        int highest = 0;
        for (const auto* p : series) {
            ChartPoint point;
            point.assessment_id = p->id;
            point.at = p->when();
            point.score = *p->score;
            highest = std::max(highest, point.score);
            point.band_title = band_title(def, p->band);
            if (outcome) {
                for (const auto& op : outcome->points) {
                    if (op.assessment_id.str() == p->id) {
                        point.prorated = op.prorated;
                        // The library rescored the items: its band is the one to show.
                        if (op.band) point.band_title = band_title(def, *op.band);
                    }
                }
            }
            point.tooltip = tooltip_of(def, *p, point.band_title);
            chart.points.push_back(std::move(point));
        }

        if (def != nullptr && def->scoring.total_max > def->scoring.total_min) {
            chart.y_min = def->scoring.total_min;
            chart.y_max = def->scoring.total_max;
        } else {
            chart.y_min = 0;
            chart.y_max = std::max(1, highest);
        }
        if (def != nullptr) {
            const auto& bands = def->scoring.bands;
            for (std::size_t i = 0; i < bands.size(); ++i) {
                chart.bands.push_back(ChartBand{std::max(chart.y_min, bands[i].min - 0.5),
                                                std::min(chart.y_max, bands[i].max + 0.5),
                                                bands[i].title.empty() ? bands[i].label : bands[i].title,
                                                tint(i, bands.size(), chart.higher_is_better)});
            }
        }

        const int baseline = chart.points.front().score;
        for (std::size_t i = 0; i < chart.points.size(); ++i) {
            const auto& p = chart.points[i];
            ScoreRow row;
            row.date = date_text(p.at);
            row.instrument = chart.title;
            row.score = std::to_string(p.score) + (p.prorated ? " (prorated)" : "");
            row.band = p.band_title;
            row.change = i == 0 ? "baseline" : signed_number(p.score - baseline) + " from baseline";
            rows.push_back(Row{p.at, std::move(row)});
        }
        out.charts.push_back(std::move(chart));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.at > b.at; });
    for (auto& r : rows) out.table.push_back(std::move(r.row));
    return out;
}

// ---------------------------------------------------------------------------------------------
// Geometry

std::optional<std::size_t> ChartGeometry::hit(double x, double y, double radius) const {
    std::optional<std::size_t> best;
    double best_d2 = radius * radius;
    for (const auto& p : points) {
        const double d2 = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y);
        if (d2 <= best_d2) {
            best_d2 = d2;
            best = p.index;
        }
    }
    return best;
}

ChartGeometry layout_chart(const InstrumentChart& chart, double width, double height) {
    ChartGeometry g;
    // Fixed margins in the same units as the box: y labels need ~3 digits, band titles up to
    // "Moderately severe", dates one line. Scaling them with the box was tried and made small
    // charts unreadable.
    g.left = 38;
    g.top = 8;
    g.right = std::max(g.left + 40, width - (chart.bands.empty() ? 16.0 : 118.0));
    g.bottom = std::max(g.top + 40, height - 24);
    const double plot_w = g.right - g.left;
    const double plot_h = g.bottom - g.top;

    const double y_span = chart.y_max > chart.y_min ? chart.y_max - chart.y_min : 1.0;
    auto y_of = [&](double v) { return g.bottom - (v - chart.y_min) / y_span * plot_h; };

    using std::chrono::milliseconds;
    constexpr auto kDay = std::chrono::duration_cast<milliseconds>(std::chrono::hours{24});
    TimePoint first = chart.points.empty() ? TimePoint{} : chart.points.front().at;
    TimePoint last = chart.points.empty() ? TimePoint{} : chart.points.back().at;
    for (const auto& p : chart.points) {
        first = std::min(first, p.at);
        last = std::max(last, p.at);
    }
    // One point (or all on one day) sits in the middle of a week; otherwise pad by 6% a side so
    // the first and last dots are not cut by the frame.
    if (last - first < kDay) {
        first -= 3 * kDay;
        last += 3 * kDay;
    } else {
        const auto pad = milliseconds{static_cast<std::int64_t>(static_cast<double>((last - first).count()) * 0.06)};
        first -= pad;
        last += pad;
    }
    const double t_span = static_cast<double>((last - first).count());
    auto x_of = [&](TimePoint t) { return g.left + static_cast<double>((t - first).count()) / t_span * plot_w; };

    for (const auto& b : chart.bands) {
        const double top = std::max(g.top, y_of(b.high));
        const double bottom = std::min(g.bottom, y_of(b.low));
        if (bottom > top) g.bands.push_back(PlacedBand{top, bottom, b.title, b.fill});
    }

    // y ticks: band edges when there are bands (they are the numbers clinicians know), else a
    // round step giving about five lines.
    if (!chart.bands.empty()) {
        g.y_ticks.push_back(ChartTick{y_of(chart.y_min), format_number(chart.y_min)});
        for (const auto& b : chart.bands) {
            const double edge = std::ceil(b.low);
            if (edge > chart.y_min) g.y_ticks.push_back(ChartTick{y_of(edge), format_number(edge)});
        }
        g.y_ticks.push_back(ChartTick{y_of(chart.y_max), format_number(chart.y_max)});
    } else {
        double step = 1;
        for (double s : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0}) {
            step = s;
            if (y_span / s <= 6) break;
        }
        for (double v = std::ceil(chart.y_min / step) * step; v <= chart.y_max + 1e-9; v += step) {
            g.y_ticks.push_back(ChartTick{y_of(v), format_number(v)});
        }
    }

    // x ticks: evenly spaced dates, fewer when the plot is narrow; one label per day at most.
    const int wanted = std::clamp(static_cast<int>(plot_w / 110.0), 2, 7);
    std::string previous;
    for (int i = 0; i <= wanted; ++i) {
        const auto t = first + milliseconds{static_cast<std::int64_t>(t_span * i / wanted)};
        std::string text = short_date_text(t, last - first > 300 * kDay);
        if (text == previous) continue;
        previous = text;
        g.x_ticks.push_back(ChartTick{x_of(t), std::move(text)});
    }

    for (std::size_t i = 0; i < chart.points.size(); ++i) {
        g.points.push_back(PlacedPoint{x_of(chart.points[i].at), y_of(chart.points[i].score), i});
    }
    return g;
}

}  // namespace tandem::clinician
