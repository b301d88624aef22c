import multiprocessing

from candle_core.search.store import ResultsStore


def _writer(path, start):
    store = ResultsStore(path)
    for i in range(start, start + 25):
        store.start_trial(i, {"x": i}, f"/runs/{i}")
        store.finish_trial(i, "ok", float(i), [{"epoch": 1, "val_loss": float(i)}], {"status": "ok"}, None)


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    processes = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, k * 100)) for k in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
        assert p.exitcode == 0
    trials = ResultsStore(path).trials()
    assert len(trials) == 100 and all(t.status == "ok" and t.history[0]["val_loss"] == t.objective for t in trials)


def test_unfinished_trials_are_discarded_on_resume(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.start_trial(0, {"x": 1}, "/r/0")
    store.finish_trial(0, "failed", None, [], {}, "boom")
    store.start_trial(1, {"x": 2}, "/r/1", label="line-2")
    assert store.discard_unfinished() == 1
    (only,) = store.trials()
    assert only.status == "failed" and only.error == "boom" and store.next_id() == 1
    store.save_settings({"identity": {"a": [1, 2]}})
    assert store.settings() == {"identity": {"a": [1, 2]}}
