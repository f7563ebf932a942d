#!/usr/bin/env bash
# The shipped programs carry the hardening of cmake/TandemHardening.cmake: position-independent,
# full RELRO (relro + bind-now), a non-executable stack, and (optimised builds) fortified libc calls.
#   check_hardening.sh BUILD_TYPE PROGRAM...
set -uo pipefail
build_type=$1; shift
fail=0
for exe in "$@"; do
  name=$(basename "$exe")
  headers=$(readelf -lW "$exe") dynamic=$(readelf -dW "$exe") symbols=$(readelf -sW --dyn-syms "$exe")
  grep -q 'Elf file type is DYN' <<<"$headers" || { echo "$name: not position-independent"; fail=1; }
  grep -q 'GNU_RELRO' <<<"$headers" || { echo "$name: no RELRO segment"; fail=1; }
  grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic" || { echo "$name: not linked with -z now"; fail=1; }
  grep -E 'GNU_STACK' <<<"$headers" | grep -q 'RWE' && { echo "$name: executable stack"; fail=1; }
  grep -q '__stack_chk_fail' <<<"$symbols" || { echo "$name: no stack protector"; fail=1; }
  if [ "$build_type" != Debug ]; then
    grep -Eq '__[a-z_]+_chk@' <<<"$symbols" || { echo "$name: no fortified libc calls"; fail=1; }
  fi
  [ $fail -eq 0 ] && echo "$name: hardened"
done
exit $fail
