#pragma once
// Treatment plans in the bridge (issue 7): the plan each AI turn runs under, proposals (by the
// LLM or the offline companion's templates) made on workers off the patient's reply path, the
// clinicians' plan actions (decide, write, restore) as atomic event batches, and the patient's
// `plan` frame. State lives in the store (plan_* events and the plans view); the service keeps
// an index from plan id to patient, the patients whose proposal was already queued, and (once
// follow_log is fed) each patient's active plan.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/bridge/config.h"
#include "tandem/measures/measures.h"
#include "tandem/bridge/llm.h"
#include "tandem/bridge/plan_prompt.h"
#include "tandem/store/store.h"

namespace tandem::bridge {

class SerialWorkers;

struct PlanServiceOptions {
    /// Patient turns after which the AI proposes a first plan (once per patient; a clinician's
    /// plan_request asks again). 0: only on request.
    int proposal_after_turns = 6;
    int proposal_attempts = 3;       ///< LLM replies tried per proposal; later ones are told what was wrong
    int proposal_max_tokens = 1500;  ///< a plan needs more room than a chat reply
    std::size_t conversation_window = 40;  ///< newest messages the proposer reads
    std::string default_plan_id = "default-clinic-plan";
    int default_plan_version = 1;
    std::vector<std::string> default_homework;
    std::vector<CrisisResource> crisis_resources = BridgeConfig{}.crisis_resources;
    int worker_threads = 2;
    /// Questionnaires a plan may schedule (built-ins plus the clinic's); null: the built-ins.
    const InstrumentRegistry* instruments = nullptr;
};

/// A clinician's plan action once stored: the seq to report in action_result.
struct PlanActionOutcome {
    std::int64_t seq = 0;
    bool duplicate = false;  ///< the same action_id was already stored; nothing was appended
};

class PlanService {
public:
    /// store and model must outlive the service. Any thread.
    PlanService(Store& store, ChatModel& model, PlanServiceOptions options);
    ~PlanService();  ///< finishes queued proposals
    PlanService(const PlanService&) = delete;
    PlanService& operator=(const PlanService&) = delete;

    /// Where `plan` frames for a patient go (PatientService::send_to_patient). Call once, before
    /// any other call. Main thread.
    void set_patient_sink(std::function<void(const std::string& patient_id, const std::string& frame)> sink);

    /// The plan the patient's next AI turn runs under: the newest approved version, else the
    /// clinic default. Read from the store, or once follow_log() is fed, from memory kept
    /// current by it (an approval through apply() applies to the very next turn; one appended
    /// by another process, after the feed's next pass). A store error gives the default (not
    /// kept). Any thread; blocking.
    PromptPlan active_plan(const std::string& patient_id);
    /// As active_plan, shared and never changed (a turn reads it without copying the plan's
    /// record; a later plan event makes a new one). Never null. Any thread; blocking.
    std::shared_ptr<const PromptPlan> active_plan_shared(const std::string& patient_id);

    /// Every event of the log after some point, in order, page by page (the clinician feed's
    /// shared read): from the first call on, active plans are kept in memory and a decision on
    /// a patient's plan (plan_approved, plan_rejected) drops theirs; a proposal alone changes no
    /// active plan. Without it every active_plan() reads the store. Any thread.
    void follow_log(std::span<const FeedEvent> events);

    /// What the prompt may know about the patient besides the plan (registered conditions).
    /// Any thread; blocking.
    PromptContext prompt_context(const std::string& patient_id, bool risk_disclosed);
    /// The same from a patient view the caller already read (null: read it now). Any thread.
    PromptContext prompt_context(const PatientView* patient, const std::string& patient_id, bool risk_disclosed);

    /// The wire/plan payload for the patient (never from a proposal). Any thread; blocking.
    nlohmann::json patient_payload(const std::string& patient_id);

    /// Called after each patient turn: queues the first proposal once the patient has made
    /// proposal_after_turns turns and has no plan version yet. Never blocks on the LLM. Any thread.
    void after_patient_turn(const std::string& patient_id);

