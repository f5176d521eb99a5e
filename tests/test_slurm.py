"""The README's Slurm job array on a real single-node Slurm cluster (issue 19, point 6).

The test starts its own cluster — ``munged`` with a freshly generated key, ``slurmctld`` and
``slurmd`` on 127.0.0.1 with a generated ``slurm.conf`` (free ports, state in a temporary
folder) — and stops every daemon it started. Debian's ``slurm-wlm`` and ``munge`` are installed by
``make test`` (``scripts/ensure-slurm.sh``). Without them, or without root (``slurmd`` starts jobs
as their user), the test skips, except under ``KPIANALYSIS_REQUIRE_SLURM=1`` (``.ci/run``).

What it proves, on the seed programme (selected by id) plus a synthetic second programme, with a
programme-scoped and a panel-scoped notebook (8 runs):

- the README's job script, submitted as a 4-task array, fills an archive equal to a single
  ``build``'s run for run (same runs, same run keys, byte-identical reports and notebooks);
- one array task cancelled while it runs leaves only runs of its shard missing (the others are
  complete, with the same keys); the same array submitted again builds exactly the missing ones
  and leaves every other archived file untouched;
- the README's ``kpianalysis index`` job, dependent on the array, writes the index.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpianalysis.build import pipeline, plan
from kpianalysis.build.parameters import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
#: Set to 1 (as ``.ci/run`` does) to fail instead of skip when Slurm cannot run here.
REQUIRE_ENV = "KPIANALYSIS_REQUIRE_SLURM"
COMMANDS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol")
SHARDS = 4
#: Upper bound for an array to finish on a loaded 2-core machine (a run takes seconds).
WAIT_S = 1200

pytestmark = pytest.mark.slow


def command(name: str) -> str | None:
    """The command's path, also in /usr/sbin (not on every user's PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    return found


def require_slurm() -> None:
    """Skip (or fail under ``REQUIRE_ENV=1``) when a single-node cluster cannot be started."""
    missing = [c for c in COMMANDS if command(c) is None]
    reason = None
    if missing:
        reason = f"missing {', '.join(missing)} (scripts/ensure-slurm.sh installs slurm-wlm, munge)"
    elif os.geteuid() != 0:
        reason = "slurmd must run as root to start jobs"
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"Slurm required ({REQUIRE_ENV}=1) but cannot run: {reason}")
    pytest.skip(f"Slurm unavailable: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """\
ClusterName=kpitest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={base}/munge.socket
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
# No cgroups in a container: processes tracked by parent id, tasks not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
# Tasks share the node CPU by CPU: two one-CPU array tasks run at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
# Ended jobs stay visible to scontrol long enough for the test to read their state.
MinJobAge=3600
# A cancelled task's processes get SIGTERM, then SIGKILL after this many seconds.
KillWait=5
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=kpi Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


class Cluster:
    """A single-node Slurm cluster with its own munge key, config, state and logs in ``base``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.conf = base / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), "MPLBACKEND": "Agg"}
        self.daemons: list[subprocess.Popen] = []
        self.jobs: list[str] = []

    def start(self) -> None:
        base = self.base
        for sub in ("state", "spool"):
            (base / sub).mkdir()
        key = base / "munge.key"
        subprocess.run([command("mungekey"), "--create", "--keyfile", str(key)], check=True)
        # -f: run as root and in a temporary folder (munged would refuse both by default).
        self.daemon(
            "munged", "--foreground", "--force", f"--key-file={key}",
            f"--socket={base}/munge.socket", f"--pid-file={base}/munged.pid",
            f"--log-file={base}/munged.log", f"--seed-file={base}/munged.seed",
        )  # fmt: skip
        self.until(lambda: (base / "munge.socket").exists(), "munged's socket", 30)
        self.conf.write_text(
            SLURM_CONF.format(
                host=socket.gethostname().split(".")[0],
                base=base,
                ctld_port=free_port(),
                slurmd_port=free_port(),
                # At most 2 (what the test needs); never more than this process may use.
                cpus=min(2, len(os.sched_getaffinity(0))),
            ),
            encoding="utf-8",
        )
        # -D: in the foreground, children of this process; -i: ignore any saved state.
        self.daemon("slurmctld", "-D", "-i", "-f", str(self.conf))
        self.daemon("slurmd", "-D", "-f", str(self.conf))
        self.until(lambda: self.slurm("sinfo", "-h", "-o", "%T").strip() == "idle", "idle node", 90)

    def daemon(self, name: str, *args: str) -> None:
        log = open(self.base / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process
        self.daemons.append(
            subprocess.Popen(
                [command(name), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        )
        log.close()

    def until(self, ready, what: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            dead = [p for p in self.daemons if p.poll() is not None]
            if dead:
                raise AssertionError(f"{dead[0].args[0]} exited: {self.logs()}")
            with contextlib.suppress(AssertionError):
                if ready():
                    return
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}: {self.logs()}")

    def logs(self) -> str:
        parts = []
        for p in sorted(self.base.glob("*.log")) + sorted(self.base.glob("*.out")):
            parts.append(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:])
        return "\n".join(parts)

    def slurm(self, name: str, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            [command(name), *args], env=self.env, cwd=cwd, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, done.args))}: {done.stderr.strip()}")
        return done.stdout

    def submit(self, *args: str, cwd: Path) -> str:
        job = self.slurm("sbatch", "--parsable", *args, cwd=cwd).strip().split(";")[0]
        self.jobs.append(job)
        return job

    def wait(self, job: str) -> None:
        """Until no task of the job is pending or running."""
        self.until(lambda: self.slurm("squeue", "-h", "-j", job) == "", f"job {job}", WAIT_S)

    def states(self, job: str) -> dict[str, tuple[str, str]]:
        """``{array task id: (state, exit code)}`` of an array job's tasks, as scontrol says."""
        out = {}
        for line in self.slurm("scontrol", "-o", "show", "job", job).splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            out[fields.get("ArrayTaskId", "")] = (fields["JobState"], fields["ExitCode"])
        return out

    def stop(self) -> None:
        for job in self.jobs:
            with contextlib.suppress(Exception):
                self.slurm("scancel", job)
        for p in reversed(self.daemons):  # slurmd, slurmctld, then munged
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(10)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    require_slurm()
    # A short path: munged's socket path must fit a sockaddr_un (108 bytes).
    with tempfile.TemporaryDirectory(prefix="kpi-slurm-", dir="/tmp") as tmp:
        c = Cluster(Path(tmp))
        try:
            c.start()
            yield c
        finally:
            c.stop()
        assert all(p.poll() is not None for p in c.daemons)


def job_script() -> str:
    """The README's job-array script (the ``sh`` block with ``#SBATCH --array``), N=SHARDS."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (script,) = [b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "--array" in b]
    assert script.count("N=16") == 1, script
    return script.replace("N=16", f"N={SHARDS}")


def index_command() -> str:
    """The README's ``--wrap`` command that writes the index once all shards ended."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (wrap,) = re.findall(r'sbatch --dependency=afterany:\$jid --wrap "([^"]+)"', readme)
    return wrap


