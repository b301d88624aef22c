"""--model-cache node: trials keep their models and checkpoints on the node, and only what the
search keeps reaches the experiment folder (a PBT search on reduced NT3, local evaluator)."""

import json
import subprocess
import sys

from candle_core.search.store import ResultsStore

NT3 = ["--data", "synthetic", "--feature_subsample", "120", "--optimizer", "adam"]
NT3 += ["--conv", "8", "10", "1", "--dense", "16", "--ckpt_save_interval", "1"]
SPACE = [{"name": "learning_rate", "type": "float", "lower": 1e-4, "upper": 1e-2, "log": True}]


def _pbt(tmp_path, experiment, cache, *extra):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    command = [sys.executable, "-m", "candle_core.cli", "search", "nt3", "--algorithm", "pbt"]
    command += ["--space", str(space), "--budget", "6", "--workers", "2", "--option", "population=2"]
    command += ["--option", "round_epochs=2", "--model-cache", cache, *extra, *NT3, "--experiment_id", experiment]
    environment = {**__import__("os").environ, "CANDLE_NODE_CACHE": str(tmp_path / "node")}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)


def _bytes(folder):
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def test_node_cache_flushes_only_what_the_search_keeps(tmp_path, candle_dirs):
    for experiment, cache in (("shared", "shared"), ("node", "node")):
        done = _pbt(tmp_path, experiment, cache)
        assert done.returncode == 0, done.stderr[-3000:]
    shared, node = candle_dirs / "nt3" / "shared", candle_dirs / "nt3" / "node"
    trials = ResultsStore(node / "results.sqlite").trials()
    assert len(trials) == 6 and all(t.status == "ok" for t in trials)
    later = [t for t in trials if not t.label.endswith("_r0")]
    for trial in later:  # a later round continued from the flushed checkpoint of the round before
        results = json.loads((node / f"RUN_{trial.label}" / "results.json").read_text())
        assert results["resumed_from_epoch"] == int(trial.label[-1]) * 2
    for trial in trials:
        run_dir = node / f"RUN_{trial.label}"
        assert not any(p.is_symlink() for p in run_dir.iterdir())  # no link into a node's disk is left
        if trial.label.endswith("_r2"):  # the last round: nothing continues from it
            assert not (run_dir / "ckpts").exists()
        else:  # the latest checkpoint only, for the next round
            assert len([p for p in (run_dir / "ckpts").iterdir() if p.is_dir()]) == 1
        assert (run_dir / "model").is_dir() and trial.results["node_cache"]["flushed_bytes"] > 0
        shared_ckpts = [p for p in (shared / f"RUN_{trial.label}" / "ckpts").iterdir() if p.is_dir()]
        assert len(shared_ckpts) >= 2  # without the node cache: every epoch's checkpoint (and the best)
    assert not list((tmp_path / "node").rglob("RUN_*"))  # the node's copies are gone
    assert _bytes(node) < _bytes(shared)


def test_node_cache_with_keep_models_flushes_the_best_models_only(tmp_path, candle_dirs):
    done = _pbt(tmp_path, "K", "node", "--keep-models", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    folder = candle_dirs / "nt3" / "K"
    trials = ResultsStore(folder / "results.sqlite").trials()
    best = min(trials, key=lambda t: t.objective)
    models = {t.label for t in trials if (folder / f"RUN_{t.label}" / "model").exists()}
    assert best.label in models and len(models) < len(trials)
    for trial in trials:
        assert not any(p.is_symlink() for p in (folder / f"RUN_{trial.label}").iterdir())
