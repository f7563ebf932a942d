// The offline companion: what the patient talks to when no LLM endpoint is configured.
// Deterministic (the same conversation gives the same reply, so demos and tests are
// repeatable) and conservative: it reflects, asks one question, offers one CBT or
// behavioural-activation step, and never names means, doses or medication changes. Risk is
// not its job: the turn pipeline screens every patient message before it gets here.

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "tandem/bridge/llm.h"

namespace tandem::bridge {
namespace {

struct Theme {
    std::string_view name;
    std::vector<std::string_view> cues;  // lower-case substrings of the patient's message
    std::vector<std::string_view> replies;
};

// Order matters: the first theme with a cue wins, so the most specific come first.
const std::vector<Theme>& themes() {
    static const std::vector<Theme> t = {
        {"medication",
         {"medication", "meds", "pill", "dose", "dosage", "prescription", "antidepress", "sertraline", "ssri"},
         {"Questions about medication are important, and they belong with your prescriber or care team, who "
          "know your history. I can't advise on medicines or doses. Would it help to write down what you want "
          "to ask them, so it is ready for your next appointment?"}},
        {"greeting",
         {"hello", " hi ", " hey", "good morning", "good evening"},
         {"Hello, it's good to hear from you. How are you feeling right now, on a scale from 0 (very low) to 10 "
          "(really good)?",
          "Hi. Thanks for checking in. What has today been like for you so far?"}},
        {"thanks",
         {"thank", "thanks", "helpful"},
         {"I'm glad this was useful. Is there one small thing you'd like to try before we talk next?"}},
        {"sleep",
         {"sleep", "insomnia", "awake at night", "tired", "exhausted"},
         {"Sleep troubles wear everything down. Some people find a steady wake-up time, even after a bad night, "
          "and a wind-down half hour without screens help over a couple of weeks. What does your evening "
          "usually look like?"}},
        {"anxiety",
         {"anxious", "anxiety", "worried", "worry", "panic", "nervous", "scared"},
         {"That sounds really uncomfortable, and it makes sense that worry is taking up a lot of room. One CBT "
          "step: write the worry down, then ask 'what is the evidence for it, and against it?' and 'what would "
          "I tell a friend?'. Would you like to try that with the worry that's loudest right now?",
          "Anxiety can make everything feel urgent. Let's slow it down: breathe in for 4, hold for 4, out for 6, "
          "a few times. When you're ready, what is the worry saying will happen?"}},
        {"low_mood",
         {"sad", "depressed", "down", "empty", "hopeless", " low ", "unmotivated", "no energy"},
         {"I'm sorry it feels this heavy. When mood is low, waiting to feel motivated often doesn't work; doing a "
          "small thing first can lift mood a little. What is one small, doable activity today: a short walk, a "
          "shower, texting someone?",
          "Thank you for telling me. Low mood can make everything seem pointless. Could we pick one activity "
          "that used to give you a little pleasure or sense of achievement, and plan when to do it?"}},
        {"stress",
         {"stress", "overwhelm", "too much", "deadline", "work", "exam", "homework"},
         {"It sounds like a lot is landing on you at once. Sometimes it helps to list everything, then circle just "
          "one item you can do in the next hour. What would be on that list?"}},
        {"anger",
         {"angry", "furious", "annoyed", "frustrated", "irritated"},
         {"Frustration usually means something matters to you. What happened, and what would you have wanted "
          "instead? Naming it can take some of the heat out."}},
        {"lonely",
         {"lonely", "alone", "isolated", "no friends", "nobody"},
         {"Feeling alone is painful. Is there one person, even someone you haven't talked to in a while, you could "
          "send a short message to today? Small contact counts."}},
    };
    return t;
}

constexpr std::string_view kDefaultReplies[] = {
    "Thank you for sharing that. It sounds like it matters a lot to you. Can you tell me a little more about "
    "what's been going on?",
    "I hear you. What do you notice in your thoughts and feelings when this comes up?",
    "That sounds hard. What has helped you, even a little, when you've felt like this before?",
};

// Recorded as the model of every AI message it writes; bump the version when replies change,
// so a transcript says which behaviour a patient saw.
constexpr std::string_view kModelName = "tandem-offline-companion/1.1";

// When the pipeline says the patient's last message showed risk: a safety check first, always
// (the AI screen holds replies that ignore disclosed risk). Crisis-level risk never reaches the
// patient through here: the safety protocol has already answered and AI replies are held.
constexpr std::string_view kRiskReply =
    "Thank you for telling me; that took courage. I'm concerned about you. Are you safe right now? Your care "
    "team can see this conversation, and it's a good idea to tell them how you're feeling. If you might act "
    "on these thoughts, please call or text 988 now, or call 911.";

constexpr std::string_view kLabel = "(Offline companion: a simple built-in helper, not an AI model. Your care "
                                    "team can read this conversation.)\n\n";

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// FNV-1a: a stable hash, so the chosen variant does not change between runs or builds.
std::uint64_t stable_hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// How the companion uses an intervention the approved plan names: matched by a lower-case part
// of the name, first match wins. An intervention it does not know gets the generic step, so a
// clinician's own wording never makes the companion improvise a technique.
struct InterventionStep {
    std::vector<std::string_view> keys;
    std::string_view step;
};

const std::vector<InterventionStep>& intervention_steps() {
    static const std::vector<InterventionStep> s = {
        {{"regular eating"},
         "From your care plan: eating at regular times. When is your next planned meal or snack, and what could help "
         "you keep to it?"},
        {{"urge"},
         "From your care plan: if an urge comes, notice it, wait ten minutes and ride it out with something you "
         "planned. What could that something be today?"},
        {{"worry postponement", "worry time", "worry"},
         "From your care plan: jot this worry down in a word or two and save it for your worry time later today. "
         "What would you like to do in the meantime?"},
        {{"relaxation", "breathing", "exposure"},
         "From your care plan: try slow breathing now, in for 4 and out for 6, five times. Then, what is one small "
         "step towards something you have been avoiding?"},
        {{"cognitive restructuring", "thought record", "cognitive"},
         "From your care plan: what is the thought that's loudest right now? Write it down, then list the evidence "
         "for it and against it, and see if there is a more balanced way to put it."},
        {{"behavioural activation", "behavioral activation", "activation", "activity"},
         "From your care plan: what is one small, doable activity you could put in your diary for a set time "
         "tomorrow? Rate your mood before and after, from 0 to 10."},
        {{"problem solving"},
         "From your care plan: let's pick one problem from what you said and one small next step. Which feels most "
         "pressing?"},
        {{"sleep"},
         "From your care plan: keep a steady wake-up time and a screen-free half hour before bed. What could your "
         "wind-down look like tonight?"},
    };
    return s;
}

constexpr std::string_view kGenericStep =
    "From your care plan: what feels most useful to focus on today? Your care team can tell you more about the "
    "steps they chose with you.";

constexpr std::string_view kAvoidReply =
    "That's something your care team would like to talk through with you themselves, so I'll leave it for your "
    "next session with them. ";

constexpr std::string_view kAcknowledgements[] = {"Thank you for telling me. ", "I hear you. ",
                                                  "That sounds like a lot to carry. "};

// A topic to avoid matches on the whole phrase or on any of its longer words ("dieting or food
// restriction" also catches "dieting"), so the companion errs towards leaving a topic alone.
bool mentions(const std::string& text, const std::string& topic) {
    const std::string t = lower(topic);
    if (!t.empty() && text.find(t) != std::string::npos) return true;
    std::size_t start = 0;
    while (start < t.size()) {
        auto end = t.find_first_of(" ,;/", start);
        if (end == std::string::npos) end = t.size();
        if (end - start >= 5 && text.find(t.substr(start, end - start)) != std::string::npos) return true;
        start = end + 1;
    }
    return false;
}

std::string_view step_for(const std::string& intervention) {
    const std::string name = lower(intervention);
    for (const auto& s : intervention_steps())
        for (auto key : s.keys)
            if (name.find(key) != std::string::npos) return s.step;
    return kGenericStep;
}

std::string tone_opener(const std::string& tone) {
    const std::string t = lower(tone);
    if (t.find("brief") != std::string::npos || t.find("direct") != std::string::npos) return {};
    if (t.find("encourag") != std::string::npos) return "You're doing well to keep at this. ";
    if (t.find("warm") != std::string::npos || t.find("gentle") != std::string::npos) return "I'm glad you wrote. ";
    return {};
}

// An approved plan steers the reply: its interventions replace the theme steps (one per turn,
// in the plan's order), its topics to avoid are left to the care team, its tone picks the
// opening, and its homework comes up every other turn. Risk and medication answers stay first.
std::string plan_reply(const ChatRequest& request, const std::string& text, std::uint64_t pick, std::size_t user_turns) {
    const auto& plan = request.plan;
    std::string reply;
    if (std::any_of(plan.avoid_topics.begin(), plan.avoid_topics.end(),
                    [&](const std::string& topic) { return mentions(text, topic); })) {
        reply += kAvoidReply;
    } else {
        reply += tone_opener(plan.tone);
        const std::string t = lower(plan.tone);
        if (t.find("brief") == std::string::npos && t.find("direct") == std::string::npos)
            reply += kAcknowledgements[pick % std::size(kAcknowledgements)];
    }
    reply += plan.interventions.empty() ? kGenericStep
                                        : step_for(plan.interventions[user_turns % plan.interventions.size()]);
    if (!request.homework.empty() && user_turns % 2 == 0)
        reply += "\n\nYour plan's homework: " + request.homework[(user_turns / 2) % request.homework.size()] +
                 ". How is that going?";
    return reply;
}

// The sentence an LLM is asked for by the prompt's questionnaire line, here written out: the
// form is named, its place on the page said, and the pace left to the patient.
std::string questionnaire_mention(const std::vector<std::string>& titles) {
    std::string list;
    for (std::size_t i = 0; i < titles.size(); ++i)
        list += (i == 0 ? "" : i + 1 == titles.size() ? " and " : ", ") + titles[i];
    return titles.size() == 1
               ? "\n\nYour care team asked for a short check-in questionnaire (" + list +
                     "); it's just below when you're ready."
               : "\n\nYour care team asked for a few short check-in questionnaires (" + list +
                     "); they're just below when you're ready.";
}

class OfflineCompanion final : public ChatModel {
public:
    std::string model_name() const override { return std::string(kModelName); }
    bool offline() const noexcept override { return true; }