def archived(reports: Path) -> dict[str, tuple[str, str, str]]:
    """``{<scope>/fy<YEAR>/<stem>: (run key, sha256 of the HTML, of the notebook)}`` of every run
    record in an archive (outputs are normalised: the same run gives the same bytes)."""
    out = {}
    for record in sorted(reports.glob("*/fy*/*.run.json")):
        if record.parts[-3] == "failed":
            continue
        rel = record.relative_to(reports).as_posix().removesuffix(".run.json")
        rec = json.loads(record.read_text(encoding="utf-8"))
        out[rel] = (rec["run_key"], rec["outputs"]["html"], rec["outputs"]["ipynb"])
    return out


def files_of(reports: Path) -> dict[str, tuple[int, int]]:
    """Inode and mtime of every archived report, notebook and record."""
    return {
        p.relative_to(reports).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in reports.glob("*/fy*/*")
        if p.is_file()
    }


def built_counts(project: Path, job: str, tasks: list[str]) -> tuple[int, int, int]:
    """Sum of ``built``, ``unchanged`` and ``failed`` printed by the array's tasks."""
    totals = [0, 0, 0]
    for task in tasks:
        out = project / f"slurm-{job}_{task}.out"
        text = out.read_text(errors="replace")
        m = re.search(r"built (\d+), unchanged (\d+), failed (\d+) \(\d+ runs?\)", text)
        assert m, f"{out.name}: {text[-2000:]}"
        totals = [t + int(v) for t, v in zip(totals, m.groups(), strict=True)]
    return totals[0], totals[1], totals[2]


