"""candle_lib's framework-free helpers through ``import candle``, each against an independent
computation (numpy, pandas, scipy, sklearn) or a property it must have."""

from __future__ import annotations

import argparse
import io
import logging
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, rankdata

import candle
from candle_core.errors import CandleError


def test_import_candle_loads_no_framework():
    code = (
        "import sys, candle; candle.str2bool; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'tensorflow', 'keras'}))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_name_says_where_the_list_is():
    with pytest.raises(AttributeError, match="compatibility.md"):
        candle.no_such_helper  # noqa: B018


def test_str2bool_argument_struct_and_flag_conflicts():
    assert candle.str2bool("Yes") is True and candle.str2bool("0") is False
    args = candle.ArgumentStruct(epochs=3, rng_seed=7)
    assert (args.epochs, args.rng_seed) == (3, 7)
    candle.check_flag_conflicts({"clr_flag": True, "reduce_lr": False})
    with pytest.raises(CandleError, match="clr_flag and warmup_lr"):
        candle.check_flag_conflicts({"clr_flag": True, "warmup_lr": True})


def test_parse_from_dictlist_adds_typed_options():
    parser = candle.parse_from_dictlist(
        [
            {"name": "dense", "nargs": "+", "type": int},
            {"name": "shuffle", "type": candle.str2bool, "default": False},
            {"name": "spec", "action": "list-of-lists"},
            {"name": "mode", "default": "ae", "choices": ["ae", "vae"]},
        ],
        argparse.ArgumentParser(prog="t"),
    )
    args = parser.parse_args(["--dense", "10", "5", "--shuffle", "--spec", "1,2:3", "--mode", "vae"])
    assert args.dense == [10, 5] and args.shuffle is True and args.spec == [[1, 2], [3]] and args.mode == "vae"
    assert vars(parser.parse_args([])) == {"shuffle": False, "mode": "ae"}  # no default: absent, as in CANDLE
    with pytest.raises(SystemExit):
        parser.parse_args(["--dense", "ten"])
    with pytest.raises(CandleError, match="unknown definition key"):
        candle.parse_from_dictlist([{"name": "x", "tpye": int}], argparse.ArgumentParser())


def test_create_params_resolves_a_benchmark(tmp_path, candle_dirs):
    (tmp_path / "m_default_model.txt").write_text("[Global_Params]\nepochs = 4\nmodel_name = 'm'\n")
    params = candle.create_params(
        str(tmp_path),
        "m_default_model.txt",
        "keras",
        additional_definitions=[{"name": "k", "type": int}],
        required=["epochs"],
        argv=["--k", "3"],
    )
    assert params["epochs"] == 4 and params["k"] == 3 and params["logfile"] is None
    assert params["ckpt_directory"] == str(candle_dirs / "m" / "Output" / "EXP000" / "RUN000" / "ckpts")


def test_verify_path_set_up_logger_and_seed(tmp_path, capsys):
    target = tmp_path / "a" / "b" / "run.log"
    candle.verify_path(str(target))
    assert target.parent.is_dir()
    logger = logging.getLogger("candle-test-logger")
    candle.set_up_logger(str(target), logger, verbose=False)
    logger.debug("only in the file")
    logger.info("both")
    text = target.read_text()
    assert "only in the file" in text and "both" in text
    assert "both" in capsys.readouterr().out
    logger.handlers = []
    candle.set_seed(5)
    first = np.random.random(3)
    candle.set_seed(5)
    assert np.array_equal(first, np.random.random(3))
    candle.set_parallelism_threads()  # no NUM_*_THREADS: nothing to do, no error


def test_keras_default_config_is_keras_3():
    defaults = candle.keras_default_config()
    assert defaults["epsilon"] == 1e-7 and defaults["rho"] == 0.9 and defaults["momentum_sgd"] == 0.0


@pytest.mark.needs("keras")
def test_framework_follows_the_first_import(monkeypatch):
    import subprocess

    first_torch = "import torch, keras, candle; print(candle.framework())"
    first_keras = "import keras, torch, candle; print(candle.framework())"
    flag = "import sys, candle; sys.argv += ['--backend', 'torch']; print(candle.framework())"
    outputs = [
        subprocess.run([sys.executable, "-c", c], capture_output=True, text=True).stdout.strip()
        for c in (first_torch, first_keras, flag)
    ]
    assert outputs == ["torch", "keras", "torch"]


def test_progbar_means(capsys):
    bar = candle.Progbar(4, verbose=0)
    bar.update(2, [("loss", 1.0)])
    bar.add(2, [("loss", 3.0)])
    assert bar.mean("loss") == pytest.approx(2.0)


def test_get_file_validate_file_and_md5(file_server, tmp_path, candle_dirs):
    base, files = file_server
    files["/x/table.csv"] = b"1,2\n3,4\n"
    import hashlib

    digest = hashlib.md5(files["/x/table.csv"]).hexdigest()
    path = candle.get_file("table.csv", base + "x/table.csv", md5_hash=digest, cache_subdir="Pilot1")
    assert path == str(candle_dirs / "Pilot1" / "table.csv")
    assert candle.validate_file(path, digest) and not candle.validate_file(path, "0" * 32)
    again = candle.fetch_file(base + "x/table.csv", "Pilot1")
    assert again == path
    with pytest.raises(CandleError, match="md5"):
        candle.get_file("other.csv", base + "x/table.csv", md5_hash="0" * 32, datadir=str(tmp_path), cache_subdir=None)


def test_to_categorical_and_headerless_loader(tmp_path):
    assert candle.to_categorical([0, 2, 1], 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    train = np.array([[0, 1.0, -2.0], [1, 3.0, 4.0]])
    test = np.array([[1, -6.0, 1.0]])
    np.savetxt(tmp_path / "tr.csv", train, delimiter=",")
    np.savetxt(tmp_path / "te.csv", test, delimiter=",")
    x_train, y_train, x_test, y_test = candle.load_Xy_data_noheader(
        str(tmp_path / "tr.csv"), str(tmp_path / "te.csv"), 2, scaling="maxabs"
    )
    assert np.allclose(x_train, [[1 / 6, -0.5], [0.5, 1.0]]) and np.allclose(x_test, [[-1.0, 0.25]])
    assert y_train.tolist() == [[1, 0], [0, 1]] and y_test.tolist() == [[0, 1]]


def _table(path, rows):
    frame = pd.DataFrame(rows, columns=["label", "id", "a", "b", "c"])
    frame.to_csv(path, index=False)
    return frame


def test_load_csv_data_parts_and_headers(tmp_path):
    rng = np.random.default_rng(1)
    rows = [[f"k{i % 2}", f"r{i}", *rng.random(3)] for i in range(10)]
    train = _table(tmp_path / "train.csv", rows[:8])
    _table(tmp_path / "test.csv", rows[8:])
    x_train, y_train, x_val, y_val, x_test, y_test, x_names, y_names = candle.load_csv_data(
        str(tmp_path / "train.csv"),
        str(tmp_path / "test.csv"),
        y_cols=["label"],
        drop_cols=["id"],
        onehot_cols=["label"],
        validation_split=0.25,
        return_dataframe=False,
        return_header=True,
        dtype=np.float32,
    )
    assert x_names == ["a", "b", "c"] and y_names == ["label:k0", "label:k1"]
    assert x_train.shape == (6, 3) and x_val.shape == (2, 3) and x_test.shape == (2, 3)
    assert np.allclose(x_train, train[["a", "b", "c"]].to_numpy()[:6])  # no scaling, rows in order
    assert y_val.tolist() == [[1, 0], [0, 1]]
    (only,) = candle.load_csv_data(str(tmp_path / "train.csv"), x_cols=["a"], return_dataframe=False)
    assert only.shape == (8, 1)
    (scaled,) = candle.load_csv_data(str(tmp_path / "train.csv"), drop_cols=["label", "id"], n_cols=2, scaling="std")
    assert list(scaled.columns) == ["a", "b"] and np.allclose(scaled.to_numpy().mean(axis=0), 0, atol=1e-9)


def test_load_xy_one_hot_data2(tmp_path):
    rows = [[i % 3, f"r{i}", float(i), float(-i), 1.0] for i in range(20)]
    _table(tmp_path / "train.csv", rows[:15])
    _table(tmp_path / "test.csv", rows[15:])
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = candle.load_Xy_one_hot_data2(
        str(tmp_path / "train.csv"), str(tmp_path / "test.csv"), class_col=0, drop_cols=["id"], validation_split=0.2
    )
    assert (len(x_train), len(x_val), len(x_test)) == (12, 3, 5)
    assert x_train.shape[1] == 3 and y_train.shape[1] == 3
    assert y_test.argmax(axis=1).tolist() == [0, 1, 2, 0, 1]


def test_label_flips_and_feature_noise():
    labels = np.tile([[1, 0]], (1000, 1))
    candle.set_seed(3)
    flipped, fraction = candle.label_flip(labels.copy(), 0.3)
    assert 0.25 < fraction < 0.35 and np.isclose((flipped[:, 1] == 1).mean(), fraction)
    x = np.zeros((1000, 3))
    x[:500, 1] = 1.0
    flipped, _ = candle.label_flip_correlated(labels.copy(), 1.0, x, [1], 0.5)
    assert flipped[:500, 1].all() and not flipped[500:, 1].any()  # only rows above the threshold
    noisy = candle.add_gaussian_noise(np.zeros((2000, 2)), 1.0, 0.5)
    assert abs(noisy.mean() - 1.0) < 0.05 and abs(noisy.std() - 0.5) < 0.05
    columns = candle.add_column_noise(np.zeros((500, 3)), 0, 1.0, col_ids=[2], noise_type="uniform")
    assert not columns[:, :2].any() and columns[:, 2].std() > 0.3 and np.abs(columns).max() <= 1.0
    cluster = candle.add_cluster_noise(np.zeros((10, 4)), 0, 1.0, col_ids=[0], row_ids=[1, 2], y_noise_level=1.0)
    assert set(np.flatnonzero(cluster[:, 0])) == {1, 2} and not cluster[:, 1:].any()
    data, out = candle.add_noise(np.zeros((50, 2)), labels[:50].copy(), {"add_noise": True, "label_noise": 1.0})
    assert out[:, 1].all()
    unchanged, _ = candle.add_noise(np.zeros((5, 2)), labels[:5].copy(), {"add_noise": False})
    assert not unchanged.any()


def test_feature_selection():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(100, 5))
    data[:, 1] *= 10
    data[:30, 3] = np.nan
    data[:, 4] = data[:, 0] * 2 + 0.001 * rng.normal(size=100)
    assert candle.select_features_by_missing_values(data, 0.2).tolist() == [0, 1, 2, 4]
    assert candle.select_features_by_variation(data, "var", portion=0.2).tolist() == [1]
    assert candle.select_features_by_variation(pd.DataFrame(data), "std", threshold=5).tolist() == [1]
    assert len(candle.select_features_by_variation(data)) == 0
    kept = candle.select_decorrelated_features(data, threshold=0.9)
    assert 0 in kept and 4 not in kept and 1 in kept
    duplicate = np.column_stack([data[:, 0], data[:, 0], data[:, 2]])
    assert candle.select_decorrelated_features(duplicate).tolist() == [0, 2]


def test_quantile_normalization_matches_rank_mapping():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(4, 6)) * np.arange(1, 5)[:, None]
    normalized = candle.quantile_normalization(data)
    reference = np.sort(data, axis=1).mean(axis=0)
    for row in range(4):
        assert np.allclose(normalized[row], reference[rankdata(data[row], method="ordinal").astype(int) - 1])
    frame = candle.quantile_normalization(pd.DataFrame(data, columns=list("abcdef")))
    assert list(frame.columns) == list("abcdef")


