// tandem-loadgen's two ways of driving the protocol clients of peers.h: a load run (run_load:
// connect, send at a steady rate, measure) and the demo (play_scenario: scripted patients at a
// human pace). Only timers and posts here; the WebSocket code is in peers.cpp.
//
// Threading: one io_context per client thread, each run by exactly one thread, and every
// connection lives on one of them for its whole life, so a connection needs no strand and each
// thread keeps its own counters (merged after the threads stop) instead of sharing locked ones.

// Asio's scheduler trips g++ 12's -Wnull-dereference after inlining at -O2 (a false positive in
// Boost 1.74, as in patient_bridge/src/server.cpp).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "peers.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <future>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "questionnaires.h"

namespace tandem::loadgen {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Ordinary and risky patient lines for load runs. The risky ones screen moderate or higher, so
// the run exercises flags and the safety protocol the way a real clinic's traffic would.
constexpr std::string_view kOrdinary[] = {
    "I slept badly again and felt anxious all morning before work.",
    "Today was a bit better, I went for a short walk after lunch.",
    "I keep putting off the homework, it feels like too much right now.",
    "My manager criticised my report and I have been replaying it all day.",
    "I tried the thought record last night and it helped a little.",
    "I feel lonely in the evenings since my friend moved away.",
    "Work stress is high this week but I am managing to eat properly.",
    "I got annoyed at my brother and then felt guilty about it.",
};
constexpr std::string_view kRisky[] = {
    "Sometimes I feel like everyone would be better off without me.",
    "I have been thinking about ending my life and I have a plan.",
    "I cut myself last night to cope with the feeling.",
};

// io threads, each with its own io_context kept alive by a work guard until stop().
class IoPool {
public:
    explicit IoPool(int n) {
        for (int i = 0; i < std::max(1, n); ++i) {
            contexts_.push_back(std::make_unique<net::io_context>(1));
            guards_.emplace_back(net::make_work_guard(*contexts_.back()));
            stats_.push_back(std::make_unique<ThreadStats>());
        }
        for (auto& c : contexts_) threads_.emplace_back([&ioc = *c] { ioc.run(); });
    }
    ~IoPool() { stop(); }
    void stop() {
        for (auto& c : contexts_) c->stop();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    std::size_t size() const { return contexts_.size(); }
    net::io_context& ioc(std::size_t i) { return *contexts_[i % contexts_.size()]; }
    ThreadStats& stats(std::size_t i) { return *stats_[i % stats_.size()]; }
    /// Runs f on thread i's io thread and waits for it.
    template <class F>
    auto on(std::size_t i, F f) {
        std::promise<decltype(f())> p;
        auto fut = p.get_future();
        net::post(ioc(i), [&] {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                p.set_value();
            } else {
                p.set_value(f());
            }
        });
        return fut.get();
    }

private:
    std::vector<std::unique_ptr<net::io_context>> contexts_;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
    std::vector<std::unique_ptr<ThreadStats>> stats_;
    std::vector<std::thread> threads_;
};

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Sends at a steady rate from one io thread: every tick it sends as many messages as the
// schedule says are due, round-robin over that thread's ready patients (each patient then sends
// at rate / patients, evenly spaced, like the per-patient limiter expects).
class Sender : public std::enable_shared_from_this<Sender> {
public:
    Sender(net::io_context& ioc, std::vector<std::shared_ptr<PatientPeer>> peers, double rate, double risky_percent,
           std::uint32_t seed)
        : timer_(ioc), peers_(std::move(peers)), rate_(rate), risky_(risky_percent / 100.0), rng_(seed) {}

    void start(std::int64_t stop_at_us) {
        start_us_ = now_us();
        stop_at_us_ = stop_at_us;
        tick();
    }

private:
    void tick() {
        const auto now = now_us();
        if (now >= stop_at_us_ || peers_.empty()) return;
        const auto due = static_cast<std::uint64_t>(rate_ * static_cast<double>(now - start_us_) / 1e6);
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        for (std::size_t tries = 0; sent_ < due && tries < peers_.size() * 2; ++tries) {
            auto& p = *peers_[next_++ % peers_.size()];
            if (!p.ready()) continue;
            const bool risky = coin(rng_) < risky_;
            const auto text = risky ? kRisky[rng_() % std::size(kRisky)] : kOrdinary[rng_() % std::size(kOrdinary)];
            p.send_message(text);
            ++sent_;
        }
        sent_ = std::max(sent_, due);  // nobody ready to take the slot: it is skipped, not banked
        timer_.expires_after(std::chrono::milliseconds(2));
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->tick();
        });
    }

    net::steady_timer timer_;
    std::vector<std::shared_ptr<PatientPeer>> peers_;
    double rate_;
    double risky_;
    std::mt19937 rng_;
    std::int64_t start_us_ = 0;
    std::int64_t stop_at_us_ = 0;
    std::uint64_t sent_ = 0;
    std::size_t next_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