def test_readme_job_array_on_a_real_cluster(cluster: Cluster, tmp_path: Path) -> None:
    from conftest import RAW, SEED_ID, demo_programme, write_notebook

    project = tmp_path / "project"
    shutil.copytree(RAW / SEED_ID, project / "data" / "raw" / SEED_ID)
    demo_programme(project / "data" / "raw", range(2021, 2023))
    params = 'fiscal_year: int = 2023\nraw_dir: str = "data/raw"\nlanguage: str = "ja"\n'
    write_notebook(
        project / "notebooks" / "card.ipynb",
        params + f'programme_id: str = "{SEED_ID}"\n',
        "print(programme_id, fiscal_year)",
    )
    write_notebook(project / "notebooks" / "overview.ipynb", params, "print(fiscal_year)")
    for name in ("pyproject.toml", "uv.lock"):  # a project: what `kpianalysis index` requires
        shutil.copy2(ROOT / name, project / name)
    # The script runs .venv/bin/kpianalysis: the environment running this test.
    (project / ".venv").symlink_to(sys.prefix)

    # The reference: one build, in this process, into an archive of its own.
    # Both languages, as the script's `kpianalysis build` builds them.
    single = pipeline.build(
        project, reports="single", languages=LANGUAGES, jobs=2, progress=False, index=False
    )
    expected = archived(project / "single")
    # Seed FY2021–2023 and the demo FY2021–2022 (card), the panel FY2021–2023 (overview), each
    # in Japanese and English.
    runs = 2 * (3 + 2 + 3)
    assert len(expected) == single.count("ok") == runs
    shards = {
        k: {s.identity for s in plan.select_shard([o.spec for o in single.outcomes], (k, SHARDS))}
        for k in range(1, SHARDS + 1)
    }
    gap = max(shards, key=lambda k: len(shards[k]))  # the task to cancel: a non-empty shard
    assert shards[gap]

    (project / "build.sbatch").write_text(job_script(), encoding="utf-8")
    # The README's script with a 4-task array of one CPU each (this node has 2): command-line
    # options override its #SBATCH lines. Held; the task to cancel is released first and
    # cancelled once its first run executes (its staging folder exists: the kernel is starting
    # or running), then the others are released.
    array = ("--array", f"1-{SHARDS}", "--cpus-per-task", "1", "build.sbatch")
    job = cluster.submit("--hold", *array, cwd=project)
    cluster.slurm("scontrol", "release", f"{job}_{gap}")
    staging = project / "reports" / ".staging"

    def executing() -> bool:
        state = cluster.slurm("squeue", "-h", "-j", f"{job}_{gap}", "-o", "%T").strip()
        if state not in ("PENDING", "CONFIGURING", "RUNNING"):
            return True  # ended already: the assertions below say how
        return staging.is_dir() and any(p.is_dir() for p in staging.iterdir())

    cluster.until(executing, f"task {gap} to execute a run", WAIT_S)
    cluster.slurm("scancel", f"{job}_{gap}")
    others = [str(k) for k in range(1, SHARDS + 1) if k != gap]
    for k in others:  # (releasing the whole array fails: one of its tasks is not held)
        cluster.slurm("scontrol", "release", f"{job}_{k}")
    index_job = cluster.submit(
        f"--dependency=afterany:{job}", "--wrap", index_command(), cwd=project
    )
    cluster.wait(job)
    cluster.wait(index_job)

    states = cluster.states(job)
    assert states[str(gap)][0] == "CANCELLED", states
    assert [states[k] for k in others] == [("COMPLETED", "0:0")] * len(others), cluster.logs()
    reports = project / "reports"
    first = archived(reports)
    # Every archived run is the single build's (key and bytes); what is missing is the cancelled
    # shard's (all of it, or what it had not committed yet when cancelled).
    assert first == {r: run for r, run in expected.items() if r in first}
    missing = set(expected) - set(first)
    assert missing and missing <= shards[gap], (missing, shards[gap])
    assert built_counts(project, job, others) == (runs - len(shards[gap]), 0, 0)
    index_out = (project / f"slurm-{index_job}.out").read_text(errors="replace")
    assert cluster.states(index_job)[""] == ("COMPLETED", "0:0"), index_out
    assert SEED_ID in (reports / "index.html").read_text(encoding="utf-8")

    # The same array again: only the gap is built; every archived file stays as it was.
    before = files_of(reports)
    again = cluster.submit(*array, cwd=project)
    cluster.wait(again)
    assert set(cluster.states(again).values()) == {("COMPLETED", "0:0")}, cluster.logs()
    assert archived(reports) == expected
    tasks = [str(k) for k in range(1, SHARDS + 1)]
    assert built_counts(project, again, tasks) == (len(missing), runs - len(missing), 0)
    after = files_of(reports)
    assert {f: after[f] for f in before} == before
    assert len(after) == len(before) + 3 * len(missing)  # report, notebook, record each
