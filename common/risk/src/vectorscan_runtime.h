#pragma once
// Which of Vectorscan's code paths scans and compiles. Private to common/risk.
//
// Debian 12's Vectorscan (5.4.9) misses matches in the last bytes of a scanned buffer on
// processors with AVX-512: on the 27 Nov machine a first-person "me" closing a development text
// went unseen on that path and was found on the AVX2 one (tests/risk/test_vectorscan_runtime.cpp).
// Upstream fixed an AVX-512 tail-scan bug of this kind in 2026 (VectorCamp/vectorscan PR 378: the
// last vector's wrong end checked), after the version Debian ships; which engine misses here was
// not traced. So on such processors every database is compiled without the AVX-512 features and
// scanned through the library's AVX2 entry point (exported by its fat runtime); elsewhere
// nothing changes. Rejected: padding every text (it would hide the bug only for the engines
// whose tails we know of, and shift every offset the match starts are found from).

#include <hs.h>

#include <string>

namespace tandem::vectorscan {

/// hs_scan in block mode through the entry point chosen once per process; any thread.
hs_error_t scan(const hs_database_t* db, const char* data, unsigned int length, hs_scratch_t* scratch,
                match_event_handler on_match, void* context);

/// The platform to compile every database for (this processor's, without AVX-512 where scans
/// avoid it); any thread.
const hs_platform_info_t* compile_platform();

/// Names the code path and features in use, for the compiled-database cache's key and for
/// diagnostics ("avx2 (avx512 avoided)", "library default"); any thread.
const std::string& runtime_name();

}  // namespace tandem::vectorscan
