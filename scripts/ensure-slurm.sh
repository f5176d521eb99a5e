#!/usr/bin/env bash
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, the client commands) and MUNGE for the
# single-node cluster test (tests/test_slurm.py), when missing and possible. Nothing is started or
# configured here: the test generates its own slurm.conf and munge key in a temporary folder and
# starts (and stops) the daemons itself; the packages' own services are left off.
# Without root (or without apt) it prints why and returns 0; the test then skips with that reason,
# except under KPIANALYSIS_REQUIRE_SLURM=1 (set by .ci/run), where it fails instead.
set -u
missing=0
for cmd in slurmctld slurmd sbatch squeue scancel scontrol munged mungekey; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing=1
done
[ "$missing" = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: the Slurm test needs slurm-wlm and munge (apt-get install --no-install-recommends slurm-wlm munge); not root or no apt-get, so it will skip" >&2
  exit 0
fi
echo "installing slurm-wlm and munge for the Slurm test (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d: the packages' post-install scripts must not start their own services.
policy=/usr/sbin/policy-rc.d
added=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
fi
{ apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; } \
  || echo "note: could not install slurm-wlm and munge; the Slurm test will skip" >&2
[ "$added" = 1 ] && rm -f "$policy"
exit 0
