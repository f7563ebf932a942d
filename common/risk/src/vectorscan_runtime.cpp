#include "vectorscan_runtime.h"

// The fat runtime's AVX2 build of hs_scan. Not in Vectorscan's headers; weak, so a library built
// without the fat runtime (no such symbol) leaves it null and hs_scan is used as before.
extern "C" hs_error_t avx2_hs_scan(const hs_database_t* db, const char* data, unsigned int length,
                                   unsigned int flags, hs_scratch_t* scratch, match_event_handler on_match,
                                   void* context) __attribute__((weak));

namespace tandem::vectorscan {

namespace {

constexpr unsigned long long kAvx512Features = HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI;

struct Runtime {
    decltype(&hs_scan) scan = &hs_scan;
    hs_platform_info_t platform{};
    bool have_platform = false;
    std::string name = "library default";
};

const Runtime& runtime() {
    static const Runtime r = [] {
        Runtime out;
        if (hs_populate_platform(&out.platform) != HS_SUCCESS) return out;
        // Only where hs_scan would take its AVX-512 path, and only when the AVX2 path exists.
        if ((out.platform.cpu_features & kAvx512Features) != 0 && avx2_hs_scan != nullptr &&
            __builtin_cpu_supports("avx2")) {
            out.scan = avx2_hs_scan;
            out.platform.cpu_features &= ~kAvx512Features;
            out.have_platform = true;
            out.name = "avx2 (avx512 avoided)";
        }
        return out;
    }();
    return r;
}

}  // namespace

hs_error_t scan(const hs_database_t* db, const char* data, unsigned int length, hs_scratch_t* scratch,
                match_event_handler on_match, void* context) {
    return runtime().scan(db, data, length, 0, scratch, on_match, context);
}

const hs_platform_info_t* compile_platform() {
    const Runtime& r = runtime();
    return r.have_platform ? &r.platform : nullptr;
}

const std::string& runtime_name() { return runtime().name; }

}  // namespace tandem::vectorscan
