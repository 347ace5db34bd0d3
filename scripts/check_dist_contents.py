"""Check what grokprop's sdist and wheel hold (run by scripts/check_dist.sh).

Usage: python scripts/check_dist_contents.py DIST_DIR   (one .tar.gz and one .whl in it)

* the wheel holds exactly the package's files from the sdist's ``python/grokprop`` (which
  include ``py.typed`` and ``_core.pyi``), the compiled ``grokprop/_core`` extension, and the
  standard ``.dist-info`` files: no tests, build directories, caches or bytecode;
* the sdist holds what a build from source needs (and the tests) and no build debris.

Exits 1 with every problem listed; prints both listings with sizes otherwise.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

# sources every sdist must carry (a source build and its tests need them)
SDIST_REQUIRED = [
    "pyproject.toml",
    "CMakeLists.txt",
    "README.md",
    "LICENSE",
    "PKG-INFO",
    "python/grokprop/__init__.py",
    "python/grokprop/_version.py",
    "python/grokprop/py.typed",
    "python/grokprop/_core.pyi",
    "python/grokprop/explorer/explorer.ipynb",  # the page `grokprop explore` serves
    "cpp/src/module.cpp",
    "tests/conftest.py",
]
# build debris and local state that must never ship, in either archive
DEBRIS = re.compile(
    r"(^|/)(build|dist|\.venv[^/]*|\.hypothesis|\.pytest_cache|\.benchmarks|\.mypy_cache"
    r"|\.ruff_cache|__pycache__|[^/]*\.egg-info|\.git)(/|$)|\.py[cod]$|\.(so|pyd|dylib|o|obj)$"
)
DIST_INFO_FILES = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE"}
CORE = re.compile(r"grokprop/_core\.[^/]*(\.so|\.pyd)$")


def sdist_files(path: Path) -> dict[str, int]:
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
    top = {PurePosixPath(m.name).parts[0] for m in members}
    if len(top) != 1:
        raise SystemExit(f"{path.name}: expected one top-level directory, got {sorted(top)}")
    return {str(PurePosixPath(*PurePosixPath(m.name).parts[1:])): m.size for m in members}


def wheel_files(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as wheel:
        return {info.filename: info.file_size for info in wheel.infolist() if not info.is_dir()}


def problems_in(sdist: dict[str, int], wheel: dict[str, int]) -> list[str]:
    problems = [f"sdist lacks {name}" for name in SDIST_REQUIRED if name not in sdist]
    problems += [f"sdist holds debris: {name}" for name in sdist if DEBRIS.search(name)]

    package = {name.removeprefix("python/") for name in sdist if name.startswith("python/")}
    cores = [name for name in wheel if CORE.fullmatch(name)]
    if len(cores) != 1:
        problems.append(f"wheel must hold one compiled grokprop/_core, holds {cores}")
    for name in wheel:
        dist_info, _, rest = name.partition(".dist-info/")
        if rest:
            if not re.fullmatch(r"grokprop-[^/]+", dist_info) or rest not in DIST_INFO_FILES:
                problems.append(f"wheel holds an unexpected metadata file: {name}")
        elif name not in package and name not in cores:
            problems.append(f"wheel holds a file that is not part of the package: {name}")
    problems += [f"wheel lacks {name}" for name in sorted(package - set(wheel))]
    return problems


def listing(title: str, files: dict[str, int]) -> str:
    rows = [f"  {size:>9}  {name}" for name, size in sorted(files.items())]
    return "\n".join([title, *rows])


def main(dist_dir: str) -> int:
    sdists = sorted(Path(dist_dir).glob("*.tar.gz"))
    wheels = sorted(Path(dist_dir).glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        print(f"expected one sdist and one wheel in {dist_dir}, got {sdists + wheels}")
        return 1
    sdist, wheel = sdist_files(sdists[0]), wheel_files(wheels[0])
    print(listing(f"{wheels[0].name} ({wheels[0].stat().st_size} bytes):", wheel))
    print(listing(f"{sdists[0].name} ({sdists[0].stat().st_size} bytes):", sdist))
    problems = problems_in(sdist, wheel)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if not problems:
        print("sdist and wheel contents: OK")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
