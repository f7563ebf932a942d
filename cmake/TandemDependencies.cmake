# Finds every third-party library once and exposes each as an imported target, so module
# CMakeLists name targets (Tandem::sqlcipher) and never paths. All come from Debian packages
# installed by scripts/install-deps.sh.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CURL REQUIRED)
find_package(Boost 1.74 REQUIRED)

# SQLCipher 4.6 from bookworm-backports (its .pc file reports the SQLite version, 3.46);
# never link libsqlite3 into the same process.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher>=3.46)
add_library(Tandem::sqlcipher INTERFACE IMPORTED)
target_link_libraries(Tandem::sqlcipher INTERFACE PkgConfig::SQLCIPHER)
# sqlite3_key and friends are declared only with SQLITE_HAS_CODEC.
target_compile_definitions(Tandem::sqlcipher INTERFACE SQLITE_HAS_CODEC)

# Vectorscan (the maintained Hyperscan fork) for multi-pattern risk rules.
pkg_check_modules(HYPERSCAN REQUIRED IMPORTED_TARGET libhs)
add_library(Tandem::hyperscan INTERFACE IMPORTED)
target_link_libraries(Tandem::hyperscan INTERFACE PkgConfig::HYPERSCAN)

pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
add_library(Tandem::argon2 INTERFACE IMPORTED)
target_link_libraries(Tandem::argon2 INTERFACE PkgConfig::ARGON2)

# valijson is header-only; Debian ships a CMake config for it.
find_path(VALIJSON_INCLUDE_DIR valijson/validator.hpp REQUIRED)
add_library(Tandem::valijson INTERFACE IMPORTED)
target_include_directories(Tandem::valijson INTERFACE "${VALIJSON_INCLUDE_DIR}")

# jemalloc replaces glibc's malloc in the processes that allocate from many threads at once
# (tandem-bridge: 64 pipeline threads plus I/O), where glibc's malloc and free were about a
# quarter of the CPU (docs/PERFORMANCE.md). Linking it, not LD_PRELOAD, puts it in the package's
# Depends through dpkg-shlibdeps. Left out under the sanitizer preset, whose runtime must see
# every allocation.
add_library(Tandem::jemalloc INTERFACE IMPORTED)
if(NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize=address")
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc>=5)
  target_link_libraries(Tandem::jemalloc INTERFACE PkgConfig::JEMALLOC)
endif()

# Beast and Asio are header-only; the bridge keeps them in few translation units.
add_library(Tandem::asio INTERFACE IMPORTED)
target_link_libraries(Tandem::asio INTERFACE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(Tandem::asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

if(TANDEM_BUILD_TESTS)
  find_package(Catch2 3 REQUIRED)
endif()

if(TANDEM_BUILD_GUI)
  # CMake 3.25's FindwxWidgets gives variables, not a target: wrap them in one.
  find_package(wxWidgets 3.2 REQUIRED COMPONENTS core base)
  add_library(Tandem::wx INTERFACE IMPORTED)
  target_include_directories(Tandem::wx SYSTEM INTERFACE ${wxWidgets_INCLUDE_DIRS})
  target_compile_definitions(Tandem::wx INTERFACE ${wxWidgets_DEFINITIONS})
  target_compile_options(Tandem::wx INTERFACE ${wxWidgets_CXX_FLAGS})
  target_link_libraries(Tandem::wx INTERFACE ${wxWidgets_LIBRARIES})
  # cairo (wx's GTK3 renderer already links it): the clinician app's PNG and PDF report surfaces.
  pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo cairo-pdf cairo-png)
  add_library(Tandem::cairo INTERFACE IMPORTED)
  target_link_libraries(Tandem::cairo INTERFACE PkgConfig::CAIRO)
endif()
