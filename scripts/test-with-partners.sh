#!/usr/bin/env bash
# The suite must pass after a partner adds programme folders to data/raw as data/raw/README.md
# says (`cp -r tests/fixtures/partners/* data/raw/`; issue 16.7). This runs the tests again in a
# throwaway copy of the project whose data/raw holds the shipped data plus every partner fixture,
# in a random order (seed $SEED, default that of `make test`); the working tree is not touched.
#
# What runs (about a third of `make test`'s time): every test not marked slow — the unit tests,
# the bad-input corpus, the CLI on the data — and tests/test_notebooks.py, which executes the
# shipped notebooks in the project root with their default raw_dir. The other slow tests build
# in temporary projects of their own (tests/test_isolation.py checks statically that no test
# reads data/raw as a whole). Arguments, when given, replace that selection (pytest arguments).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seed=${SEED:-20240409}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpi-partners.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/src" "$root/tests" "$root/notebooks" "$root/pyproject.toml" "$root/uv.lock" "$tmp/"
mkdir "$tmp/data"
cp -r "$root/data/raw" "$tmp/data/raw"
cp -r "$root"/tests/fixtures/partners/*/ "$tmp/data/raw/"
echo "test-with-partners: data/raw holds $(cd "$tmp/data/raw" && echo */ | tr -d /); seed $seed"
cd "$tmp"
pytest=("$root/.venv/bin/python" -m pytest -p randomly -p no:cacheprovider --randomly-seed="$seed" -q)
if [ $# -gt 0 ]; then
  "${pytest[@]}" "$@"
else
  "${pytest[@]}" -m "not slow" tests
  "${pytest[@]}" tests/test_notebooks.py
fi
