#pragma once
// A Store that tells a listener after every durable append. The clinician feed hangs off this
// seam: the patient pipeline appends as before and never waits on clinicians, and the feed reads
// what was appended back from the store (in seq order, with the store's visibility rules).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "tandem/store/store.h"

namespace tandem::bridge {

class NotifyingStore final : public Store {
public:
    /// Wraps `inner`, which must outlive this object.
    explicit NotifyingStore(Store& inner);

    /// Called with the new head seq after each append that added events (not for duplicates),
    /// on the appending thread; it must be quick and must not append. Set before use; any thread.
    void set_listener(std::function<void(std::int64_t)> listener);

    Result<AppendResult> append(NewEvent event) override;
    Result<std::vector<AppendResult>> append_batch(std::vector<NewEvent> events) override;
    Result<std::vector<StoredEvent>> read_after(std::int64_t after_seq, const Principal& principal,
                                                std::size_t limit) override;
    Result<ChainHead> head() override;
    Result<ChainReport> verify_chain(const std::optional<ChainHead>& anchor) override;
    Result<std::optional<PatientView>> find_patient(std::string_view patient_id) override;
    Result<std::vector<PatientView>> patients(const Principal& principal) override;
    Result<std::vector<ConversationView>> conversations(std::string_view patient_id) override;
    Result<std::vector<MessageView>> messages(std::string_view conversation_id) override;
    Result<std::vector<FlagView>> open_flags(const Principal& principal) override;
    Result<std::vector<PlanView>> plans(std::string_view patient_id) override;
    Result<std::vector<AssessmentView>> assessments(std::string_view patient_id) override;

private:
    void notify(std::int64_t seq);
    Store& inner_;
    std::mutex mutex_;  // guards listener_
    std::shared_ptr<const std::function<void(std::int64_t)>> listener_;
};

}  // namespace tandem::bridge