Result<RunReport> run_load(const RunOptions& o, Roster& roster) {
    raise_fd_limit();
    auto endpoint = resolve(o.host, o.port);
    if (!endpoint) return std::unexpected(endpoint.error());
    ssl::context ctx(ssl::context::tls_client);
    if (auto r = configure_tls(ctx, o.data_dir); !r) return std::unexpected(r.error());
    if (static_cast<int>(roster.patients.size()) < o.patients)
        return fail(ErrorCode::invalid_argument, "the roster has " + std::to_string(roster.patients.size()) +
                                                     " patients; prepare more with --patients");

    IoPool pool(o.threads);
    RunReport report;
    Memory peak;
    auto sample = [&] {
        const auto m = read_memory(o.bridge_pid);
        peak.rss_kb = std::max(peak.rss_kb, m.rss_kb);
        peak.hwm_kb = std::max(peak.hwm_kb, m.hwm_kb);
    };

    // Clinicians first, so they are live before the first patient message.
    std::vector<std::string> therapists, supervisors;
    for (const auto& c : roster.clinicians) (c.role == "supervisor" ? supervisors : therapists).push_back(c.username);
    std::vector<std::shared_ptr<ClinicianPeer>> clinicians;
    for (int i = 0; i < o.clinicians; ++i) {
        const bool sup = i < o.supervisors || therapists.empty();
        const auto& list = sup ? supervisors : therapists;
        if (list.empty()) break;
        const auto& user = list[static_cast<std::size_t>(sup ? i : i - o.supervisors) % list.size()];
        clinicians.push_back(std::make_shared<ClinicianPeer>(pool.ioc(i), ctx, *endpoint, o.host, pool.stats(i), user,
                                                             roster.password, o.head_seq));
        clinicians.back()->counts_screens = sup && i == 0;
        clinicians.back()->feed_batch = o.feed_batch;
    }

    const auto connect_start = Clock::now();
    std::vector<std::shared_ptr<PatientPeer>> patients;
    for (int i = 0; i < o.patients; ++i) {
        patients.push_back(std::make_shared<PatientPeer>(pool.ioc(i), ctx, *endpoint, o.host, pool.stats(i),
                                                         roster.patients[static_cast<std::size_t>(i)], i));
        net::post(pool.ioc(i), [p = patients.back()] { p->connect(); });
        if (o.connect_rate > 0 && i % 50 == 49) sleep_s(50.0 / o.connect_rate);
    }
    auto count_ready = [&] {
        int n = 0;
        for (std::size_t t = 0; t < pool.size(); ++t)
            n += pool.on(t, [&, t] {
                int k = 0;
                for (std::size_t i = t; i < patients.size(); i += pool.size()) k += patients[i]->ready() ? 1 : 0;
                return k;
            });
        return n;
    };
    auto count_live = [&] {
        int n = 0;
        for (std::size_t i = 0; i < clinicians.size(); ++i)
            n += pool.on(i, [&, i] { return clinicians[i]->live() ? 1 : 0; });
        return n;
    };
    // Clinicians once the patients are in: thousands of TLS handshakes would otherwise keep
    // this process from reading the clinicians' feeds, and the bridge drops a reader that slow.
    for (int waited = 0; waited < 600 && count_ready() < o.patients; ++waited) sleep_s(0.1);
    for (std::size_t i = 0; i < clinicians.size(); ++i) net::post(pool.ioc(i), [c = clinicians[i]] { c->connect(); });
    // Everyone connected, or no progress for 20 s.
    int ready = 0, last = -1;
    auto progress_at = Clock::now();
    while (true) {
        sample();
        ready = count_ready();
        if (ready != last) progress_at = Clock::now();
        last = ready;
        if ((ready == o.patients && count_live() == static_cast<int>(clinicians.size())) ||
            Clock::now() - progress_at > std::chrono::seconds(20))
            break;
        sleep_s(0.25);
    }
    report.connect_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
    report.patients_connected = ready;
    report.clinicians_live = count_live();
    std::fprintf(stderr, "tandem-loadgen: %d/%d patients and %d/%zu clinicians connected in %.1f s\n", ready,
                 o.patients, report.clinicians_live, clinicians.size(), report.connect_s);
    if (ready == 0) return fail(ErrorCode::network, "no patient could connect");
    // Tokens learnt by redeeming are kept for the next run.
    if (auto r = save_roster(o.data_dir, roster); !r)
        std::fprintf(stderr, "tandem-loadgen: %s\n", r.error().describe().c_str());

    // Send: warm-up, then the measured window.
    const auto send_start = now_us();
    const auto window_begin = send_start + static_cast<std::int64_t>(o.warmup_s * 1e6);
    const auto window_end = window_begin + static_cast<std::int64_t>(o.duration_s * 1e6);
    for (std::size_t t = 0; t < pool.size(); ++t) {
        std::vector<std::shared_ptr<PatientPeer>> mine;
        for (std::size_t i = t; i < patients.size(); i += pool.size()) mine.push_back(patients[i]);
        const double share = o.rate * static_cast<double>(mine.size()) / static_cast<double>(patients.size());
        pool.on(t, [&, t, share, mine = std::move(mine)]() mutable {
            pool.stats(t).window_begin_us = window_begin;
            pool.stats(t).window_end_us = window_end;
            std::make_shared<Sender>(pool.ioc(t), std::move(mine), share, o.risky_percent,
                                     static_cast<std::uint32_t>(t + 1))
                ->start(window_end);
        });
    }
    auto totals = [&] {
        std::uint64_t sent = 0, acked = 0, events = 0;
        for (std::size_t t = 0; t < pool.size(); ++t)
            pool.on(t, [&, t] {
                sent += pool.stats(t).sent_total;
                acked += pool.stats(t).acked_total;
                events += pool.stats(t).clinician_events;
            });
        return std::tuple{sent, acked, events};
    };
    // CPU seconds of the bridge and of this process over exactly the measured window: the
    // figures that still mean something when other work shares the cores.
    Cpu bridge_cpu_begin, self_cpu_begin;
    bool cpu_begun = false;
    while (now_us() < window_end) {
        const auto now = now_us();
        const auto next = now < window_begin ? std::min(window_begin, now + 1'000'000) : std::min(window_end, now + 1'000'000);
        sleep_s(static_cast<double>(next - now) / 1e6);
        if (!cpu_begun && now_us() >= window_begin) {
            bridge_cpu_begin = read_cpu(o.bridge_pid);
            self_cpu_begin = read_cpu(::getpid());
            cpu_begun = true;
        }
        sample();
        const auto [sent, acked, events] = totals();
        std::fprintf(stderr, "tandem-loadgen: t=%5.1fs sent %llu acked %llu clinician events %llu rss %ld MB\n",
                     static_cast<double>(now_us() - send_start) / 1e6, static_cast<unsigned long long>(sent),
                     static_cast<unsigned long long>(acked), static_cast<unsigned long long>(events),
                     read_memory(o.bridge_pid).rss_kb / 1024);
    }
    // Held at the end of the window, before the drain.
    for (std::size_t t = 0; t < pool.size(); ++t)
        report.patients_held += pool.on(t, [&, t] {
            int k = 0;
            for (std::size_t i = t; i < patients.size(); i += pool.size()) k += patients[i]->is_open() ? 1 : 0;
            return k;
        });
    for (std::size_t i = 0; i < clinicians.size(); ++i)
        report.clinicians_held += pool.on(i, [&, i] { return clinicians[i]->is_open() ? 1 : 0; });
    const auto end_mem = read_memory(o.bridge_pid);
    report.bridge_cpu_s = read_cpu(o.bridge_pid).seconds - bridge_cpu_begin.seconds;
    report.loadgen_cpu_s = read_cpu(::getpid()).seconds - self_cpu_begin.seconds;
    for (double waited = 0; waited < o.drain_s; waited += 0.5) {
        sleep_s(0.5);
        sample();
    }
    for (std::size_t t = 0; t < pool.size(); ++t) {
        pool.on(t, [&, t] {
            auto& s = pool.stats(t);
            report.sent_window += s.sent_window;
            report.acked_window += s.acked_window;
            report.acked_total += s.acked_total;
            report.sent_total += s.sent_total;
            report.errors += s.errors;
            report.rate_limited += s.rate_limited;
            report.clinician_events += s.clinician_events;
            report.screened_window += s.screened_window;
            report.ai_replies_window += s.ai_replies_window;
            report.connect_failures += s.connect_failures;
            report.clinician_reconnects += s.clinician_reconnects;
            report.ack_ms.insert(report.ack_ms.end(), s.ack_ms.begin(), s.ack_ms.end());
            report.feed_ms.insert(report.feed_ms.end(), s.feed_ms.begin(), s.feed_ms.end());
        });
    }
    for (std::size_t t = 0; t < pool.size(); ++t)
        pool.on(t, [&, t] {
            for (std::size_t i = t; i < patients.size(); i += pool.size()) patients[i]->close();
            for (std::size_t i = t; i < clinicians.size(); i += pool.size()) {
                clinicians[i]->stopping = true;
                clinicians[i]->close();
            }
        });
    sleep_s(0.5);
    pool.stop();
    report.measured_s = o.duration_s;
    report.rss_end_kb = end_mem.rss_kb;
    report.rss_peak_kb = peak.rss_kb;
    report.hwm_kb = std::max(peak.hwm_kb, read_memory(o.bridge_pid).hwm_kb);
    if (auto r = save_roster(o.data_dir, roster); !r)
        std::fprintf(stderr, "tandem-loadgen: %s\n", r.error().describe().c_str());
    return report;
}

