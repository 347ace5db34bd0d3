#!/usr/bin/env bash
# Build grokprop's sdist and wheel as a release does, and prove that each installs and works
# outside the source tree. Run by .ci/run; alone: bash scripts/check_dist.sh (Linux/macOS).
#
#   1. python -m build: the sdist, then the wheel built from that sdist
#   2. contents (scripts/check_dist_contents.py) and twine check
#   3. the wheel, with its test extra, in a fresh venv outside the tree: the wheel's tests from
#      a copy of tests/, scripts/ + pyproject.toml (as cibuildwheel's test-sources), importing only the
#      installed grokprop; then the startup measurements (scripts/measure_startup.py)
#   4. the same wheel (built from the sdist) in another fresh venv WITHOUT numba: grokprop
#      --version, backends, chapter6 and verify, then the test suite with only cpp and numpy
#      required (building the sdist once more would repeat step 1's build from it)
#   5. Linux: auditwheel show;  6. cibuildwheel --print-build-identifiers lists the matrix
#
# Environment: PYTHON (default python3) builds and runs everything.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/grokprop-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
# the cibuildwheel that .github/workflows/wheels.yml runs (pypa/cibuildwheel@v4.3.5)
cibuildwheel_version=4.3.5

fail() {
  echo "check_dist: FAILED: $*" >&2
  exit 1
}
group() { echo "::group::check_dist: $*"; }
endgroup() { echo "::endgroup::"; }

# A copy of the tests and pytest's settings, run from a directory outside the source tree
# by the given venv's python (so python/ can never be imported).
run_tests_outside() {
  local venv=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  cp -R "$root/tests" "$root/scripts" "$root/pyproject.toml" "$dir/"
  # the "dev" hypothesis profile (50 examples a property): .ci/run ran the 500 of "ci" already
  (cd "$dir" && HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-dev} "$venv/bin/python" -m pytest \
    -p no:cacheprovider "$@") | tee "$dir/pytest.log"
  # the report header (tests/conftest.py) says where grokprop was imported from
  grep -q "^grokprop .* from $venv/" "$dir/pytest.log" ||
    fail "the tests in $dir did not import grokprop from $venv"
}

group "tools"
"$python" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install --quiet build twine "cibuildwheel==$cibuildwheel_version" \
  auditwheel
endgroup

group "1. build sdist, then the wheel from it"
"$work/tools/bin/python" -m build --outdir "$work/dist" "$root"
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
endgroup

group "2. contents and metadata"
"$work/tools/bin/python" "$root/scripts/check_dist_contents.py" "$work/dist"
"$work/tools/bin/python" -m twine check --strict "$sdist" "$wheel"
endgroup

group "3. the wheel in a fresh venv, tested outside the tree"
"$python" -m venv "$work/venv-wheel"
"$work/venv-wheel/bin/python" -m pip install --quiet "${wheel}[test]"
# .ci/run ran the whole suite on an install of the same tree and step 4 runs it on the
# sdist's build: here, the tests of what a wheel could get wrong (files, stubs, the book,
# the explorer's packaged notebook)
run_tests_outside "$work/venv-wheel" "$work/wheel-tests" tests/test_distribution.py \
  tests/test_import.py tests/test_chapter6.py tests/test_bitwise.py tests/test_cli.py \
  tests/test_explorer_browser.py
(cd "$work" && "$work/venv-wheel/bin/python" "$root/scripts/measure_startup.py")
endgroup

group "4. the wheel (from the sdist) in a fresh venv without numba: smoke test, then the tests"
"$python" -m venv "$work/venv-nonumba"
"$work/venv-nonumba/bin/python" -m pip install --quiet "$wheel"
cd "$work"
"$work/venv-nonumba/bin/python" -c 'import importlib.util as u; assert u.find_spec("numba") is None'
version=$("$work/venv-nonumba/bin/python" -c 'import grokprop; print(grokprop.__version__)')
[[ $("$work/venv-nonumba/bin/grokprop" --version) == "grokprop, version $version" ]] ||
  fail "grokprop --version does not print $version"
