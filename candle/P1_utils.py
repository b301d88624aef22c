"""candle_lib's Pilot1 (milestone 16) helpers: ComBat batch-effect removal, COXEN gene
selection, gene-set features from MSigDB ``.gmt`` files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


# ------------------------------------------------------------------ ComBat
def _covariates(model: pd.DataFrame | None, samples: pd.Index, numerical: Sequence[str]) -> np.ndarray:
    """The covariate columns of the design: numerical ones as they are, categorical ones one-hot
    without their first level."""
    if model is None:
        return np.zeros((len(samples), 0))
    frame = model.loc[samples] if set(samples) <= set(model.index) else model
    numeric = frame[[c for c in frame.columns if c in numerical]].to_numpy(dtype=float)
    categories = [c for c in frame.columns if c not in numerical]
    if not categories:
        return numeric
    return np.hstack([numeric, pd.get_dummies(frame[categories], drop_first=True, dtype=float).to_numpy()])


def combat_batch_effect_removal(
    data: pd.DataFrame,
    batch_labels: pd.Series,
    model: pd.DataFrame | None = None,
    numerical_covariates: Sequence[str] | None = None,
) -> pd.DataFrame:
    """ComBat (Johnson, Li and Rabinovic 2007, parametric empirical Bayes). ``data`` has features
    in rows and samples in columns; ``batch_labels`` gives each sample's batch (indexed by sample);
    ``model`` (samples x covariates, optional) holds biological covariates to keep, of which
    ``numerical_covariates`` are numbers and the rest categories. Returns the corrected data."""
    samples = data.columns
    batches = (
        pd.Series(batch_labels).reindex(samples)
        if isinstance(batch_labels, pd.Series)
        else pd.Series(list(batch_labels), index=samples)
    )
    if batches.isna().any():
        raise ValueError("batch_labels must name a batch for every sample (column) of data")
    levels = sorted(batches.unique())
    if len(levels) < 2:
        raise ValueError("ComBat needs at least two batches")
    batch_design = np.stack([(batches == level).to_numpy(dtype=float) for level in levels], axis=1)
    design = np.hstack([batch_design, _covariates(model, samples, list(numerical_covariates or []))])
    y = data.to_numpy(dtype=float)  # features x samples
    coefficients = np.linalg.lstsq(design, y.T, rcond=None)[0]  # (batches + covariates) x features
    counts = batch_design.sum(axis=0)
    grand_mean = counts / counts.sum() @ coefficients[: len(levels)]
    pooled_variance = np.mean((y - (design @ coefficients).T) ** 2, axis=1)
    pooled_variance[pooled_variance == 0] = 1.0
    standard_mean = grand_mean[:, None] + (design[:, len(levels) :] @ coefficients[len(levels) :]).T
    standardized = (y - standard_mean) / np.sqrt(pooled_variance)[:, None]
    corrected = np.empty_like(standardized)
    for index in range(len(levels)):
        columns = batch_design[:, index] == 1
        part = standardized[:, columns]
        gamma_hat = part.mean(axis=1)
        delta_hat = part.var(axis=1, ddof=1) if columns.sum() > 1 else np.ones(len(y))
        gamma_star, delta_star = _shrink(part, gamma_hat, delta_hat)
        corrected[:, columns] = (part - gamma_star[:, None]) / np.sqrt(delta_star)[:, None]
    result = corrected * np.sqrt(pooled_variance)[:, None] + standard_mean
    return pd.DataFrame(result, index=data.index, columns=samples)


def _shrink(part: np.ndarray, gamma_hat: np.ndarray, delta_hat: np.ndarray, tolerance: float = 1e-4):
    """Empirical-Bayes batch location and scale (normal prior on gamma, inverse gamma on delta)."""
    n = part.shape[1]
    gamma_bar, tau2 = gamma_hat.mean(), gamma_hat.var(ddof=1)
    mean, variance = delta_hat.mean(), delta_hat.var(ddof=1)
    a_prior = (2 * variance + mean**2) / variance
    b_prior = (mean * variance + mean**3) / variance
    gamma, delta = gamma_hat.copy(), delta_hat.copy()
    for _ in range(1000):
        gamma_new = (n * tau2 * gamma_hat + delta * gamma_bar) / (n * tau2 + delta)
        squares = ((part - gamma_new[:, None]) ** 2).sum(axis=1)
        delta_new = (0.5 * squares + b_prior) / (n / 2.0 + a_prior - 1.0)
        change = max(
            np.max(np.abs(gamma_new - gamma) / np.maximum(np.abs(gamma), 1e-12)),
            np.max(np.abs(delta_new - delta) / delta),
        )
        gamma, delta = gamma_new, delta_new
        if change < tolerance:
            break
    return gamma, delta


# ------------------------------------------------------------------ COXEN
def _concordance(x: np.ndarray, y: np.ndarray) -> float:
    """Lin's concordance correlation coefficient."""
    covariance = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * covariance / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def _correlations(matrix: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``matrix`` with ``target``."""
    centred = matrix - matrix.mean(axis=0)
    response = target - target.mean()
    spread = np.sqrt((centred**2).sum(axis=0) * (response**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(centred.T @ response / spread)


def _predictive_scores(values: np.ndarray, response: np.ndarray, measure: str, groups: np.ndarray | None) -> np.ndarray:
    """How well each gene predicts the response: |pearson|, |spearman|, or with ``lm`` the |partial
    correlation| given the drug (the t-statistic's order in response ~ drug + gene)."""
    if measure == "spearman":
        values = pd.DataFrame(values).rank().to_numpy()
        response = pd.Series(response).rank().to_numpy()
    elif measure == "lm" and groups is not None:
        drugs = pd.get_dummies(pd.Series(groups), dtype=float).to_numpy()
        project = drugs @ np.linalg.pinv(drugs)
        values, response = values - project @ values, response - project @ response
    elif measure not in ("pearson", "lm"):
        raise ValueError(f"prediction_power_measure must be pearson, spearman or lm, got {measure!r}")
    return np.abs(_correlations(values, response))


def _generalizable(source: np.ndarray, target: np.ndarray, genes: np.ndarray, measure: str, count: int):
    """Of ``genes``, those whose correlations with the others agree most between source and target."""
    source_corr = np.corrcoef(source[:, genes], rowvar=False)
    target_corr = np.corrcoef(target[:, genes], rowvar=False)
    scores = []
    for i in range(len(genes)):
        others = np.arange(len(genes)) != i
        a, b = np.nan_to_num(source_corr[i, others]), np.nan_to_num(target_corr[i, others])
        if measure == "ccc":
            scores.append(_concordance(a, b))
        elif measure == "pearson":
            scores.append(np.corrcoef(a, b)[0, 1])
        else:
            raise ValueError(f"generalization_power_measure must be ccc or pearson, got {measure!r}")
    scores = np.nan_to_num(np.array(scores), nan=-np.inf)
    order = np.argsort(-scores, kind="stable")[:count]
    return genes[order], scores[order]


def _response_rows(
    source_data: pd.DataFrame, responses: pd.DataFrame, tumor_col: str
) -> tuple[np.ndarray, pd.DataFrame]:
    known = responses[responses[tumor_col].isin(source_data.index)]
    if known.empty:
        raise ValueError(f"no sample named in drug_response_data[{tumor_col!r}] is a row of source_data")
    return source_data.loc[known[tumor_col]].to_numpy(dtype=float), known


def _coxen(
    source_data: pd.DataFrame,
    target_data: pd.DataFrame,
    responses: pd.DataFrame,
    response_col: str,
    tumor_col: str,
    drug_col: str | None,
    prediction_measure: str,
    predictive_count: int,
    generalization_measure: str,
    generalizable_count: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(generalizable genes, predictive genes): the ``predictive_count`` genes that best predict the
    response in the source (given the drug, with ``drug_col``), then the ``generalizable_count`` of
    them whose co-expression carries over to the target."""
    values, known = _response_rows(source_data, responses, tumor_col)
    drugs = None if drug_col is None else known[drug_col].to_numpy()
    scores = _predictive_scores(values, known[response_col].to_numpy(dtype=float), prediction_measure, drugs)
    predictive = np.argsort(-scores, kind="stable")[:predictive_count]
    target = target_data[source_data.columns].to_numpy(dtype=float)
    chosen, _ = _generalizable(
        source_data.to_numpy(dtype=float), target, predictive, generalization_measure, generalizable_count
    )
    return chosen, predictive


def coxen_single_drug_gene_selection(
    source_data: pd.DataFrame,
    target_data: pd.DataFrame,
    drug_response_data: pd.DataFrame,
    drug_response_col: str,
    tumor_col: str,
    prediction_power_measure: str = "pearson",
    num_predictive_gene: int = 100,
    generalization_power_measure: str = "ccc",
    num_generalizable_gene: int = 50,
    multi_drug_mode: bool = False,
):
    """COXEN for one drug: the ``num_predictive_gene`` genes (columns shared by source and target,
    samples in rows) that best predict the response in the source, then of those the
    ``num_generalizable_gene`` whose co-expression carries over to the target. Returns their
    column indices in ``source_data`` (with ``multi_drug_mode``, also the predictive genes)."""
    chosen, predictive = _coxen(
        source_data,
        target_data,
        drug_response_data,
        drug_response_col,
        tumor_col,
        None,
        prediction_power_measure,
        num_predictive_gene,
        generalization_power_measure,
        num_generalizable_gene,
    )
    return (chosen, predictive) if multi_drug_mode else chosen


def coxen_multi_drug_gene_selection(
    source_data: pd.DataFrame,
    target_data: pd.DataFrame,
    drug_response_data: pd.DataFrame,
    drug_response_col: str,
    tumor_col: str,
    drug_col: str,
    prediction_power_measure: str = "lm",
    num_predictive_gene: int = 100,
    generalization_power_measure: str = "ccc",
    num_generalizable_gene: int = 50,
    union_of_single_drug_selection: bool = False,
) -> np.ndarray:
    """COXEN over several drugs: genes predictive of the response given the drug (``lm``), or with
    ``union_of_single_drug_selection`` the union of each drug's single-drug selection."""
    if union_of_single_drug_selection:
        chosen: list[int] = []
        for _, responses in drug_response_data.groupby(drug_col):
            chosen += list(
                coxen_single_drug_gene_selection(
                    source_data,
                    target_data,
                    responses,
                    drug_response_col,
                    tumor_col,
                    "pearson" if prediction_power_measure == "lm" else prediction_power_measure,
                    num_predictive_gene,
                    generalization_power_measure,
                    num_generalizable_gene,
                )
            )
        return np.array(sorted(set(chosen)))
    chosen, _ = _coxen(
        source_data,
        target_data,
        drug_response_data,
        drug_response_col,
        tumor_col,
        drug_col,
        prediction_power_measure,
        num_predictive_gene,
        generalization_power_measure,
        num_generalizable_gene,
    )
    return chosen


# ------------------------------------------------------------------ gene sets
def generate_gene_set_data(
    data: Any,
    genes: Sequence[Any],
    gene_name_type: str = "entrez",
    gene_set_category: str = "c6.all",
    metric: str = "mean",
    standardize: bool = False,
    data_dir: str = "../../Data/examples/Gene_Sets/MSigDB.v7.0/",
) -> pd.DataFrame:
    """Gene-set features: for each set of ``<data_dir>/<gene_set_category>.v7.0.<entrez|symbols>.gmt``
    with a gene among ``genes`` (the columns of ``data``, samples in rows), the ``mean``, ``sum``
    or ``max`` of its genes' values (z-scored first with ``standardize``)."""
    kind = {"entrez": "entrez", "symbols": "symbols"}.get(gene_name_type)
    if kind is None:
        raise ValueError(f"gene_name_type must be 'entrez' or 'symbols', got {gene_name_type!r}")
    path = Path(data_dir) / f"{gene_set_category}.v7.0.{kind}.gmt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: gene-set file not found (MSigDB .gmt); give data_dir")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
    values = frame.to_numpy(dtype=float)
    if standardize:
        spread = values.std(axis=0)
        values = (values - values.mean(axis=0)) / np.where(spread == 0, 1.0, spread)
    position = {str(gene): i for i, gene in enumerate(genes)}
    reducers = {"mean": np.nanmean, "sum": np.nansum, "max": np.nanmax}
    if metric not in reducers:
        raise ValueError(f"metric must be one of {', '.join(reducers)}, got {metric!r}")
    features = {}
    for line in path.read_text().splitlines():
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 3:
            continue
        members = [position[g] for g in fields[2:] if g in position]
        if members:
            features[fields[0]] = reducers[metric](values[:, members], axis=1)
    return pd.DataFrame(features, index=frame.index)
