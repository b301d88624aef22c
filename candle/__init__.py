"""CANDLE library compatibility: ``import candle`` as ECP-CANDLE's candle_lib scripts use it.

Every public name of candle_lib is here, implemented on candle_core (parameters, cache, checkpoints,
timeouts, splits) rather than copied. Names load on first use, so ``import candle`` imports no
framework. Keras-side helpers follow Keras 3, torch-side ones torch; ``candle.framework()`` tells
which one the framework-neutral helpers (``set_seed``, ``compute_trainable_params``, ...) serve.
The status of every name is in ``docs/compatibility.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

name = "candle"
__version__ = "0.1.0"

# public name -> module of this package that defines it
_MODULES: dict[str, tuple[str, ...]] = {
    "benchmark_def": ("Benchmark", "create_params"),
    "parsing_utils": ("ArgumentStruct", "check_flag_conflicts", "finalize_parameters", "parse_from_dictlist"),
    "helper_utils": (
        "fetch_file",
        "keras_default_config",
        "set_up_logger",
        "str2bool",
        "verify_path",
        "set_seed",
        "set_parallelism_threads",
        "framework",
    ),
    "file_utils": ("get_file", "validate_file"),
    "generic_utils": ("Progbar",),
    "data_utils": ("load_csv_data", "load_Xy_data_noheader", "load_Xy_one_hot_data2", "to_categorical"),
    "data_preprocessing_utils": ("generate_cross_validation_partition", "quantile_normalization"),
    "feature_selection_utils": (
        "select_decorrelated_features",
        "select_features_by_missing_values",
        "select_features_by_variation",
    ),
    "noise_utils": (
        "add_cluster_noise",
        "add_column_noise",
        "add_gaussian_noise",
        "add_noise",
        "label_flip",
        "label_flip_correlated",
    ),
    "P1_utils": (
        "combat_batch_effect_removal",
        "coxen_multi_drug_gene_selection",
        "coxen_single_drug_gene_selection",
        "generate_gene_set_data",
    ),
    "uq_utils": (
        "compute_empirical_calibration_interpolation",
        "compute_statistics_heteroscedastic",
        "compute_statistics_homoscedastic",
        "compute_statistics_homoscedastic_summary",
        "compute_statistics_quantile",
        "generate_index_distribution",
        "split_data_for_empirical_calibration",
    ),
    "viz_utils": (
        "plot_2d_density_sigma_vs_error",
        "plot_array",
        "plot_calibrated_std",
        "plot_calibration_interpolation",
        "plot_contamination",
        "plot_decile_predictions",
        "plot_density_observed_vs_predicted",
        "plot_histogram_error_per_sigma",
        "plot_history",
        "plot_scatter",
        "plot_metrics",
    ),
    "ckpt_utils": ("CandleCkpt", "ModelType"),
    "ckpt_keras_utils": ("CandleCkptKeras", "CandleCheckpointCallback", "MultiGPUCheckpoint", "restart"),
    "ckpt_pytorch_utils": ("CandleCkptPyTorch",),
    "clr_keras_utils": ("CyclicLR", "clr_callback", "clr_check_args", "clr_set_args"),
    "keras_utils": (
        "CandleRemoteMonitor",
        "LoggingCallback",
        "PermanentDropout",
        "TerminateOnTimeOut",
        "build_initializer",
        "build_optimizer",
        "compute_trainable_params",
        "get_function",
        "mae",
        "mse",
        "r2",
        "register_permanent_dropout",
    ),
    "uq_keras_utils": (
        "AbstentionAdapt_Callback",
        "Contamination_Callback",
        "abstention_acc_class_i_metric",
        "abstention_acc_metric",
        "abstention_class_i_metric",
        "abstention_loss",
        "abstention_metric",
        "acc_class_i_metric",
        "add_index_to_output",
        "add_model_output",
        "contamination_loss",
        "heteroscedastic_loss",
        "mae_contamination_metric",
        "mae_heteroscedastic_metric",
        "meanS_heteroscedastic_metric",
        "modify_labels",
        "mse_contamination_metric",
        "mse_heteroscedastic_metric",
        "quantile_loss",
        "quantile_metric",
        "r2_contamination_metric",
        "r2_heteroscedastic_metric",
        "sparse_abstention_acc_metric",
        "sparse_abstention_loss",
        "triple_quantile_loss",
    ),
    "pytorch_utils": (
        "build_pytorch_activation",
        "build_pytorch_optimizer",
        "get_pytorch_function",
        "pytorch_initialize",
        "pytorch_mse",
        "pytorch_xent",
        "set_pytorch_seed",
        "set_pytorch_threads",
    ),
}
_WHERE = {public: module for module, names in _MODULES.items() for public in names}
__all__ = sorted(_WHERE)


def __getattr__(attribute: str) -> Any:
    module = _WHERE.get(attribute)
    if module is None:
        raise AttributeError(f"module 'candle' has no attribute {attribute!r} (see docs/compatibility.md)")
    value = getattr(importlib.import_module(f"candle.{module}"), attribute)
    globals()[attribute] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
