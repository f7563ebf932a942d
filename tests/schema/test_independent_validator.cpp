// What the C++ code writes must satisfy an independent implementation of the schemas too:
// python3-jsonschema (Draft 7) checks the same documents, and bad ones must fail in both
// validators at the same JSON pointer.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include <catch2/catch_test_macros.hpp>

#include "schema_cases.h"
#include "tandem/schema/schema_registry.h"

using namespace tandem;
using namespace tandem::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("tandem-schema-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

struct PythonVerdict {
    bool valid = false;
    std::string pointer;
    std::string reason;
};

// Runs the script over every case file; file name -> verdict.
std::map<std::string, PythonVerdict> run_python(const fs::path& cases) {
    const std::string command = std::string("/usr/bin/python3 '") + TANDEM_JSONSCHEMA_SCRIPT + "' '" +
                                TANDEM_SCHEMA_DIR + "' '" + cases.string() + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buffer[4096];
    while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    INFO(output);
    REQUIRE(status == 0);
    std::map<std::string, PythonVerdict> verdicts;
    std::size_t start = 0;
    while (start < output.size()) {
        const auto end = output.find('\n', start);
        const auto line = output.substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? output.size() : end + 1;
        if (line.empty()) continue;
        const json j = json::parse(line);
        verdicts[j.at("file").get<std::string>()] =
            PythonVerdict{j.at("valid").get<bool>(), j.value("pointer", ""), j.value("reason", "")};
    }
    return verdicts;
}

void write_case(const fs::path& file, const std::string& schema, const json& document) {
    std::ofstream out(file);
    out << json{{"schema", schema}, {"document", document}}.dump(2);
}

}  // namespace

TEST_CASE("python3-jsonschema agrees: good documents pass, bad ones fail at the same pointer",
          "[schema][python]") {
    TempDir dir;
    const auto good = good_documents();
    const auto bad = bad_documents();
    for (std::size_t i = 0; i < good.size(); ++i) {
        write_case(dir.path() / ("good_" + std::to_string(100 + i) + ".json"), good[i].schema,
                   good[i].document);
    }
    for (std::size_t i = 0; i < bad.size(); ++i) {
        json doc = sample_for(bad[i].schema);
        bad[i].mutate(doc);
        write_case(dir.path() / ("bad_" + std::to_string(100 + i) + ".json"), bad[i].schema, doc);
    }

    const auto verdicts = run_python(dir.path());
    REQUIRE(verdicts.size() == good.size() + bad.size());

    for (std::size_t i = 0; i < good.size(); ++i) {
        const auto& verdict = verdicts.at("good_" + std::to_string(100 + i) + ".json");
        INFO(good[i].name << ": " << verdict.pointer << " " << verdict.reason);
        CHECK(verdict.valid);
    }
    const auto& registry = SchemaRegistry::builtin();
    for (std::size_t i = 0; i < bad.size(); ++i) {
        const auto& verdict = verdicts.at("bad_" + std::to_string(100 + i) + ".json");
        INFO(bad[i].name << ": python says " << verdict.pointer << " " << verdict.reason);
        CHECK_FALSE(verdict.valid);
        CHECK(verdict.pointer == bad[i].pointer);
        json doc = sample_for(bad[i].schema);
        bad[i].mutate(doc);
        const auto ours = registry.validate(bad[i].schema, doc);
        REQUIRE_FALSE(ours.has_value());
        CHECK(ours.error().field == verdict.pointer);
    }
}
