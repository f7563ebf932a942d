#pragma once
// Shared by the store tests: a temp dir that cleans up, a fresh key, record builders, and a raw
// SQLCipher connection for tests that must reach under the store (tampering, old schemas).

#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "tandem/crypto/random.h"
#include "tandem/crypto/secret_buffer.h"
#include "tandem/store/sqlcipher_store.h"

namespace tandem::test {

struct TempDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("tandem-store-" + random_token(8, TokenEncoding::hex));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

inline std::unique_ptr<SqlcipherStore> open_store(const std::filesystem::path& p, const SecretBuffer& key) {
    auto s = SqlcipherStore::open(p, key.bytes());
    if (!s) throw std::runtime_error("open failed: " + s.error().describe());
    return std::move(*s);
}

inline NewEvent patient_registered(const std::string& patient, const std::optional<std::string>& therapist) {
    NewEvent e;
    e.type = EventType::patient_registered;
    e.patient_id = patient;
    e.actor = {ActorKind::system, std::nullopt};
    e.payload = {{"id", patient}, {"clinic_id", "clinic-1"}, {"display_name", "Patient " + patient},
                 {"conditions", nlohmann::json::array()}, {"locale", "en-US"}, {"created_at", "2026-11-26T03:00:00.000Z"}};
    if (therapist) e.payload["assigned_therapist_id"] = *therapist;
    return e;
}

inline NewEvent message(const std::string& patient, const std::string& conversation, const std::string& id,
                        const std::string& text, const std::string& state = "delivered") {
    NewEvent e;
    e.type = EventType::message_appended;
    e.patient_id = patient;
    e.actor = {ActorKind::patient, patient};
    e.payload = {{"id", id}, {"conversation_id", conversation}, {"patient_id", patient}, {"sender", "patient"},
                 {"text", text}, {"state", state}, {"created_at", "2026-11-26T03:00:00.000Z"}};
    return e;
}

inline NewEvent clinic_configured() {
    NewEvent e;
    e.type = EventType::clinic_configured;
    e.actor = {ActorKind::clinician, "admin-1"};
    e.payload = {{"id", "clinic-1"}, {"name", "Test clinic"}, {"timezone", "UTC"}};
    return e;
}

// A raw keyed connection for tests that edit the file underneath the store.
class RawDb {
public:
    RawDb(const std::filesystem::path& p, const SecretBuffer& key) {
        if (sqlite3_open(p.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("raw open failed");
        std::string text = "x'";
        for (std::byte b : key.bytes()) {
            static constexpr char digits[] = "0123456789abcdef";
            text.push_back(digits[static_cast<unsigned>(b) >> 4]);
            text.push_back(digits[static_cast<unsigned>(b) & 0xf]);
        }
        text.push_back('\'');
        sqlite3_key(db_, text.data(), static_cast<int>(text.size()));
        exec("PRAGMA cipher_page_size = 4096");
    }
    ~RawDb() { sqlite3_close(db_); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;
    void exec(const std::string& sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string message = err != nullptr ? err : "?";
            sqlite3_free(err);
            throw std::runtime_error("raw exec failed: " + message + " in " + sql);
        }
    }
    sqlite3* get() const { return db_; }

private:
    sqlite3* db_ = nullptr;
};

}  // namespace tandem::test
