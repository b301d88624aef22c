"""candle submit, jobs and cancel: scripts as text for Slurm, PBS and LSF; real jobs on the
three-node test Slurm (conftest.py)."""

from __future__ import annotations

import json
import re

import pytest
from helpers import submitted_job_ids, wait_until
from helpers import testfn_experiment as experiment

from candle_core.cluster.jobs import read_jobs
from candle_core.launch import srun_step_options
from candle_core.search.store import ResultsStore


# ------------------------------------------------------------------ scripts as text
def test_slurm_script_asks_for_the_allocation_and_forwards_the_warning(candle, candle_dirs):
    done = candle(
        *("submit", "--nodes", "2", "--ranks-per-node", "4", "--gpus-per-node", "4", "--time", "1:30:00"),
        *("--partition", "gpu", "--account", "CSC249", "--chain", "3", "--dry-run"),
        *("--", "candle", "search", "testfn", "--space", "s.json", "--evaluator", "mpi", "--budget", "40"),
    )
    assert done.code == 0, done.err
    script = done.out
    for directive in (
        "--nodes=2",
        "--ntasks-per-node=4",
        "--gpus-per-node=4",
        "--time=01:30:00",
        "--partition=gpu",
        "--account=CSC249",
        "--signal=B:USR1@120",
    ):
        assert f"#SBATCH {directive}\n" in script
    folder = experiment(candle_dirs, "EXP000")
    # a chain's jobs continue the search when there is one
    launch = r'srun --mpi=pmi2 --overlap --kill-on-bad-exit=1 -N "\$count" -n "\$\(\(count \* 4\)\)" -w "\$nodes" '
    assert re.search(launch + r"\S+python\S* -m candle_core.cli search testfn .* --resume=auto \$again &", script)
    assert "count=2; again=; restarts=0" in script  # 2 nodes, then those left after a loss
    assert 'trap \'[ -n "$child" ] && kill -USR1 "$child" 2>/dev/null\' USR1' in script
    assert f"export CANDLE_DATA_DIR={candle_dirs}" in script
    assert not folder.exists()  # a dry run writes nothing


def test_pbs_and_lsf_scripts(candle, tmp_path):
    upf = tmp_path / "sets.upf"
    upf.write_text("\n".join(json.dumps({"id": f"s{i}", "x1": i, "x2": 1.0}) for i in range(4)) + "\n")
    common = ("--nodes", "3", "--ranks-per-node", "2", "--time", "0:10:00", "--array", "2", "--dry-run")
    pbs = candle("submit", "--scheduler", "pbs", *common, "--", "upf", "testfn", str(upf))
    assert pbs.code == 0, pbs.err
    assert "#PBS -l select=3:ncpus=2:mpiprocs=2\n" in pbs.out and "#PBS -l walltime=00:10:00\n" in pbs.out
    assert "#PBS -J 0-1\n" in pbs.out
    assert '--shard "${PBS_ARRAY_INDEX}/2" --experiment_id "EXP000.${PBS_ARRAY_INDEX}"' in pbs.out
    lsf = candle("submit", "--scheduler", "lsf", *common, "--", "upf", "testfn", str(upf))
    assert lsf.code == 0, lsf.err
    assert "#BSUB -J candle-testfn-EXP000[1-2]\n" in lsf.out and "#BSUB -n 6\n" in lsf.out
    assert "#BSUB -W 0:10\n" in lsf.out and "#BSUB -wa USR1\n" in lsf.out
    assert '--shard "$((LSB_JOBINDEX - 1))/2"' in lsf.out


def test_site_profile_sets_defaults_and_container(candle, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        'scheduler = "slurm"\npartition = "batch"\nmodules = ["cuda/12.4"]\n'
        'setup = ["source /opt/env.sh"]\ncontainer = "apptainer"\nwarning_seconds = 300\n'
    )
    done = candle(
        "submit", "--site", str(site), "--image", "/img/candle.sif", "--dry-run", "--", "run", "testfn", "-e", "2"
    )
    assert done.code == 0, done.err
    assert "#SBATCH --partition=batch\n" in done.out and "#SBATCH --signal=B:USR1@300\n" in done.out
    assert "module load cuda/12.4\nsource /opt/env.sh\n" in done.out
    assert "apptainer exec --nv /img/candle.sif candle run testfn -e 2 &" in done.out


@pytest.mark.parametrize(
    "text, message",
    [
        ('partiton = "gpu"\n', "site.toml:1: unknown key 'partiton'; did you mean 'partition'?"),
        ('\nmodules = "cuda"\n', "site.toml:2: modules must be a list of strings"),
        ('scheduler = "sge"\n', "site.toml:1: scheduler = 'sge'; choose one of slurm, pbs, lsf"),
        ("scheduler = \n", "site.toml: not a TOML file"),
    ],
)
def test_site_profile_errors_name_file_line_and_key(candle, tmp_path, text, message):
    site = tmp_path / "site.toml"
    site.write_text(text)
    done = candle("submit", "--site", str(site), "--dry-run", "--", "run", "testfn")
    assert done.code == 2 and message in done.err and "Traceback" not in done.err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dry-run"], "give the command after --"),
        (["--dry-run", "--", "list"], "one of run, search, upf, uq (got 'list')"),
        (["--array", "2", "--dry-run", "--", "run", "testfn"], "--array N: only for 'candle upf'"),
        (["--time", "soon", "--dry-run", "--", "run", "testfn"], "--time 'soon': expected HH:MM:SS"),
        (["--nodes", "0", "--dry-run", "--", "run", "testfn"], "--nodes 0: give 1 or more"),
        (["--dry-run", "--", "run", "testfn", "--epochs", "x"], "epochs"),
    ],
)
def test_bad_submissions_are_clear_errors(candle, args, message):
    done = candle("submit", *args)
    assert done.code == 2 and message in done.err and "Traceback" not in done.err