    Result<ChatReply> complete(const ChatRequest& request, const DeltaSink& on_delta,
                               const std::atomic<bool>*) override {
        std::string last_user;
        std::size_t user_turns = 0;
        for (const auto& m : request.messages)
            if (m.role == "user") {
                last_user = m.content;
                ++user_turns;
            }
        const std::string text = " " + lower(last_user) + " ";  // cues may anchor on spaces
        const auto pick = stable_hash(last_user);
        std::string reply(kLabel);
        bool matched = request.risk_disclosed;
        if (matched) reply += kRiskReply;
        const bool follows_plan = request.plan.plan_version > 0;
        for (const auto& theme : themes()) {
            if (matched) break;
            if (follows_plan && theme.name != "medication") continue;
            if (std::any_of(theme.cues.begin(), theme.cues.end(),
                            [&](std::string_view cue) { return text.find(cue) != std::string::npos; })) {
                reply += theme.replies[pick % theme.replies.size()];
                matched = true;
                break;
            }
        }
        if (!matched && follows_plan) {
            reply += plan_reply(request, text, pick, user_turns);
        } else if (!matched) {
            reply += kDefaultReplies[pick % std::size(kDefaultReplies)];
        }
        // Homework from the clinic default, offered every third turn so it stays a nudge.
        if (!follows_plan && !request.risk_disclosed && !request.homework.empty() && user_turns % 3 == 0)
            reply += "\n\nFrom your plan: " + request.homework[(user_turns / 3) % request.homework.size()] +
                     ". How is that going?";
        // Never beside a safety check: the pipeline sends none on a risky turn, and this is
        // the companion's own guard for that rule.
        if (!request.risk_disclosed && !request.offered_questionnaires.empty())
            reply += questionnaire_mention(request.offered_questionnaires);
        if (on_delta) {
            // The whole reply is known before its first piece: the turn screens it once, whole,
            // and then shows the pieces without re-screening each sentence's prefix.
            on_delta.whole(reply);
            // Streamed in word-sized pieces so the page behaves as with a real model.
            std::size_t start = 0;
            while (start < reply.size()) {
                auto end = reply.find(' ', start);
                end = end == std::string::npos ? reply.size() : end + 1;
                on_delta(std::string_view(reply).substr(start, end - start));
                start = end;
            }
        }
        ChatReply out;
        out.text = std::move(reply);
        out.model = model_name();
        out.finish_reason = "stop";
        out.offline = true;
        return out;
    }
};

}  // namespace

std::unique_ptr<ChatModel> make_offline_companion() { return std::make_unique<OfflineCompanion>(); }

}  // namespace tandem::bridge