    /// Queues a proposal now (clinician's plan_request). Any thread; never blocks.
    void request_proposal(const std::string& patient_id);

    /// Makes one proposal and stores it as plan_proposed (actor ai); on failure appends
    /// llm_failed {purpose: plan_proposal, reason}. Returns the new plan's id. Errors:
    /// unavailable (model down or refused), parse / schema (no valid plan after the attempts),
    /// storage. Blocking: a worker or a test.
    Result<std::string> propose(const std::string& patient_id);

    /// The patient a plan version belongs to. Errors: not_found, storage. Any thread.
    Result<std::string> patient_of_plan(const std::string& plan_id);

    /// Every version of the patient's plan (records, by version). Errors: storage. Any thread.
    Result<nlohmann::json> versions(const std::string& patient_id);

    /// Applies a schema-valid plan action (wire/actions/plan) by `clinician_id`, whose
    /// permission the caller checked, appending its events and `audit` in one batch (the first
    /// event carries dedupe key action_key). Errors: not_found (plan), conflict (plan_decide on
    /// a version not proposed), schema (field set: an edited plan that is not a valid record, a
    /// blank reason), storage. Sends the patient a `plan` frame after an approval. Any thread.
    Result<PlanActionOutcome> apply(const nlohmann::json& action, const std::string& patient_id,
                                    const std::string& clinician_id, const std::string& action_key, NewEvent audit);

    /// Blocks until queued proposals have run (tests, shutdown). Not from a plan worker.
    void drain();

private:
    Result<int> next_version(const std::string& patient_id);  // mutex_ held
    Result<void> refresh_index();                              // index_mutex_ held
    void remember(const std::string& plan_id, const std::string& patient_id);
    void push_plan_frame(const std::string& patient_id);
    void report_failure(const std::string& patient_id, const Error& error, int attempts);
    void check_proposal_due(const std::string& patient_id);  // plan lane; reads the store
    // propose() with the patient's messages when the caller already read them (null: read now).
    Result<std::string> propose_with(const std::string& patient_id, const std::vector<MessageView>* messages);
    // Every message of the patient's conversations, oldest conversation first. Errors: storage.
    Result<std::vector<MessageView>> all_messages(const std::string& patient_id);

    // A patient's turns since registration, as calls + offset: offset is set from the store's
    // count on each exact check (seeded lazily, so a restart rebuilds it), calls counts
    // after_patient_turn in this process.
    struct TurnCount {
        std::uint64_t calls = 0;
        std::int64_t offset = 0;
        bool seeded = false;
        bool check_queued = false;  // an exact check is posted and not started yet
    };

    Store& store_;
    ChatModel& model_;
    const InstrumentRegistry& instruments() const {
        return options_.instruments != nullptr ? *options_.instruments : InstrumentRegistry::builtin();
    }
    const PlanServiceOptions options_;
    std::function<void(const std::string&, const std::string&)> sink_;

    std::mutex mutex_;  // serialises version numbering and plan appends
    std::mutex index_mutex_;
    std::int64_t index_cursor_ = 0;
    std::unordered_map<std::string, std::string> plan_patient_;  // plan id -> patient id
    std::mutex queued_mutex_;
    std::unordered_set<std::string> auto_queued_;  // patients whose first proposal was queued
    std::unordered_map<std::string, TurnCount> turn_counts_;  // patients not in auto_queued_
    std::unique_ptr<SerialWorkers> workers_;

    // Active plans in memory (follow_log). generation_ moves on every drop, so a store read that
    // raced a plan event is not kept (it may predate the event).
    void forget_active_plan(const std::string& patient_id);
    std::mutex active_mutex_;
    bool following_ = false;
    std::uint64_t generation_ = 0;
    std::unordered_map<std::string, std::shared_ptr<const PromptPlan>> active_;
    std::shared_ptr<const PromptPlan> default_plan_;  // the clinic default, built once
};

}  // namespace tandem::bridge
