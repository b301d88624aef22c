"""P1B1: ae, vae and cvae from one definition on both backends, on synthetic and served data."""

import io
from pathlib import Path

import numpy as np
import pytest
from helpers import run

BACKENDS = ["torch", "keras"]
SMALL = ["--data", "synthetic", "--feature_subsample", "300", "--dense", "64", "16", "-e", "6"]


def _total(result) -> int:
    assert result.code == 0, result.err
    return int(result.out.strip().splitlines()[-1].split(": ")[1])


@pytest.mark.needs("keras")
def test_full_size_autoencoder_summary_is_equal_on_both_backends(candle):
    genes, dense = 60483, [2000, 600]
    widths = [genes, *dense, 2, *reversed(dense), genes]
    expected = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    assert [_total(candle("summary", "p1b1", "--backend", name)) for name in BACKENDS] == [expected, expected]


@pytest.mark.parametrize("model", ["vae", "cvae"])
@pytest.mark.needs("keras")
def test_variational_summaries_are_equal_on_both_backends(candle, model):
    flags = ["--model", model, "--feature_subsample", "500"]
    totals = [_total(candle("summary", "p1b1", *flags, "--backend", name)) for name in BACKENDS]
    conditions = 10 if model == "cvae" else 0
    widths = [500 + conditions, 2000, 600]
    encoder = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False)) + 2 * (600 * 2 + 2)
    decoder_widths = [2 + conditions, 600, 2000, 500]
    decoder = sum(a * b + b for a, b in zip(decoder_widths, decoder_widths[1:], strict=False))
    assert totals == [encoder + decoder, encoder + decoder]


@pytest.mark.parametrize("model", ["ae", "vae", "cvae"])
@pytest.mark.parametrize("name", BACKENDS)
def test_reduced_p1b1_learns_to_reconstruct(model, name):
    results, history = run("p1b1", [*SMALL, "--model", model, "--backend", name])
    assert results["status"] == "ok" and results["data"]["features"] == 300
    latent = results["embedding_plot"]  # the validation profiles in the 2-D latent space
    assert latent.endswith("latent.png") and Path(latent).stat().st_size > 10_000
    corr = [row["val_corr"] for row in history]
    assert corr[-1] > 0.55 and corr[-1] > corr[0] + 0.15, corr
    assert "corr" in history[0] and "mse" in history[0]


def _p1b1_table(rows: int, genes: int, rng) -> bytes:
    types = rng.choice(["BRCA", "LUAD", "SKCM"], rows)
    values = rng.gamma(2.0, 1.0, (rows, genes)) + (types == "BRCA")[:, None]
    lines = ["case_id,cancer_type," + ",".join(f"g{i}" for i in range(genes))]
    for i in range(rows):
        lines.append(f"case{i},{types[i]}," + ",".join(f"{v:.4f}" for v in values[i]))
    return ("\n".join(lines) + "\n").encode()


def test_served_tables_train_a_cvae(file_server):
    base, files = file_server
    rng = np.random.default_rng(0)
    files["/P1B1/P1B1.dev.train.csv"] = _p1b1_table(80, 40, rng)
    files["/P1B1/P1B1.dev.test.csv"] = _p1b1_table(20, 40, rng)
    argv = ["--data_url", base + "P1B1/", "--model", "cvae", "--feature_subsample", "40", "--dense", "16", "-e", "2"]
    results, history = run("p1b1", argv)
    assert results["data"]["cancer_types"] == ["BRCA", "LUAD", "SKCM"]
    assert results["parameters"] == (43 * 16 + 16) + 2 * (16 * 2 + 2) + (5 * 16 + 16) + (16 * 40 + 40)
    assert np.isfinite(history[-1]["val_corr"]) and "test" in results


def test_a_table_without_cancer_type_is_a_clear_error(file_server, candle):
    base, files = file_server
    files["/bad/P1B1.dev.train.csv"] = io.BytesIO(b"case_id,g0\nc0,1.0\n").getvalue()
    files["/bad/P1B1.dev.test.csv"] = files["/bad/P1B1.dev.train.csv"]
    result = candle("run", "p1b1", "--data_url", base + "bad/", "-e", "1")
    assert result.code == 2 and "no column cancer_type" in result.err and "Traceback" not in result.err
