// The outcome report written to disk: a PNG of the size the layout says and a PDF, through the
// same cairo drawing as the app. wx's fonts need a display, so this binary runs under xvfb-run.
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_macros.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <wx/app.h>
#include <wx/init.h>

#include "outcome_report_export.h"
#include "tandem/clinician/outcome_demo.h"
#include "tandem/measures/measures.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::clinician;
using namespace tandem::clinician::testing;

namespace {

constexpr auto kWeek = std::chrono::milliseconds{7LL * 24 * 3600 * 1000};

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("tandem-report-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::string read_all(const std::filesystem::path& p) {
    // A sized read: istreambuf_iterator trips g++ 12's -Wnull-dereference.
    std::ifstream in(p, std::ios::binary);
    std::string bytes(static_cast<std::size_t>(std::filesystem::file_size(p)), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
}

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

// A patient with three PHQ-9 and three GAD-7 results, as the Outcomes tab would show them.
struct Report {
    Model model;
    PatientOutcomes outcomes;
    ReportHeader header;
    Report() {
        model.apply(event(1, "patient_registered", "p1", patient("p1", "Alex Rivera", "t1")));
        const std::array<int, 3> phq{14, 10, 6};
        const std::array<int, 3> gad{12, 9, 7};
        for (int i = 0; i < 3; ++i) {
            const auto at = t0() + i * 4 * kWeek;
            model.apply(demo_assessment_event(model.cursor() + 1, "p1", "phq9", phq[static_cast<std::size_t>(i)], at,
                                              "phq-" + std::to_string(i)));
            model.apply(demo_assessment_event(model.cursor() + 1, "p1", "gad7", gad[static_cast<std::size_t>(i)], at,
                                              "gad-" + std::to_string(i)));
        }
        outcomes = patient_outcomes(model.assessments(), InstrumentRegistry::builtin(), "p1");
        header = report_header(model, "p1", t0() + 9 * kWeek);
    }
};

}  // namespace

TEST_CASE("PNG export writes a valid PNG as wide and tall as the report layout", "[clinician][outcomes][export]") {
    TempDir dir;
    Report r;
    const auto path = dir.path / "report.png";
    REQUIRE(views::export_report(path, r.header, r.outcomes).has_value());
    const std::string bytes = read_all(path);
    REQUIRE(bytes.size() > 33);
    CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK(bytes.substr(12, 4) == "IHDR");
    const auto layout = layout_report(r.outcomes);
    CHECK(big_endian(bytes, 16) == static_cast<std::uint32_t>(layout.width));
    CHECK(big_endian(bytes, 20) == static_cast<std::uint32_t>(layout.page_height));
    // Something was drawn: a blank white page of this size compresses to a few kilobytes.
    CHECK(bytes.size() > 20000);
    // TANDEM_REPORT_SAMPLES=DIR keeps a copy to look at (docs, review by eye).
    if (const char* keep = std::getenv("TANDEM_REPORT_SAMPLES"); keep != nullptr && *keep != '\0') {
        std::filesystem::copy_file(path, std::filesystem::path(keep) / "outcome-report.png",
                                   std::filesystem::copy_options::overwrite_existing);
        REQUIRE(views::export_report(std::filesystem::path(keep) / "outcome-report.pdf", r.header, r.outcomes));
    }
}

TEST_CASE("PDF export writes a PDF document", "[clinician][outcomes][export]") {
    TempDir dir;
    Report r;
    const auto path = dir.path / "report.PDF";  // the extension decides, in any case
    REQUIRE(views::export_report(path, r.header, r.outcomes).has_value());
    const std::string bytes = read_all(path);
    REQUIRE(bytes.size() > 1000);
    CHECK(bytes.substr(0, 5) == "%PDF-");
    CHECK(bytes.find("%%EOF") != std::string::npos);
}

TEST_CASE("export refuses an unknown format and an unwritable path with a clear error", "[clinician][outcomes][export]") {
    TempDir dir;
    Report r;
    const auto wrong = views::export_report(dir.path / "report.txt", r.header, r.outcomes);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == ErrorCode::invalid_argument);
    const auto missing = views::export_report(dir.path / "no-such-dir" / "report.png", r.header, r.outcomes);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == ErrorCode::io);
}

int main(int argc, char* argv[]) {
    wxApp::SetInstance(new wxApp);
    int wx_argc = 1;
    if (!wxEntryStart(wx_argc, argv)) return 2;
    wxTheApp->CallOnInit();
    const int result = Catch::Session().run(argc, argv);
    wxEntryCleanup();
    return result;
}
