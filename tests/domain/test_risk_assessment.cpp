#include "tandem/domain/risk_assessment.h"

#include <catch2/catch_test_macros.hpp>

using namespace tandem;

TEST_CASE("severity names round-trip and order by urgency", "[domain]") {
    for (auto s : {Severity::none, Severity::low, Severity::moderate, Severity::high, Severity::imminent}) {
        REQUIRE(parse_severity(to_string(s)) == s);
    }
    CHECK(Severity::imminent > Severity::high);
    CHECK_FALSE(parse_severity("urgent").has_value());
}
