#!/usr/bin/env bash
# The suite must pass after a partner adds programme folders to data/raw as data/raw/README.md
# says (`cp -r tests/fixtures/partners/* data/raw/`; issue 16.7). This runs the tests again in a
# throwaway copy of the project whose data/raw holds the shipped data plus every partner fixture,
# in a random order (seed $SEED, default that of `make test`); the working tree is not touched.
#
# What runs: the whole suite, as `make test` runs it (slow tests included: the builds, the
# browser and Slurm tests, the notebooks executed in the project root with their default raw_dir).
# Arguments, when given, replace that selection (pytest arguments).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seed=${SEED:-20240409}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kpi-partners.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The project as it stands (uncommitted edits included), without the environment, the archive
# and generated outputs.
tar -C "$root" --exclude=./.git --exclude=./.venv --exclude=./.tools --exclude=./reports \
  --exclude=./data/processed --exclude=./benchmarks/out --exclude=__pycache__ -cf - . \
  | tar -C "$tmp" -xf -
cp -r "$root"/tests/fixtures/partners/*/ "$tmp/data/raw/"
echo "test-with-partners: data/raw holds $(cd "$tmp/data/raw" && echo */ | tr -d /); seed $seed"
cd "$tmp"
# Import the copy's package, not the editable install's (which points at $root/src): pytest's
# doctest collection refuses a module whose file is not the one it collects. The sources are
# the same files, so the copy tests exactly the code `make test` tests.
export PYTHONPATH="$tmp/src${PYTHONPATH:+:$PYTHONPATH}"
pytest=("$root/.venv/bin/python" -m pytest -p randomly -p no:cacheprovider --randomly-seed="$seed" -q)
if [ $# -gt 0 ]; then
  "${pytest[@]}" "$@"
else
  "${pytest[@]}"
fi
