# The one place warnings are set: every Tandem target links tandem_warnings.
add_library(tandem_warnings INTERFACE)
target_compile_options(tandem_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)

include(${CMAKE_CURRENT_LIST_DIR}/TandemHardening.cmake)
target_link_libraries(tandem_warnings INTERFACE tandem_hardening)