def test_cross_validation_partition_keeps_groups_whole():
    groups = np.repeat(np.arange(10), [5, 1, 1, 2, 2, 3, 1, 1, 2, 2])
    trials = candle.generate_cross_validation_partition(groups, n_folds=5, n_repeats=2, random_seed=4)
    assert len(trials) == 10
    for test, train in trials:
        assert sorted(test + train) == list(range(len(groups)))
        assert not set(groups[test]) & set(groups[train])
    tests_of_repeat = [set(t[0]) for t in trials[:5]]
    assert set().union(*tests_of_repeat) == set(range(len(groups)))  # each row is tested once per repeat
    three = candle.generate_cross_validation_partition(list(range(12)), n_folds=4, portions=[1, 1, 2])
    assert [len(s) for s in three[0]] == [3, 3, 6]


def test_generate_index_distribution_modes():
    np.random.seed(0)
    train, val, test = candle.generate_index_distribution(
        80, 20, 0, {"uq_train_fr": 0.6, "uq_valid_fr": 0.2, "uq_test_fr": 0.2}
    )
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert sorted(np.concatenate([train, val, test])) == list(range(100))
    train, val, test = candle.generate_index_distribution(
        90, 10, 0, {"uq_train_bks": 6, "uq_valid_bks": 3, "uq_test_bks": 0}
    )
    assert (len(train), len(val), test) == (60, 30, None)  # the test set is kept: 90 rows in 9 blocks
    train, val, test = candle.generate_index_distribution(
        100, 0, 0, {"uq_train_vec": [0, 2], "uq_valid_vec": [1], "uq_test_vec": [3]}
    )
    assert train.tolist() == list(range(0, 25)) + list(range(50, 75)) and val.tolist() == list(range(25, 50))
    with pytest.raises(CandleError, match="add up to 1"):
        candle.generate_index_distribution(10, 0, 0, {"uq_train_fr": 0.5, "uq_valid_fr": 0.2, "uq_test_fr": 0.2})
    with pytest.raises(CandleError, match="no UQ split"):
        candle.generate_index_distribution(10, 0, 0, {})


