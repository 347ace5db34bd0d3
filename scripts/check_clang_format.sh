#!/usr/bin/env bash
# Check that the C++ in cpp/ follows .clang-format; with --fix, reformat it in place.
# clang-format's output differs between major versions: use the pinned one,
#   pip install "clang-format==23.1.5"   (the version .pre-commit-config.yaml pins)
# Not yet run by .ci/run: cpp/ is first reformatted in one separate commit (--fix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mapfile -t files < <(find cpp -type f \( -name '*.hpp' -o -name '*.cpp' \) | sort)
echo "$(clang-format --version) on ${#files[@]} files"
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
