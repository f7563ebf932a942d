#pragma once
// Vectorscan scratch spaces lent for one scan. Private to common/risk (rule_set.cpp).
//
// Shared by every thread that screens with one rule set: taken for a scan and given back after
// it, so there are only as many as scans that ever ran at once. Why not one per thread: the
// bridge screens on its 128 turn workers, which mostly wait on commits, and one scratch for all
// of a set's databases is about 340 KB: 43 MB of the bridge at 1,000 msg/s (jeprof,
// docs/PERFORMANCE.md "Bridge memory"). The lock is held only to pop or push a pointer.

#include <hs.h>

#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace tandem {

class ScratchPool {
public:
    ScratchPool() = default;
    ScratchPool(const ScratchPool&) = delete;
    ScratchPool& operator=(const ScratchPool&) = delete;
    ~ScratchPool() {
        for (hs_scratch_t* s : free_) hs_free_scratch(s);
    }

    /// A free scratch, or a new one sized for every database `databases()` lists (nullptr
    /// entries skipped; called only when none is free); give it back with give_back. Any thread.
    template <class ListDatabases>
    hs_scratch_t* take(ListDatabases&& databases) {
        {
            const std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                hs_scratch_t* s = free_.back();
                free_.pop_back();
                return s;
            }
        }
        hs_scratch_t* s = nullptr;
        bool ok = true;
        for (const hs_database_t* db : databases())
            if (ok && db != nullptr) ok = hs_alloc_scratch(db, &s) == HS_SUCCESS;
        if (!ok) {
            if (s != nullptr) hs_free_scratch(s);
            throw std::bad_alloc();
        }
        return s;
    }
    /// Returns a scratch from take(). Any thread.
    void give_back(hs_scratch_t* s) {
        const std::lock_guard lock(mutex_);
        free_.push_back(s);
    }

private:
    std::mutex mutex_;
    std::vector<hs_scratch_t*> free_;
};

/// A pooled scratch for the length of one scan.
class ScratchLease {
public:
    template <class ListDatabases>
    ScratchLease(ScratchPool& pool, ListDatabases&& databases)
        : pool_(pool), scratch_(pool.take(std::forward<ListDatabases>(databases))) {}
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    ~ScratchLease() { pool_.give_back(scratch_); }
    /// The scratch, valid until the lease ends.
    hs_scratch_t* get() const noexcept { return scratch_; }

private:
    ScratchPool& pool_;
    hs_scratch_t* scratch_;
};

}  // namespace tandem