def _inference_table(rng, rows=200, draws=4):
    truth = rng.normal(size=rows)
    columns = {f"meta{i}": np.zeros(rows) for i in range(4)} | {"target": truth, "skip": np.zeros(rows)}
    for d in range(draws):
        columns[f"p{d}"] = truth + rng.normal(0, 0.1, rows)
        columns[f"s{d}"] = np.full(rows, np.log(0.04))
        columns[f"h{d}"] = truth + 0.2
    return pd.DataFrame(columns)


def test_uq_statistics(capsys):
    rng = np.random.default_rng(5)
    table = _inference_table(rng)
    predictions = table[[f"p{d}" for d in range(4)]].to_numpy()
    homo = candle.compute_statistics_homoscedastic(
        table[["meta0", "meta1", "meta2", "meta3", "target", "skip"] + [f"p{d}" for d in range(4)]]
    )
    assert (
        homo[5] == "target"
        and np.allclose(homo[1], predictions.mean(axis=1))
        and np.allclose(homo[3], predictions.std(axis=1))
    )
    assert "Pearson CC" in capsys.readouterr().out
    het_columns = ["meta0", "meta1", "meta2", "meta3", "target", "skip"] + [
        c for d in range(4) for c in (f"p{d}", f"s{d}")
    ]
    het = candle.compute_statistics_heteroscedastic(table[het_columns])
    assert np.allclose(het[1], predictions.mean(axis=1)) and np.allclose(het[3], 0.2)
    qtl_columns = ["meta0", "meta1", "meta2", "meta3", "target", "skip"] + [
        c for d in range(4) for c in (f"p{d}", f"p{d}", f"h{d}")
    ]
    qtl = candle.compute_statistics_quantile(table[qtl_columns].set_axis(range(len(qtl_columns)), axis=1))
    expected_sigma = (table["target"].to_numpy() + 0.2 - predictions.mean(axis=1)) / 2.56
    assert len(qtl) == 8 and np.allclose(qtl[3], expected_sigma) and np.allclose(qtl[1], predictions.mean(axis=1))
    summary = candle.compute_statistics_homoscedastic_summary(
        table[["target", "meta0", "meta1", "meta2", "meta3", "skip", "p0", "h0"]]
    )
    assert np.allclose(summary[2], table["target"] - table["p0"])
    correlation, _ = pearsonr(table["target"], predictions.mean(axis=1))
    assert correlation > 0.9


