#pragma once
// The one seam between other threads and the GUI thread. The wx views install a poster built
// on CallAfter (a no-op once the app is gone); tests install a synchronous one. Without a
// poster, tasks run on the calling thread, which only tests and tools rely on.

#include <functional>

namespace tandem::ui {

using Task = std::function<void()>;
using Poster = std::function<void(Task)>;

/// Runs `task` on the GUI thread soon; dropped when the app has gone. Any thread.
void post(Task task);
/// Installs the poster (empty = run inline). Call before starting any network thread.
void set_poster(Poster poster);

}  // namespace tandem::ui