def test_a_search_already_stored_needs_resume(candle, candle_dirs, space):
    assert candle("search", "testfn", "--space", str(space), "--budget", "2", "-e", "1").code == 0
    done = candle("submit", "--dry-run", "--", "search", "testfn", "--space", str(space), "--budget", "4", "-e", "1")
    assert done.code == 2 and "already holds a search: add --resume" in done.err


# ------------------------------------------------------------------ real jobs on the test Slurm
def test_submitted_run_completes_and_jobs_shows_it(candle, candle_dirs, slurm):
    done = candle("submit", "--", "candle", "run", "testfn", "-e", "2", env=slurm.env)
    (job,) = submitted_job_ids(done)
    slurm.wait_job(job)
    folder = experiment(candle_dirs, "EXP000")
    assert json.loads((folder / "RUN000" / "results.json").read_text())["epochs_run"] == 2
    assert (folder / "jobs" / f"{job}.exit").read_text().strip() == "0"
    assert [r.id for r in read_jobs(folder)] == [job]
    shown = candle("jobs", str(folder), env=slurm.env)
    assert shown.code == 0 and re.search(rf"{job}\s+COMPLETED", shown.out), shown.out


def test_upf_job_array_runs_each_shard_as_its_own_experiment(candle, candle_dirs, slurm, tmp_path):
    upf = tmp_path / "sets.upf"
    upf.write_text("\n".join(json.dumps({"id": f"s{i}", "x1": float(i), "x2": 1.0}) for i in range(5)) + "\n")
    done = candle("submit", "--array", "2", "--", "upf", "testfn", str(upf), "-e", "1", env=slurm.env)
    (job,) = submitted_job_ids(done)
    slurm.wait_job(job)
    labels = {}
    for index in (0, 1):
        trials = ResultsStore(experiment(candle_dirs, f"EXP000.{index}") / "results.sqlite").trials()
        assert all(t.status == "ok" for t in trials)
        labels[index] = sorted(t.label for t in trials)
    assert labels == {0: ["s0", "s2", "s4"], 1: ["s1", "s3"]}
    shown = candle("jobs", str(experiment(candle_dirs, "EXP000")), env=slurm.env)
    assert shown.code == 0 and len(re.findall(rf"{job}_[01]\s+COMPLETED", shown.out)) == 2, shown.out


@pytest.mark.needs("mpi4py")
def test_mpi_search_spreads_trials_over_three_nodes(candle, candle_dirs, slurm, space):
    done = candle(
        *("submit", "--nodes", "3", "--ranks-per-node", "1", "--"),
        *("search", "testfn", "--space", str(space), "--evaluator", "mpi", "--budget", "6", "-e", "2"),
        *("--sleep", "0.5", "--experiment_id", "spread"),
        env=slurm.env,
    )
    (job,) = submitted_job_ids(done)
    slurm.wait_job(job)
    folder = experiment(candle_dirs, "spread")
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    trials = ResultsStore(folder / "results.sqlite").trials()
    assert len(trials) == 6 and all(t.status == "ok" for t in trials), log
    nodes = {tuple(t.results["placement"]["nodes"]) for t in trials}
    assert nodes == {("n2",), ("n3",)}  # rank 0 (on n1) drives; the worker ranks on n2 and n3 run trials


@pytest.mark.needs("mpi4py")
def test_multi_rank_trials_are_srun_steps_on_their_own_nodes(candle, candle_dirs, slurm, tmp_path):
    upf = tmp_path / "runs.upf"
    upf.write_text("\n".join(json.dumps({"id": i, "learning_rate": rate}) for i, rate in enumerate((1e-3, 3e-4))))
    small = ("--data", "synthetic", "--feature_subsample", "300", "--conv", "8", "20", "1", "--dense", "16", "8")
    done = candle(
        *("submit", "--nodes", "3", "--ranks-per-node", "1", "--"),
        *("upf", "nt3", str(upf), "--evaluator", "mpi", "--ranks-per-trial", "2", *small, "-e", "1"),
        *("--trial-timeout", "300", "--experiment_id", "steps"),  # a hung step: a failed trial, with its log
        env=slurm.env,
    )
    (job,) = submitted_job_ids(done)
    slurm.wait_job(job)
    folder = candle_dirs / "nt3" / "steps"
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    trials = ResultsStore(folder / "results.sqlite").trials()
    trial_logs = [path.read_text()[-3000:] for path in sorted(folder.glob("RUN_*/trial_job.log"))]
    assert len(trials) == 2 and all(t.status == "ok" for t in trials), (log, [t.error for t in trials], trial_logs)
    for trial in trials:
        assert trial.results["placement"]["nodes"] == ["n2", "n3"]  # the group of worker ranks
        assert trial.results["job"]["nodes"] == ["n2", "n3"]  # the trial's own MPI job, on the same nodes
        results = json.loads((folder / f"RUN_{trial.label}" / "results.json").read_text())
        assert results["data_parallel"]["ranks"] == 2
    steps = [trial.results["job"]["slurm_step"] for trial in trials]
    assert None not in steps and "0" not in steps and len(set(steps)) == 2  # each trial its own srun step


