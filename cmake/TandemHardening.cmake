# The one place hardening flags are set (what Debian's dpkg-buildflags gives packages built with
# hardening=+all): the bridge faces the network and both programs hold clinical data, so a memory
# bug should crash rather than be exploitable. tandem_warnings links this, so every target gets it.
add_library(tandem_hardening INTERFACE)
target_compile_options(tandem_hardening INTERFACE
  -fstack-protector-strong -fstack-clash-protection -fcf-protection
  # _FORTIFY_SOURCE needs the optimiser; Debug (and the sanitizer preset) builds skip it.
  $<$<NOT:$<CONFIG:Debug>>:-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2>)
target_link_options(tandem_hardening INTERFACE -Wl,-z,relro -Wl,-z,now)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
include(CheckPIESupported)
check_pie_supported()