def test_empirical_calibration():
    rng = np.random.default_rng(6)
    sigma = rng.uniform(0.1, 1.0, 600)
    truth = rng.normal(size=600)
    predicted = truth + rng.normal(size=600) * sigma
    np.random.seed(1)
    order, s_cal, s_test, p_cal, p_test, t_cal, t_test = candle.split_data_for_empirical_calibration(
        truth, predicted, sigma, 0.75
    )
    assert len(s_cal) == 450 and len(s_test) == 150 and sorted(order) == list(range(600))
    assert np.array_equal(s_cal, sigma[order[:450]])
    first, second = candle.compute_empirical_calibration_interpolation(s_cal, p_cal, t_cal, cv=5)
    grid = np.array([0.2, 0.9])
    expected = np.sqrt(2 / np.pi) * grid  # E|error| of a normal of std sigma
    assert np.allclose(first(grid), expected, atol=0.15) and np.allclose(second(grid), expected, atol=0.15)
    assert second(0.9) > second(0.2)


def test_combat_removes_a_batch_shift():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(30, 40))
    shift = np.r_[np.zeros(20), np.full(20, 3.0)]
    data = pd.DataFrame(base + shift, columns=[f"s{i}" for i in range(40)])
    batches = pd.Series(["a"] * 20 + ["b"] * 20, index=data.columns)
    corrected = candle.combat_batch_effect_removal(data, batches)
    gap_before = (data.iloc[:, 20:].mean(axis=1) - data.iloc[:, :20].mean(axis=1)).abs().mean()
    gap_after = (corrected.iloc[:, 20:].mean(axis=1) - corrected.iloc[:, :20].mean(axis=1)).abs().mean()
    assert gap_before > 2.5 and gap_after < 0.3
    covariate = pd.DataFrame({"dose": np.linspace(0, 1, 40)}, index=data.columns)
    kept = candle.combat_batch_effect_removal(data, batches, covariate, ["dose"])
    assert kept.shape == data.shape


