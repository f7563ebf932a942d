// kill -9 of the real tandem-bridge binary while a patient sends: after a restart no
// acknowledged message is lost and none is duplicated.
#include <catch2/catch_test_macros.hpp>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace std::chrono_literals;
using tandem::test::ChildProcess;
using tandem::test::run_command;
using tandem::test::TempDir;
using tandem::test::WssClient;
using json = nlohmann::json;

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string frame(const std::string& type, json payload, int n) {
    return json{{"type", type}, {"id", "k" + std::to_string(n)}, {"time", "2026-11-26T03:06:19.123Z"},
                {"payload", std::move(payload)}}
        .dump();
}

struct Serve {
    std::unique_ptr<ChildProcess> process;
    std::uint16_t port = 0;
    Serve(const std::string& bin, const std::string& dir) {
        process = std::make_unique<ChildProcess>(
            std::vector<std::string>{bin, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0"});
        const auto line = process->read_line(15s);
        REQUIRE(line.rfind("listening on ", 0) == 0);
        port = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
};

}  // namespace

TEST_CASE("after kill -9 mid-conversation no acknowledged message is lost or duplicated", "[bridge][crash]") {
    const std::string bin = TANDEM_BRIDGE_BIN;
    TempDir tmp;
    const std::string dir = (tmp.path() / "clinic").string();
    REQUIRE(run_command({bin, "init", "--data-dir", dir}).first == 0);
    auto [s1, id] = run_command({bin, "patient", "add", "--data-dir", dir, "--name", "Kim"});
    REQUIRE(s1 == 0);
    auto [s2, code] = run_command({bin, "invite", "--data-dir", dir, "--patient", trim(id)});
    REQUIRE(s2 == 0);
    const auto cert = tmp.path() / "clinic" / "tls" / "cert.pem";

    std::string token;
    std::map<std::string, std::int64_t> acked;  // client_msg_id -> seq
    constexpr int kSent = 10;
    {
        Serve serve(bin, dir);
        auto c = WssClient::connect(serve.port, "/patient", cert);
        REQUIRE(c);
        REQUIRE((*c)->send_text(frame("redeem", {{"invite_code", trim(code)}}, 0)));
        for (int i = 0; i < 20 && token.empty(); ++i) {
            auto f = (*c)->read(5s);
            REQUIRE(f);
            auto j = json::parse(*f);
            if (j["type"] == "session") token = j["payload"]["device_token"];
        }
        REQUIRE(!token.empty());
        // Send every message without waiting, read until about half are acked, then kill -9.
        for (int i = 1; i <= kSent; ++i)
            REQUIRE((*c)->send_text(frame("send", {{"client_msg_id", "c" + std::to_string(i)}, {"text", "note " + std::to_string(i)}}, i)));
        while (acked.size() < kSent / 2) {
            auto f = (*c)->read(5s);
            REQUIRE(f);
            auto j = json::parse(*f);
            if (j["type"] == "ack") acked[j["payload"]["client_msg_id"]] = j["payload"]["seq"];
        }
        serve.process.reset();  // SIGKILL: no clean shutdown
    }

    Serve again(bin, dir);
    auto c = WssClient::connect(again.port, "/patient", cert);
    REQUIRE(c);
    REQUIRE((*c)->send_text(frame("hello", {{"device_token", token}, {"last_seq", 0}}, 100)));
    std::multiset<std::string> resumed;
    while (auto f = (*c)->read(1500ms)) {
        auto j = json::parse(*f);
        if (j["type"] == "message" && j["payload"]["sender"] == "patient")
            resumed.insert(j["payload"]["client_msg_id"].get<std::string>());
    }
    for (const auto& [cid, seq] : acked) {
        INFO(cid);
        CHECK(resumed.count(cid) == 1);  // acknowledged: present, once
    }
    for (const auto& cid : resumed) CHECK(resumed.count(cid) == 1);  // nothing duplicated

    // The client resends everything it sent (it cannot know what the dead bridge stored):
    // acknowledged ones get their original seq back.
    auto c2 = WssClient::connect(again.port, "/patient", cert);
    REQUIRE(c2);
    REQUIRE((*c2)->send_text(frame("hello", {{"device_token", token}, {"last_seq", 1'000'000}}, 200)));
    for (int i = 1; i <= kSent; ++i)
        REQUIRE((*c2)->send_text(frame("send", {{"client_msg_id", "c" + std::to_string(i)}, {"text", "note " + std::to_string(i)}}, 200 + i)));
    int acks = 0;
    while (acks < kSent) {
        auto f = (*c2)->read(5s);
        REQUIRE(f);
        auto j = json::parse(*f);
        if (j["type"] != "ack") continue;
        ++acks;
        const std::string cid = j["payload"]["client_msg_id"];
        if (acked.contains(cid)) CHECK(j["payload"]["seq"] == acked[cid]);
    }
}