"$work/venv-nonumba/bin/grokprop" backends | tee "$work/backends.txt"
grep -q "^cpp    available$" "$work/backends.txt" || fail "cpp is not available from the wheel"
grep -q "^numba  unavailable: .*numba could not be imported" "$work/backends.txt" ||
  fail "numba is not reported unavailable with its reason"
"$work/venv-nonumba/bin/grokprop" chapter6 | tee "$work/chapter6.txt"
[[ $(tail -n 1 "$work/chapter6.txt") == \
  "verify vs numpy reference, bitwise: cpp yes, numba unavailable -> OK" ]] ||
  fail "grokprop chapter6 did not end with the expected verification"
"$work/venv-nonumba/bin/grokprop" verify --sizes 784,128,10 --rows 50 --epochs 1 --alpha 0.005 --weight-scale 0.1
# the test extra minus numba, read from the installed metadata
test_requires=$("$work/venv-nonumba/bin/python" -c '
from importlib.metadata import requires
for req in requires("grokprop"):
    name, _, marker = req.partition(";")
    if marker.strip() == "extra == \"test\"" and not name.startswith("grokprop") and not name.startswith("numba"):
        print(name.strip())')
# shellcheck disable=SC2086  # one requirement per word
"$work/venv-nonumba/bin/python" -m pip install --quiet $test_requires
# test_readme runs the README's own examples (which use every backend) against the
# repository's README: it runs in the tree, with numba (.ci/run's first step), not here
GROKPROP_REQUIRE_BACKENDS=cpp,numpy run_tests_outside "$work/venv-nonumba" "$work/nonumba-tests" \
  --ignore=tests/test_readme.py
# every skip must be a numba test, skipped because numba is absent and not required
skips=$(grep -c "^SKIPPED" "$work/nonumba-tests/pytest.log" || true)
(( skips > 0 )) || fail "no numba test was skipped without numba"
if grep "^SKIPPED" "$work/nonumba-tests/pytest.log" | grep -v "backend 'numba' is not required"; then
  fail "a test was skipped for another reason than numba's absence"
fi
cd "$root"
endgroup

if [[ $(uname -s) == Linux ]]; then
  group "5. auditwheel show"
  "$work/tools/bin/auditwheel" show "$wheel"
  # repairable to a manylinux tag, and linked to no library outside the manylinux policy
  "$work/tools/bin/auditwheel" show --json "$wheel" | "$work/tools/bin/python" -c '
import json, sys
report = json.load(sys.stdin)
tag, external = report["overall_tag"], report["external_libs"]
print(f"auditwheel: overall tag {tag}, libraries to bundle: {external or None}")
sys.exit(0 if tag.startswith("manylinux_") and not external else 1)' ||
    fail "auditwheel: the wheel cannot be repaired to a manylinux tag on its own"
  endgroup
fi

group "6. cibuildwheel's build matrix"
for platform in linux macos windows; do
  case $platform in
    linux) expected=$(for py in 310 311 312 313 314; do
      for arch in x86_64 aarch64; do echo "cp$py-manylinux_$arch"; done; done) ;;
    macos) expected=$(for py in 310 311 312 313 314; do
      for arch in x86_64 arm64; do echo "cp$py-macosx_$arch"; done; done) ;;
    windows) expected=$(for py in 310 311 312 313 314; do echo "cp$py-win_amd64"; done) ;;
  esac
  got=$(cd "$root" && "$work/tools/bin/cibuildwheel" --print-build-identifiers --platform "$platform")
  echo "$platform: $(echo "$got" | tr '\n' ' ')"
  [[ $(sort <<<"$got") == $(sort <<<"$expected") ]] ||
    fail "cibuildwheel would build for $platform: $got; intended: $expected"
done
endgroup

echo "check_dist: OK: $(basename "$wheel") ($(wc -c <"$wheel") bytes), $(basename "$sdist")" \
  "($(wc -c <"$sdist") bytes)"
