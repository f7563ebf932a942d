#pragma once
// A bounded cache of turn analyses shared by every thread of the process: the engine's thread
// caches miss when the next turn of a conversation runs on another thread (the bridge hands turns
// to any of 128 workers), and this one still has the turns that thread, or any other, analysed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::detail {

/// What an analysis is keyed on: the rule set that made it, whether the model's context features
/// are in it, the turn's own key (role and text) and its chain key (every turn before it).
struct TurnCacheKey {
    std::uint64_t generation = 0;  ///< RuleSet::generation()
    bool with_model = false;
    std::uint64_t own = 0;
    std::uint64_t chain = 0;
};

/// One published turn; never changed once published, so readers use it without a lock.
/// Value says with `bool used_context` whether the chain key is part of its key.
template <class Value>
struct SharedTurn {
    TurnCacheKey key;
    std::string text;  ///< compared on a hit, so a hash collision cannot swap two turns
    Value value;
};

/// Set-associative: a turn's own key picks a set of kWays slots, each set behind its own mutex,
/// so threads meet only when their turns hash to the same set (1 in capacity / kWays). The lock
/// covers comparing keys and copying a shared_ptr; the text is compared outside it. 32 ways, not
/// 8: the bridge's live turns (2,000 conversations x 6) fill 73% of 16,384 slots, and with sets
/// of 8 a set's share of new turns pushed out about a quarter of them before their last use
/// (Poisson: P(8 or more arrivals while a turn is live) = 0.24); with 32, about 0.05.
/// Rejected: one mutex (128 workers would queue on it) and a lock-free table (entries must be
/// released safely when replaced: shared_ptr under a short lock does that).
/// find() and publish() any thread, concurrently.
template <class Value>
class SharedTurnCache {
public:
    using Entry = SharedTurn<Value>;
    static constexpr std::size_t kWays = 32;

    /// Holds at most capacity turns (rounded up to a power of two sets of kWays). Any thread.
    explicit SharedTurnCache(std::size_t capacity) : sets_(round_sets(capacity)), mask_(sets_.size() - 1) {}

    /// The turn published under key with this text, or null. Any thread.
    std::shared_ptr<const Entry> find(const TurnCacheKey& key, std::string_view text) const {
        const Set& set = sets_[index(key.own)];
        std::shared_ptr<const Entry> hit;
        {
            const std::lock_guard lock(set.mutex);
            for (const Slot& s : set.slots) {
                if (s.matches(key)) {
                    hit = s.entry;
                    break;
                }
            }
        }
        // Entries are immutable, so the text comparison needs no lock; a different text under the
        // same keys (a 64-bit collision) is a miss, as in the thread caches.
        if (hit && hit->text != text) hit.reset();
        return hit;
    }

    /// Publishes entry (replacing the set's oldest slot once full) unless an equal turn is there
    /// already (two threads analysed the same turn at once). Any thread.
    void publish(std::shared_ptr<const Entry> entry) {
        Set& set = sets_[index(entry->key.own)];
        std::shared_ptr<const Entry> evicted;  // released after the lock, not under it
        {
            const std::lock_guard lock(set.mutex);
            for (const Slot& s : set.slots) {
                if (s.matches(entry->key) && s.entry->text == entry->text &&
                    s.used_context == entry->value.used_context) {
                    return;
                }
            }
            Slot& slot = set.slots[set.next];
            set.next = static_cast<std::uint8_t>((set.next + 1) % kWays);
            evicted = std::move(slot.entry);
            slot.generation = entry->key.generation;
            slot.with_model = entry->key.with_model;
            slot.used_context = entry->value.used_context;
            slot.own = entry->key.own;
            slot.chain = entry->key.chain;
            slot.entry = std::move(entry);
        }
    }

    /// Turns held now (locks each set in turn: for tests and figures). Any thread.
    std::size_t size() const {
        std::size_t n = 0;
        for (const Set& set : sets_) {
            const std::lock_guard lock(set.mutex);
            for (const Slot& s : set.slots) n += s.entry ? 1 : 0;
        }
        return n;
    }

    /// The most turns it holds. Any thread.
    std::size_t capacity() const noexcept { return sets_.size() * kWays; }

    /// Drops every turn (tests). Any thread.
    void clear() {
        for (Set& set : sets_) {
            std::array<std::shared_ptr<const Entry>, kWays> dropped;
            {
                const std::lock_guard lock(set.mutex);
                for (std::size_t i = 0; i < kWays; ++i) dropped[i] = std::move(set.slots[i].entry);
            }
        }
    }

private:
    // The keys beside the pointer, so a lookup compares without touching the entries.
    struct Slot {
        std::uint64_t generation = 0;
        std::uint64_t own = 0;
        std::uint64_t chain = 0;
        bool with_model = false;
        bool used_context = false;
        std::shared_ptr<const Entry> entry;

        bool matches(const TurnCacheKey& k) const {
            return entry && own == k.own && generation == k.generation && with_model == k.with_model &&
                   (!used_context || chain == k.chain);
        }
    };
    struct Set {
        mutable std::mutex mutex;
        std::array<Slot, kWays> slots;
        std::uint8_t next = 0;  // the slot to replace next
    };

    static std::size_t round_sets(std::size_t capacity) {
        std::size_t sets = 1;
        while (sets * kWays < capacity) sets *= 2;
        return sets;
    }
    // The own key is a multiplied hash: its high bits are the best mixed.
    std::size_t index(std::uint64_t own) const { return static_cast<std::size_t>((own >> 32) ^ own) & mask_; }

    std::vector<Set> sets_;
    std::size_t mask_;
};

/// The engine's own shared cache of context turns (engine.cpp), for tests and figures: the turns
/// it holds now, the most it holds, and dropping them all. Any thread.
std::size_t shared_context_turns();
std::size_t shared_context_turn_capacity();
void clear_shared_context_turns();

}  // namespace tandem::detail