def test_a_step_whose_rank_dies_ends_instead_of_waiting_for_the_others(slurm):
    """srun_step_options: with --kill-on-bad-exit, rank 1's exit 3 ends rank 0's long sleep."""
    rank_one_fails = 'if [ "$SLURM_PROCID" = 1 ]; then exit 3; fi; sleep 600'
    step = ["srun", "--ntasks=2", "--nodelist=n1,n2", *srun_step_options(), "sh", "-c", rank_one_fails]
    done = slurm.command(*step, timeout=300)  # without the option: 600 s, past the bound
    assert done.returncode != 0 and "task 1: Exited with exit code 3" in done.stderr, done.stderr


def test_a_job_that_outlives_the_wait_is_reported_and_cancelled(candle, candle_dirs, slurm):
    long_run = ("run", "testfn", "-e", "100", "--sleep", "5", "--experiment_id", "stuck")
    (job,) = submitted_job_ids(candle("submit", "--", *long_run, env=slurm.env))
    folder = experiment(candle_dirs, "stuck")
    wait_until(lambda: "RUNNING" in candle("jobs", str(folder), env=slurm.env).out, "the job ran", poll=0.5)
    with pytest.raises(RuntimeError) as stuck:
        slurm.wait_job(job, timeout=1)
    report = str(stuck.value)
    assert f"job {job} still queued" in report and "cancelled now" in report
    assert re.search(rf"\s{job}\s+debug\s.*\sR\s", report) and "STEPID" in report, report  # the queue, the steps
    assert "--- slurmctld.log" in report and "--- slurmd.n1.log" in report  # the daemons' last words
    slurm.wait_job(job)  # and it is gone (cancelled), so it holds no node


def test_cancel_stops_a_running_job(candle, candle_dirs, slurm):
    long_run = ("run", "testfn", "-e", "100", "--sleep", "5", "--experiment_id", "long")
    done = candle("submit", "--", *long_run, env=slurm.env)
    (job,) = submitted_job_ids(done)
    folder = experiment(candle_dirs, "long")
    wait_until(lambda: "RUNNING" in candle("jobs", str(folder), env=slurm.env).out, "the job ran", poll=0.5)
    cancelled = candle("cancel", str(folder), env=slurm.env)
    assert cancelled.code == 0 and f"cancelled {job}" in cancelled.out
    slurm.wait_job(job)
    assert re.search(rf"{job}\s+(CANCELLED|UNKNOWN)", candle("jobs", str(folder), env=slurm.env).out)
    again = candle("cancel", str(folder), env=slurm.env)
    assert again.code == 0 and "no job of it is queued or running" in again.out


@pytest.mark.needs("mpi4py")
def test_node_cache_across_nodes_continues_from_the_shared_copy(candle, candle_dirs, slurm, tmp_path):
    space = tmp_path / "lr.json"
    rate = {"name": "learning_rate", "type": "float", "lower": 1e-4, "upper": 1e-2, "log": True}
    space.write_text(json.dumps([rate]))
    small = ("--data", "synthetic", "--feature_subsample", "120", "--conv", "8", "10", "1", "--dense", "16")
    search = ("search", "nt3", "--algorithm", "pbt", "--space", str(space), "--budget", "4", "--evaluator", "srun")
    search += ("--option", "population=2", "--option", "round_epochs=1", "--model-cache", "node", *small)
    done = candle("submit", "--nodes", "3", "--", *search, "--experiment_id", "pbtnodes", env=slurm.env)
    (job,) = submitted_job_ids(done)
    slurm.wait_job(job)
    folder = candle_dirs / "nt3" / "pbtnodes"
    log = next((folder / "jobs").glob("slurm-*.out")).read_text()
    trials = {t.label: t for t in ResultsStore(folder / "results.sqlite").trials()}
    assert len(trials) == 4 and all(t.status == "ok" for t in trials.values()), log
    moved = 0  # the srun evaluator takes the three nodes in turn: a second round starts elsewhere
    for member in range(2):
        second = trials[f"m{member}_r1"]
        results = json.loads((folder / f"RUN_m{member}_r1" / "results.json").read_text())
        assert results["resumed_from_epoch"] == 1  # continued from a first-round checkpoint
        moved += second.results["node_cache"]["node"] != trials[f"m{member}_r0"].results["node_cache"]["node"]
    assert moved  # at least one member continued on another node than it started on
