// tandem-risk: the risk engine on the command line (screen JSON lines, evaluate labelled sets,
// check rule files). Never prints screened text: only ids, verdicts and rule rationales.

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/risk/engine.h"
#include "tandem/risk/evaluation.h"

namespace {

constexpr const char* kHelp = R"(tandem-risk: screen messages for risk with Tandem's engine (rules, plus a learned model
that may only raise their verdict).

Usage:
  tandem-risk [--rules DIR] screen
  tandem-risk [--rules DIR] eval [--misses] FILE...
  tandem-risk [--rules DIR] check
  tandem-risk [--rules DIR] features
  tandem-risk --help | --version

Options:
  --rules DIR   load every *.json rule file of DIR instead of the rules built into this
                binary (format: schemas/risk_rules.schema.json, see docs/RISK.md). A bad
                file is refused with its line and the reason; exit status 2.
  --model FILE  use this learned model file instead of the one built into this binary
                (format: schemas/risk_model.schema.json); a bad file: exit status 2.
  --no-model    screen with the rules alone (the learned model never lowers a verdict,
                so this shows what the rules say by themselves).

screen
  Reads JSON lines on stdin, one message per line:
    {"id": "m1", "role": "patient"|"ai", "text": "...",
     "context": [{"role": "ai"|"patient"|"clinician", "text": "..."}]}   (context optional,
                                                                          oldest first, last 6 used)
  Writes one JSON line per input line, in order:
    {"id": "m1", "severity": "none|low|moderate|high|imminent", "categories": [...],
     "cssrs": 0..6 or null, "spans": [{"begin", "end", "rule_id", "rationale"}],
     "rationale": "..."}
  Spans are UTF-8 byte offsets [begin, end) into "text". A line that cannot be read gives
  {"id": ..., "error": "..."} and screening goes on; exit status 1 if any line failed.

eval FILE...
  Runs each labelled set (JSON lines: id, role, text, context?, expected: {severity,
  categories, cssrs?}, kind, lang) and prints, per file: urgent-band (expected high or
  imminent) recall; flag-band (moderate or above) recall and precision; the share of benign
  (expected none or low) cases raised to high+ and to moderate+; recall and precision per
  category; a 5x5 severity confusion matrix (rows expected, columns predicted); the share of
  cases in the right band per kind. --misses also lists the ids of cases in the wrong band.

check
  Loads the rules and the model, prints their versions and counts, exit status 0 if they load.

features
  For scripts/risk/train_model.py: reads the same lines as screen and writes, per line,
    {"id", "message": [bucket...], "context": [bucket...], "words": N, "rules": "<severity>",
     "discounted": true|false}
  the learned model's hashed features and the rules' own verdict (no text is written).
)";

std::optional<tandem::RuleSet> load_rules(const std::optional<std::string>& dir) {
    auto rules = dir ? tandem::RuleSet::load_directory(*dir) : tandem::RuleSet::load_builtin();
    if (!rules) {
        std::cerr << "tandem-risk: rules refused: " << rules.error().describe() << "\n";
        return std::nullopt;
    }
    return std::move(*rules);
}

nlohmann::json to_json(const std::string& id, const tandem::RiskAssessment& a) {
    nlohmann::json spans = nlohmann::json::array();
    for (const auto& s : a.spans) {
        spans.push_back({{"begin", s.begin}, {"end", s.end}, {"rule_id", s.rule_id}, {"rationale", s.rationale}});
    }
    nlohmann::json cats = nlohmann::json::array();
    for (auto c : a.categories) cats.push_back(std::string(tandem::to_string(c)));
    nlohmann::json out = {{"id", id},
                          {"severity", std::string(tandem::to_string(a.severity))},
                          {"categories", cats},
                          {"cssrs", nullptr},
                          {"spans", spans},
                          {"rationale", a.rationale}};
    if (a.cssrs_level) out["cssrs"] = *a.cssrs_level;
    return out;
}

// Reads one screen-format line into role, text and context; throws on a malformed line.
struct Input {
    std::string id;
    tandem::SpeakerRole role = tandem::SpeakerRole::patient;
    std::string text;
    std::vector<tandem::Turn> context;
};

Input read_input(const std::string& line, std::string& id) {
    const auto in = nlohmann::json::parse(line);
    if (in.contains("id") && in["id"].is_string()) id = in["id"].get<std::string>();
    Input out;
    out.id = id;
    auto role = tandem::parse_speaker_role(in.at("role").get<std::string>());
    if (!role || *role == tandem::SpeakerRole::clinician) throw std::invalid_argument("role must be patient or ai");
    out.role = *role;
    if (in.contains("context")) {
        for (const auto& t : in["context"]) {
            auto r = tandem::parse_speaker_role(t.at("role").get<std::string>());
            if (!r) throw std::invalid_argument("context role must be patient, ai or clinician");
            out.context.push_back(tandem::Turn{*r, t.at("text").get<std::string>()});
        }
    }
    out.text = in.at("text").get<std::string>();
    return out;
}