def test_coxen_selects_predictive_genes_that_carry_over():
    rng = np.random.default_rng(8)
    hidden = rng.normal(size=(60, 1))
    source = pd.DataFrame(
        np.hstack([hidden + 0.1 * rng.normal(size=(60, 3)), rng.normal(size=(60, 7))]),
        index=[f"c{i}" for i in range(60)],
        columns=[f"g{i}" for i in range(10)],
    )
    target_hidden = rng.normal(size=(40, 1))
    target = pd.DataFrame(
        np.hstack([target_hidden + 0.1 * rng.normal(size=(40, 3)), rng.normal(size=(40, 7))]), columns=source.columns
    )
    responses = pd.DataFrame(
        {"cell": source.index, "auc": hidden[:, 0] + 0.1 * rng.normal(size=60), "drug": ["d1", "d2"] * 30}
    )
    single = candle.coxen_single_drug_gene_selection(
        source, target, responses, "auc", "cell", num_predictive_gene=5, num_generalizable_gene=3
    )
    assert sorted(single) == [0, 1, 2]
    multi = candle.coxen_multi_drug_gene_selection(
        source, target, responses, "auc", "cell", "drug", num_predictive_gene=5, num_generalizable_gene=3
    )
    assert sorted(multi) == [0, 1, 2]
    union = candle.coxen_multi_drug_gene_selection(
        source,
        target,
        responses,
        "auc",
        "cell",
        "drug",
        num_predictive_gene=5,
        num_generalizable_gene=3,
        union_of_single_drug_selection=True,
    )
    assert {0, 1, 2} <= set(union)


def test_generate_gene_set_data(tmp_path):
    (tmp_path / "c6.all.v7.0.symbols.gmt").write_text("SET_A\turl\tTP53\tEGFR\nSET_B\turl\tMYC\nSET_C\turl\tNONE\n")
    data = pd.DataFrame([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], columns=["TP53", "EGFR", "MYC"])
    sets = candle.generate_gene_set_data(data, ["TP53", "EGFR", "MYC"], "symbols", data_dir=str(tmp_path))
    assert list(sets.columns) == ["SET_A", "SET_B"] and sets["SET_A"].tolist() == [2.0, 3.0]
    summed = candle.generate_gene_set_data(
        data.to_numpy(), ["TP53", "EGFR", "MYC"], "symbols", metric="sum", data_dir=str(tmp_path)
    )
    assert summed["SET_A"].tolist() == [4.0, 6.0]
    with pytest.raises(FileNotFoundError, match="gene-set file"):
        candle.generate_gene_set_data(data, ["TP53"], "entrez", data_dir=str(tmp_path))


def test_progbar_writes_nothing_when_quiet(capsys):
    candle.Progbar(2, verbose=0).update(2)
    assert capsys.readouterr().err == ""
    assert io  # the module imports stay used
