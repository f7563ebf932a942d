#pragma once
// The bridge's own indexes (accounts, clinic policy) are built by reading the event log as the
// system, not as a clinician, from where they last stopped.

#include <cstdint>
#include <span>

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

/// Moves an index along events somebody else already read (one read_feed_after page: every
/// event after `after_seq`, in order) instead of reading them again: calls `on_event` for those
/// after `cursor` and moves `cursor` to the page's end. Returns false, and does nothing, when
/// `cursor` is before `after_seq` (the index has a gap that only its own read_log_after fills).
/// Caller holds the index's lock.
template <typename OnEvent>
bool follow_read_events(std::int64_t& cursor, std::int64_t after_seq, std::span<const FeedEvent> events,
                        OnEvent&& on_event) {
    if (cursor < after_seq) return false;
    for (const auto& fe : events) {
        if (fe.event.seq <= cursor) continue;
        cursor = fe.event.seq;
        on_event(fe.event);
    }
    return true;
}

}  // namespace tandem::bridge
