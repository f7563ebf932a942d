#pragma once
// The bridge's own indexes (accounts, clinic policy) are built by reading the event log as the
// system, not as a clinician, from where they last stopped.

#include <cstdint>

#include "tandem/store/store.h"

namespace tandem::bridge {

/// Calls `on_event` for every event after `cursor`, in order, page by page, moving `cursor` past
/// each one; returns at the head. A storage error stops it with `cursor` at the last event seen.
template <typename OnEvent>
Result<void> read_log_after(Store& store, std::int64_t& cursor, OnEvent&& on_event) {
    // Every event: these indexes hold clinic-wide state, which a supervisor's view covers.
    Principal all;
    all.supervisor = true;
    while (true) {
        auto page = store.read_after(cursor, all, 1000);
        if (!page) return std::unexpected(page.error());
        if (page->empty()) return {};
        for (const auto& e : *page) {
            cursor = e.seq;
            on_event(e);
        }
    }
}

}  // namespace tandem::bridge
