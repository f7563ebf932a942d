#include "tandem/clinician/ui_post.h"

#include <mutex>

namespace tandem::ui {
namespace {

// The poster is set once at start-up and read from network threads: a mutex keeps the read of
// the std::function safe without asking every caller to reason about publication order.
std::mutex& poster_mutex() {
    static std::mutex m;
    return m;
}

Poster& poster() {
    static Poster p;
    return p;
}

}  // namespace

void post(Task task) {
    Poster current;
    {
        const std::lock_guard lock(poster_mutex());
        current = poster();
    }
    if (current) {
        current(std::move(task));
    } else if (task) {
        task();
    }
}

void set_poster(Poster p) {
    const std::lock_guard lock(poster_mutex());
    poster() = std::move(p);
}

}  // namespace tandem::ui
