#pragma once
// Strong ids: a ClinicId cannot be passed where a PatientId is expected. The text rule is the
// architecture's: 1 to 64 characters from [A-Za-z0-9_.-]; new ids are UUID text (random v4, or
// time-ordered v7 for ids that key a store index).

#include <compare>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "tandem/domain/error.h"

namespace tandem {

/// True when text is 1 to 64 characters from [A-Za-z0-9_.-]. Any thread.
bool is_valid_id(std::string_view text) noexcept;

/// Random UUIDv4 in lowercase 8-4-4-4-12 form: 122 bits from the kernel's CSPRNG. Any thread.
std::string new_uuid_v4();

/// Time-ordered UUIDv7 in lowercase 8-4-4-4-12 form (RFC 9562: 48 bits of Unix milliseconds, 12
/// bits of sub-millisecond time, then 62 bits from the kernel's CSPRNG), so ids made later sort
/// later as text (to the clock's precision) and a store index keyed by them grows at its right
/// edge. Unique (62 random bits per 244 ns tick), not guessable; reveals when it was made. Any
/// thread; throws std::runtime_error only if the kernel's random source fails (broken invariant).
std::string new_uuid_v7();

/// An id of the record kind named by Tag. Default-constructed ids are empty (not valid);
/// validate() of a record rejects them.
template <class Tag>
class Id {
public:
    Id() = default;

    /// For ids known to be good (literals, tests); throws std::invalid_argument otherwise.
    explicit Id(std::string text) : value_(std::move(text)) {
        if (!is_valid_id(value_)) throw std::invalid_argument("not a valid id");
    }

    /// Checks the id rule; ErrorCode::invalid_argument (field empty: the caller names it).
    static Result<Id> parse(std::string_view text) {
        if (!is_valid_id(text)) {
            return fail(ErrorCode::invalid_argument,
                        "must be 1 to 64 characters from [A-Za-z0-9_.-]");
        }
        Id id;
        id.value_ = std::string(text);
        return id;
    }

    /// A fresh random id (UUIDv4 text). Any thread.
    static Id new_id() { return Id(new_uuid_v4()); }

    /// The id's text, empty for a default-constructed id.
    const std::string& str() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }

    auto operator<=>(const Id&) const = default;
    bool operator==(const Id&) const = default;

private:
    std::string value_;
};

using ClinicId = Id<struct ClinicIdTag>;
using ClinicianId = Id<struct ClinicianIdTag>;
using PatientId = Id<struct PatientIdTag>;
using ConversationId = Id<struct ConversationIdTag>;
using MessageId = Id<struct MessageIdTag>;
using FlagId = Id<struct FlagIdTag>;
using PlanId = Id<struct PlanIdTag>;
using AssessmentId = Id<struct AssessmentIdTag>;
using EventId = Id<struct EventIdTag>;

}  // namespace tandem

/// Ids hash like their text, so they can key unordered containers.
template <class Tag>
struct std::hash<tandem::Id<Tag>> {
    std::size_t operator()(const tandem::Id<Tag>& id) const noexcept {
        return std::hash<std::string>{}(id.str());
    }
};
