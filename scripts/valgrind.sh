#!/usr/bin/env bash
# valgrind memcheck of a cpp-backend smoke test (scripts/valgrind_smoke.py) against the
# grokprop installed in the current Python (PYTHON, default python3): a normal build, not
# the sanitized one of scripts/sanitize.sh.
#
# Pass criterion -- zero errors in grokprop frames: no memcheck error (invalid read/write,
# use of uninitialised values, invalid or mismatched free, overlapping copy) and no
# "definitely lost" block whose stack -- the error's, or for a leak the allocation's -- has
# a frame in grokprop's own extension, the exact grokprop/_core*.so file that was loaded.
# pybind11 is compiled into that file, so errors of the binding layer count as ours. Why
# only those frames: the interpreter, the dynamic loader and numpy are not grokprop's code
# and have reports of their own (see scripts/valgrind-python.supp, which suppresses the
# known ones, each anchored so that it cannot match a stack through _core); any other
# report is printed, so a new one is seen, but does not fail the run.
#
# PYTHONMALLOC=malloc: every Python object comes from malloc, so memcheck tracks it
# (pymalloc arenas would hide overruns into Python objects and report false positives).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
if ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind is not installed" >&2
  exit 2
fi
core=$("$python" -c "from importlib.util import find_spec; print(find_spec('grokprop._core').origin)")
if ldd "$core" | grep libasan >/dev/null; then  # not -q: with pipefail, an early exit fails ldd
  echo "valgrind.sh: $core is the ASan build (scripts/sanitize.sh); valgrind needs a normal one" >&2
  exit 2
fi

xml=$(mktemp)
trap 'rm -f "$xml"' EXIT
status=0
PYTHONMALLOC=malloc valgrind --tool=memcheck --num-callers=50 \
  --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --suppressions=scripts/valgrind-python.supp \
  --xml=yes --xml-file="$xml" \
  "$python" scripts/valgrind_smoke.py || status=$?
if [[ $status -ne 0 ]]; then
  echo "valgrind.sh: the smoke test failed under valgrind (exit $status)" >&2
  exit "$status"
fi

"$python" - "$xml" "$core" <<'PY'
"""Count valgrind's errors: those with a frame in grokprop's _core fail the run."""

import collections
import os
import sys
import xml.etree.ElementTree as ET

xml_file, core = sys.argv[1], os.path.realpath(sys.argv[2])
root = ET.parse(xml_file).getroot()


def ours(error: ET.Element) -> bool:
    objs = (frame.findtext("obj") for frame in error.iter("frame"))
    return any(obj and os.path.realpath(obj) == core for obj in objs)


def describe(error: ET.Element) -> str:
    what = error.findtext("what") or error.findtext("xwhat/text") or ""
    frames = [
        f"    {frame.findtext('fn') or '???'} ({os.path.basename(frame.findtext('obj') or '?')})"
        for frame in list(error.iter("frame"))[:20]
    ]
    return "\n".join([f"{error.findtext('kind')}: {what}", *frames])


errors = root.findall("error")
grokprop = [e for e in errors if ours(e)]
elsewhere = collections.Counter(e.findtext("kind") for e in errors if not ours(e))
suppressed = sum(int(p.findtext("count") or 0) for p in root.iterfind("suppcounts/pair"))
for error in grokprop:
    print(describe(error), file=sys.stderr)
for error in (e for e in errors if not ours(e)):
    print("(not grokprop) " + describe(error), file=sys.stderr)
print(
    f"valgrind.sh: {len(grokprop)} errors in grokprop frames ({os.path.basename(core)}); "
    f"{sum(elsewhere.values())} elsewhere {dict(elsewhere)}; {suppressed} suppressed "
    "(scripts/valgrind-python.supp)"
)
sys.exit(1 if grokprop else 0)
PY