// Reads JSON lines from stdin and writes one JSON line per input: `answer` turns an input into
// its output; a line it cannot read gets {"id", "error"} and the exit status 1, and the rest go on.
template <typename Answer>
int answer_lines(Answer answer) {
    std::string line;
    int status = 0;
    std::ios::sync_with_stdio(false);
    while (std::getline(std::cin, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string id;
        try {
            const Input in = read_input(line, id);
            std::cout << answer(id, in).dump() << "\n";
        } catch (const std::exception& e) {
            status = 1;
            std::cout << nlohmann::json{{"id", id}, {"error", e.what()}}.dump() << "\n";
        }
    }
    std::cout.flush();
    return status;
}

int screen(const tandem::RiskEngine& engine) {
    return answer_lines([&](const std::string& id, const Input& in) {
        return to_json(id, engine.screen(in.text, in.role, in.context));
    });
}

int features(const tandem::RiskEngine& rules_only) {
    return answer_lines([&](const std::string& id, const Input& in) {
        const auto verdict = rules_only.screen(in.text, in.role, in.context);
        const auto f = rules_only.model_features(in.text, in.role, in.context);
        nlohmann::json m = nlohmann::json::array();
        for (const auto& h : f.message) m.push_back(h.bucket);
        const bool discounted =
            verdict.severity == tandem::Severity::none && verdict.rationale.find("discounted") != std::string::npos;
        return nlohmann::json{{"id", id},
                              {"message", m},
                              {"context", f.context},
                              {"words", f.words},
                              {"rules", std::string(tandem::to_string(verdict.severity))},
                              {"discounted", discounted}};
    });
}

int eval(const tandem::RiskEngine& engine, const std::vector<std::string>& files, bool misses) {
    int status = 0;
    for (const auto& f : files) {
        auto cases = tandem::load_labelled_set(f);
        if (!cases) {
            std::cerr << "tandem-risk: " << cases.error().describe() << "\n";
            status = 2;
            continue;
        }
        std::cout << "== " << f << "\n" << tandem::format_report(tandem::evaluate(engine, *cases), misses) << "\n";
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::optional<std::string> rules_dir;
    std::optional<std::string> model_file;
    bool no_model = false;
    std::string command;
    std::vector<std::string> rest;
    bool misses = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--help" || a == "-h") {
            std::cout << kHelp;
            return 0;
        }
        if (a == "--version") {
            std::cout << tandem::risk_engine_version << "\n";
            return 0;
        }
        if (a == "--rules") {
            if (i + 1 >= args.size()) {
                std::cerr << "tandem-risk: --rules needs a directory\n";
                return 2;
            }
            rules_dir = args[++i];
        } else if (a == "--model") {
            if (i + 1 >= args.size()) {
                std::cerr << "tandem-risk: --model needs a file\n";
                return 2;
            }
            model_file = args[++i];
        } else if (a == "--no-model") {
            no_model = true;
        } else if (a == "--misses") {
            misses = true;
        } else if (command.empty()) {
            command = a;
        } else {
            rest.push_back(a);
        }
    }
    if (command != "screen" && command != "eval" && command != "check" && command != "features") {
        std::cerr << (command.empty() ? "tandem-risk: no command given\n" : "tandem-risk: unknown command " + command + "\n")
                  << "run tandem-risk --help\n";
        return 2;
    }
    auto rules = load_rules(rules_dir);
    if (!rules) return 2;
    std::optional<tandem::LearnedModel> model;
    if (!no_model && command != "features") {
        auto m = model_file ? tandem::LearnedModel::load_file(*model_file) : tandem::LearnedModel::load_builtin();
        if (!m && (model_file || m.error().code != tandem::ErrorCode::parse || !m.error().message.starts_with("not a Tandem"))) {
            std::cerr << "tandem-risk: model refused: " << m.error().describe() << "\n";
            return 2;
        }
        if (m) model = std::move(*m);
    }
    if (command == "check") {
        std::size_t risk = 0;
        for (const auto& r : rules->rules()) risk += r.kind == tandem::RuleKind::risk ? 1 : 0;
        std::cout << "rules " << rules->version() << ": " << rules->rules().size() << " rules (" << risk
                  << " risk), " << rules->pattern_count() << " patterns: OK\n";
        std::cout << "model " << (model ? model->version() : std::string("none")) << ": OK\n";
        return 0;
    }
    const tandem::RiskEngine engine(std::move(*rules), std::move(model));
    if (command == "features") return features(engine);
    if (command == "screen") return screen(engine);
    if (rest.empty()) {
        std::cerr << "tandem-risk: eval needs at least one FILE\n";
        return 2;
    }
    return eval(engine, rest, misses);
}
