#!/usr/bin/env bash
# Run the whole test suite against a grokprop._core built with AddressSanitizer and
# UndefinedBehaviorSanitizer (CMake option GROKPROP_SANITIZE). Fails on any sanitizer
# report, from pytest itself or from any subprocess a test starts.
#
#   scripts/sanitize.sh [pytest arguments]      e.g. scripts/sanitize.sh -x tests/test_bad_input.py
#
# The sanitized build lives in its own virtualenv (SANITIZE_VENV, default .venv-sanitize)
# and build directory (build/sanitize), so it never replaces a developer's normal build.
# Python itself is not instrumented, so the runtimes are preloaded: both must come from the
# compiler that built _core (CXX, default g++), found with `$CXX -print-file-name`.
#
# Settings, and why:
#   ASAN_OPTIONS  detect_leaks=0            CPython frees little at exit by design; leaks are
#                                           checked by tests/test_leaks.py and scripts/valgrind.sh
#                 halt_on_error=1           the first report ends the process (and the run)
#                 allocator_may_return_null=1  an absurd allocation (a test asks for 256 TiB
#                                           on purpose) returns NULL -> MemoryError, as without
#                                           ASan, instead of aborting (ASan logs a warning)
#                 log_path=...              every process writes its reports to a file that
#                                           this script checks, so none can be swallowed by a
#                                           test that captures a subprocess's stderr
#   UBSAN_OPTIONS halt_on_error=1:print_stacktrace=1
#                                           (GCC's UBSan ignores log_path here: its reports go
#                                           to stderr, which pytest leaves alone with
#                                           --capture=sys so that this script sees them; in a
#                                           subprocess, halt_on_error makes it exit non-zero,
#                                           which fails the test that started it)
#   PYTHONMALLOC=malloc                     Python objects come from malloc, so ASan sees
#                                           every buffer _core is handed, not pymalloc arenas
#
# numba runs under ASan too: its JIT code is not instrumented (LLVM emits it at run time),
# but it runs fine with the runtime preloaded, so nothing is deselected.
# tests/test_leaks.py skips itself here: freed memory sits in ASan's quarantine, so the
# resident set says nothing about leaks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${SANITIZE_VENV:-.venv-sanitize}
build_dir=build/sanitize
export CXX=${CXX:-g++}

libasan=$("$CXX" -print-file-name=libasan.so)
libubsan=$("$CXX" -print-file-name=libubsan.so)
for lib in "$libasan" "$libubsan"; do
  if [[ ! -e $lib ]]; then
    echo "sanitize.sh: $CXX has no $(basename "$lib") (install its sanitizer runtimes)" >&2
    exit 2
  fi
done

echo "::group::sanitized build ($CXX, ASan + UBSan) into $venv"
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet scikit-build-core pybind11 ninja
# the -C settings apply to grokprop's own build only; the test extra brings pytest & co.
# -O1 -g1 (line tables, all a report's stack needs), not RelWithDebInfo's -O2 -g: with the
# sanitizers' instrumentation, full debug info and -O2 made each SIMD copy of the loops a
# 2-3 minute compile (10 minutes of CI in all); -O1 -g1 takes 2.5x less, the same bits.
python -m pip install --quiet --no-build-isolation \
  -Cbuild-dir="$build_dir" \
  -Ccmake.build-type=RelWithDebInfo \
  -Ccmake.define.CMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -Ccmake.define.GROKPROP_SANITIZE=ON \
  ".[test]"
core=$(python -c "from importlib.util import find_spec; print(find_spec('grokprop._core').origin)")
if ! ldd "$core" | grep libasan >/dev/null; then  # not -q: with pipefail, an early exit fails ldd
  echo "sanitize.sh: $core is not linked with ASan; the build did not take the option" >&2
  exit 2
fi
echo "::endgroup::"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "::group::test suite under ASan + UBSan"
status=0
LD_PRELOAD="$libasan $libubsan" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:allocator_may_return_null=1:log_path=$logs/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  PYTHONMALLOC=malloc \
  python -m pytest -p no:cacheprovider --capture=sys "$@" 2>&1 | tee "$logs/pytest.log" ||
  status=$?
echo "::endgroup::"

# Every ASan report file is shown. An error report (ASan "ERROR:", UBSan "runtime error:",
# any "SUMMARY:" line) fails the run; a warning alone does not: the one expected here is
# ASan's "failed to allocate 0x1000000000000 bytes", the 256 TiB a test requests on purpose.
failed=0
for report in $(find "$logs" -type f -name 'asan.*' | sort); do
  echo "---- $report" >&2
  cat "$report" >&2
  if grep -qE 'ERROR: AddressSanitizer|SUMMARY: ' "$report"; then
    failed=1
  fi
done
if grep -qE 'runtime error:|ERROR: AddressSanitizer|SUMMARY: ' "$logs/pytest.log"; then
  failed=1
fi
if [[ $failed -ne 0 ]]; then
  echo "sanitize.sh: sanitizer error reports (above)" >&2
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "sanitize.sh: the test suite failed under the sanitizers (exit $status)" >&2
  exit "$status"
fi
echo "sanitize.sh: no ASan or UBSan error reports; test suite passed"
