#pragma once
// A Store that tells a listener after every durable append. The clinician feed hangs off this
// seam: the patient pipeline appends as before and never waits on clinicians, and the feed reads
// what was appended back from the store (in seq order, with the store's visibility rules).
// It also keeps the patients a turn reads (find_patient_cached), since it sees every append of
// this process as it returns.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "tandem/store/store.h"

namespace tandem::bridge {

class NotifyingStore final : public Store {
public:
    /// Wraps `inner`, which must outlive this object.
    explicit NotifyingStore(Store& inner);

    /// Called with the new head seq after each append that added events (not for duplicates),
    /// on the appending thread; it must be quick and must not append. Set before use; any thread.
    void set_listener(std::function<void(std::int64_t)> listener);

    /// The patient as find_patient reads it, shared (null: no such patient). Once follow_log()
    /// is fed, from memory: an append through this object that changes a patient (registration,
    /// assignment, crisis, pause) drops it before the append returns, and one by another process
    /// when the feed's next pass reaches it; until then, and for a patient not held, read now.
    /// Errors: as find_patient (nothing is kept). Any thread; blocking on a miss.
    Result<std::shared_ptr<const PatientView>> find_patient_cached(std::string_view patient_id);

    /// Every event of the log after some point, in order, page by page (the clinician feed's
    /// shared read): from the first call on, find_patient_cached keeps patients in memory and a
    /// patient event in the feed drops theirs. Any thread.
    void follow_log(std::span<const FeedEvent> events);

    Result<AppendResult> append(NewEvent event) override;
    Result<std::vector<AppendResult>> append_batch(std::vector<NewEvent> events) override;
    Result<std::vector<StoredEvent>> read_after(std::int64_t after_seq, const Principal& principal,
                                                std::size_t limit) override;
    Result<std::vector<FeedEvent>> read_feed_after(std::int64_t after_seq, std::size_t limit) override;
    Result<ChainHead> head() override;
    Result<ChainReport> verify_chain(const std::optional<ChainHead>& anchor) override;
    Result<std::optional<PatientView>> find_patient(std::string_view patient_id) override;
    Result<std::vector<PatientView>> patients(const Principal& principal) override;
    Result<std::vector<ConversationView>> conversations(std::string_view patient_id) override;
    Result<std::vector<MessageView>> messages(std::string_view conversation_id) override;
    Result<std::vector<MessageView>> recent_messages(std::string_view conversation_id, std::size_t limit) override;
    Result<std::vector<FlagView>> open_flags(const Principal& principal) override;
    Result<std::vector<PlanView>> plans(std::string_view patient_id) override;
    Result<std::vector<AssessmentView>> assessments(std::string_view patient_id) override;

private:
    void notify(std::int64_t seq);
    // Drops the patients that `events` change; empty ids with `all`: drop them all.
    void forget_patients(const std::vector<std::string>& ids, bool all);

    Store& inner_;
    std::mutex mutex_;  // guards listener_
    std::shared_ptr<const std::function<void(std::int64_t)>> listener_;

    // Patients held for find_patient_cached. generation_ moves on every drop, so a store read
    // that raced a patient event is not kept (it may predate the event).
    std::mutex patients_mutex_;
    bool following_ = false;
    std::uint64_t generation_ = 0;
    std::unordered_map<std::string, std::shared_ptr<const PatientView>> patients_;
};

}  // namespace tandem::bridge