// ---------------------------------------------------------------------------------------------
// The demo: each scripted patient connects at its start time and sends its turns at their
// pace; a turn due while disconnected goes out after the reconnect.
Result<void> play_scenario(const std::string& host, std::uint16_t port, const std::filesystem::path& data_dir,
                           const json& scenario, Roster& roster, double speed) {
    raise_fd_limit();
    auto endpoint = resolve(host, port);
    if (!endpoint) return std::unexpected(endpoint.error());
    ssl::context ctx(ssl::context::tls_client);
    if (auto r = configure_tls(ctx, data_dir); !r) return std::unexpected(r.error());
    const auto scripts = scenario.value("scripts", json::object());
    const auto people = scenario.value("patients", json::array());
    if (people.size() > roster.patients.size())
        return fail(ErrorCode::invalid_argument, "the roster has fewer patients than the scenario; run prepare");
    speed = speed > 0 ? speed : 1.0;

    net::io_context ioc(1);
    ThreadStats stats;
    stats.window_begin_us = 0;
    // A run stamp in every client_msg_id: a rerun of the demo plays the scripts anew instead of
    // being answered with the first run's acks.
    const auto stamp = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
    struct Turn {
        double at_s;
        std::string text;
    };
    struct Player {
        std::string name;
        std::shared_ptr<PatientPeer> peer;
        std::vector<Turn> turns;
        std::size_t next = 0;
        std::unique_ptr<net::steady_timer> timer;
        std::unique_ptr<net::steady_timer> retry;
        double backoff_s = 1;
        std::set<std::string> answering;  // questionnaires with answers scheduled or sent
    };
    std::vector<std::unique_ptr<Player>> players;
    const auto start = Clock::now();
    std::size_t total_turns = 0, sent_turns = 0;

    std::function<void(Player&)> schedule = [&](Player& pl) {
        if (pl.next >= pl.turns.size() || !pl.peer->ready()) return;
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(pl.turns[pl.next].at_s / speed));
        pl.timer->expires_at(due);
        pl.timer->async_wait([&, p = &pl](error_code ec) {
            if (ec || !p->peer->ready() || p->next >= p->turns.size()) return;
            const auto n = p->next++;
            p->peer->send_message(p->turns[n].text, "d" + stamp + "-" + std::to_string(n));
            // Never the text: the demo's output is a terminal others may read.
            std::printf("demo: %-22s turn %zu/%zu sent\n", p->name.c_str(), n + 1, p->turns.size());
            if (++sent_turns == total_turns)
                std::printf("demo: all %zu scripted turns sent; the patients stay connected (Ctrl+C stops)\n",
                            total_turns);
            std::fflush(stdout);
            schedule(*p);
        });
    };

    // Questionnaires (questionnaires.cpp decides what and when): each step on its own timer; a
    // step due while disconnected is dropped and the form, which the bridge sends again after
    // the reconnect with the answers saved so far, is planned anew.
    std::function<void(Player*, std::string, std::string, std::shared_ptr<std::vector<QuestionnaireStep>>, std::size_t)>
        answer_step = [&](Player* p, std::string id, std::string instrument,
                          std::shared_ptr<std::vector<QuestionnaireStep>> steps, std::size_t k) {
            auto t = std::make_shared<net::steady_timer>(ioc);
            t->expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((*steps)[k].after_s)));
            t->async_wait([&, p, t, id, instrument, steps, k](error_code ec) {
                if (ec) return;
                if (!p->peer->ready()) {
                    p->answering.erase(id);
                    return;
                }
                const auto& step = (*steps)[k];
                p->peer->send(envelope("questionnaire_answers", step.payload));
                // Never the answers: only which form and how far.
                std::printf("demo: %-22s %s %s\n", p->name.c_str(), instrument.c_str(),
                            step.final ? "submitted" : "saved, to finish later");
                std::fflush(stdout);
                if (k + 1 < steps->size()) answer_step(p, id, instrument, steps, k + 1);
            });
        };

    for (std::size_t i = 0; i < people.size(); ++i) {
        auto pl = std::make_unique<Player>();
        auto& seat = roster.patients[i];
        pl->name = seat.display_name;
        double at = people[i].value("start_s", 0.0);
        const auto script_name = people[i].value("script", "");
        const auto script = scripts.value(script_name, json::array());
        if (script.empty()) return fail(ErrorCode::invalid_argument, "no script named '" + script_name + "'", "scripts");
        for (const auto& t : script) {
            at += t.value("after_s", 0.0);
            pl->turns.push_back({at, t.value("text", "")});
        }
        total_turns += pl->turns.size();
        pl->peer = std::make_shared<PatientPeer>(ioc, ctx, *endpoint, host, stats, seat, static_cast<int>(i));
        pl->timer = std::make_unique<net::steady_timer>(ioc);
        pl->retry = std::make_unique<net::steady_timer>(ioc);
        Player* raw = pl.get();
        pl->peer->on_ready = [&, raw](PatientPeer&) {
            raw->backoff_s = 1;
            if (auto r = save_roster(data_dir, roster); !r)
                std::fprintf(stderr, "tandem-loadgen: %s\n", r.error().describe().c_str());
            schedule(*raw);
        };
        pl->peer->on_questionnaire = [&, raw, i](PatientPeer&, const json& form) {
            const std::string id = form.value("assessment_id", "");
            if (id.empty() || !raw->answering.insert(id).second) return;
            auto steps = std::make_shared<std::vector<QuestionnaireStep>>(plan_questionnaire(scenario, i, form, speed));
            if (steps->empty()) return;
            answer_step(raw, id, form.value("instrument", json::object()).value("id", "?"), steps, 0);
        };
        // Reconnect with doubling backoff (the bridge may restart under the demo).
        pl->peer->on_lost = [raw](PatientPeer&) {
            raw->retry->expires_after(std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(raw->backoff_s)));
            raw->backoff_s = std::min(30.0, raw->backoff_s * 2);
            raw->retry->async_wait([raw](error_code ec) {
                if (!ec) raw->peer->connect();
            });
        };
        players.push_back(std::move(pl));
    }
    std::printf("demo: %zu simulated patients connecting to %s:%u; %zu scripted turns over the next %.0f s\n",
                players.size(), host.c_str(), static_cast<unsigned>(port), total_turns,
                [&] {
                    double last = 0;
                    for (const auto& p : players)
                        if (!p->turns.empty()) last = std::max(last, p->turns.back().at_s);
                    return last / speed;
                }());
    std::fflush(stdout);
    for (auto& p : players) net::post(ioc, [peer = p->peer] { peer->connect(); });
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) {
        for (auto& p : players) {
            p->timer->cancel();
            p->retry->cancel();
            p->peer->on_lost = nullptr;
            p->peer->close();
        }
        // Let the closes go out, then stop.
        auto t = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(300));
        t->async_wait([&ioc, t](error_code) { ioc.stop(); });
    });
    ioc.run();
    return {};
}

}  // namespace tandem::loadgen
