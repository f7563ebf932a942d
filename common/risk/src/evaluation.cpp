#include "tandem/risk/evaluation.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tandem {
namespace {

double ratio(std::size_t num, std::size_t den, double empty) {
    return den == 0 ? empty : static_cast<double>(num) / static_cast<double>(den);
}

std::string fixed(double v, int digits = 3) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

}  // namespace

Result<std::vector<LabelledCase>> load_labelled_set(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return fail(ErrorCode::io, "cannot read " + path.string());
    std::vector<LabelledCase> out;
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string at = path.filename().string() + ":" + std::to_string(n);
        try {
            const auto j = nlohmann::json::parse(line);
            LabelledCase c;
            c.id = j.at("id").get<std::string>();
            auto role = parse_speaker_role(j.at("role").get<std::string>());
            if (!role) return fail(ErrorCode::invalid_argument, at + ": unknown role", "role");
            c.role = *role;
            c.text = j.at("text").get<std::string>();
            if (j.contains("context")) {
                for (const auto& t : j["context"]) {
                    auto r = parse_speaker_role(t.at("role").get<std::string>());
                    if (!r) return fail(ErrorCode::invalid_argument, at + ": unknown context role", "context");
                    c.context.push_back(Turn{*r, t.at("text").get<std::string>()});
                }
            }
            const auto& e = j.at("expected");
            auto sev = parse_severity(e.at("severity").get<std::string>());
            if (!sev) return fail(ErrorCode::invalid_argument, at + ": unknown severity", "expected.severity");
            c.expected_severity = *sev;
            for (const auto& cat : e.value("categories", nlohmann::json::array())) {
                auto rc = parse_risk_category(cat.get<std::string>());
                if (!rc) return fail(ErrorCode::invalid_argument, at + ": unknown category", "expected.categories");
                c.expected_categories.push_back(*rc);
            }
            if (e.contains("cssrs") && !e["cssrs"].is_null()) c.expected_cssrs = e["cssrs"].get<int>();
            c.kind = j.value("kind", "");
            c.lang = j.value("lang", "en");
            out.push_back(std::move(c));
        } catch (const nlohmann::json::exception& ex) {
            return fail(ErrorCode::parse, at + ": " + ex.what());
        }
    }
    return out;
}

double EvaluationReport::urgent_recall() const { return ratio(urgent_caught, urgent_expected, 1.0); }
double EvaluationReport::flag_recall() const { return ratio(flag_caught, flag_expected, 1.0); }
double EvaluationReport::flag_precision() const { return ratio(flag_predicted_right, flag_predicted, 1.0); }
double EvaluationReport::benign_high_rate() const { return ratio(benign_to_high, benign, 0.0); }
double EvaluationReport::benign_moderate_rate() const { return ratio(benign_to_moderate, benign, 0.0); }

EvaluationReport evaluate(const RiskEngine& engine, const std::vector<LabelledCase>& cases) {
    EvaluationReport r;
    for (const auto& c : cases) {
        const RiskAssessment a = engine.screen(c.text, c.role, c.context);
        const Severity want = c.expected_severity;
        const Severity got = a.severity;
        ++r.cases;
        r.confusion[static_cast<std::size_t>(want)][static_cast<std::size_t>(got)]++;
        const bool want_urgent = want >= Severity::high;
        const bool want_flag = want >= Severity::moderate;
        const bool got_urgent = got >= Severity::high;
        const bool got_flag = got >= Severity::moderate;
        if (want_urgent) {
            ++r.urgent_expected;
            if (got_urgent) ++r.urgent_caught;
        }
        if (want_flag) {
            ++r.flag_expected;
            if (got_flag) ++r.flag_caught;
        }
        if (got_flag) {
            ++r.flag_predicted;
            if (want_flag) ++r.flag_predicted_right;
        }
        if (!want_flag) {
            ++r.benign;
            if (got_urgent) ++r.benign_to_high;
            if (got_flag) ++r.benign_to_moderate;
        }
        // "Right band": urgent/flag/no-flag agree; the unit the targets are stated in.
        const auto band = [](Severity s) { return s >= Severity::high ? 2 : s >= Severity::moderate ? 1 : 0; };
        auto& k = r.kinds[c.kind.empty() ? "(none)" : c.kind];
        ++k.second;
        if (band(want) == band(got)) {
            ++k.first;
        } else {
            r.misses.push_back(EvaluationMiss{c.id, c.kind, want, got});
        }
        for (RiskCategory cat : c.expected_categories) {
            auto& cc = r.categories[cat];
            if (std::find(a.categories.begin(), a.categories.end(), cat) != a.categories.end()) {
                ++cc.true_positive;
            } else {
                ++cc.false_negative;
            }
        }
        for (RiskCategory cat : a.categories) {
            if (std::find(c.expected_categories.begin(), c.expected_categories.end(), cat) ==
                c.expected_categories.end()) {
                ++r.categories[cat].false_positive;
            }
        }
    }
    return r;
}

std::string format_report(const EvaluationReport& r, bool list_misses) {
    std::ostringstream o;
    o << "cases: " << r.cases << "\n";
    o << "urgent (high|imminent) recall:   " << fixed(r.urgent_recall()) << "  (" << r.urgent_caught << "/"
      << r.urgent_expected << ")\n";
    o << "flag (moderate+) recall:         " << fixed(r.flag_recall()) << "  (" << r.flag_caught << "/"
      << r.flag_expected << ")\n";
    o << "flag (moderate+) precision:      " << fixed(r.flag_precision()) << "  (" << r.flag_predicted_right
      << "/" << r.flag_predicted << ")\n";
    o << "benign (none|low) -> high+:      " << fixed(r.benign_high_rate()) << "  (" << r.benign_to_high << "/"
      << r.benign << ")\n";
    o << "benign (none|low) -> moderate+:  " << fixed(r.benign_moderate_rate()) << "  (" << r.benign_to_moderate
      << "/" << r.benign << ")\n\n";
    o << "per category                 recall  precision    tp   fn   fp\n";
    for (const auto& [cat, cc] : r.categories) {
        o << pad(std::string(to_string(cat)), 28) << " " << fixed(ratio(cc.true_positive, cc.true_positive + cc.false_negative, 1.0))
          << "   " << fixed(ratio(cc.true_positive, cc.true_positive + cc.false_positive, 1.0)) << "     "
          << pad(std::to_string(cc.true_positive), 5) << pad(std::to_string(cc.false_negative), 5)
          << cc.false_positive << "\n";
    }
    o << "\nconfusion (rows expected, columns predicted)\n";
    o << "            none      low  moderate     high imminent\n";
    for (std::size_t i = 0; i < 5; ++i) {
        o << pad(std::string(to_string(static_cast<Severity>(i))), 9);
        for (std::size_t j = 0; j < 5; ++j) {
            std::string cell = std::to_string(r.confusion[i][j]);
            o << std::string(9 - std::min<std::size_t>(cell.size(), 8), ' ') << cell;
        }
        o << "\n";
    }
    o << "\nper kind (band right / total)\n";
    for (const auto& [kind, v] : r.kinds) {
        o << "  " << pad(kind, 12) << " " << v.first << "/" << v.second << "\n";
    }
    if (list_misses && !r.misses.empty()) {
        o << "\nmisses (id kind expected -> predicted)\n";
        for (const auto& m : r.misses) {
            o << "  " << m.id << " " << m.kind << " " << to_string(m.expected) << " -> " << to_string(m.got) << "\n";
        }
    }
    return o.str();
}

}  // namespace tandem
