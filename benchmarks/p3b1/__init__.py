"""P3B1 (Pilot3): a multi-task classifier of pathology reports (site, laterality, grade).

Parameters follow CANDLE's ``p3b1.py`` and its unchanged ``p3b1_default_model.txt``; candle adds
``classes`` (classes per task, 13 primary sites, 2 lateralities, 4 grades), which CANDLE reads
off the label files. Reported per task: macro and micro F1 (``val_primary_site_macro_f1``, ...)
and accuracy, and their means over tasks (``val_macro_f1``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from candle_core import Benchmark, hookimpl, str2bool

ADDITIONAL_DEFINITIONS = [
    {
        "name": "train_features",
        "action": "store",
        "type": str,
        "default": "data/task0_0_train_feature.csv;data/task1_0_train_feature.csv;data/task2_0_train_feature.csv",
        "help": "training feature files, ';'-separated",
    },
    {
        "name": "train_truths",
        "action": "store",
        "type": str,
        "default": "data/task0_0_train_label.csv;data/task1_0_train_label.csv;data/task2_0_train_label.csv",
        "help": "training label files, ';'-separated",
    },
    {
        "name": "valid_features",
        "action": "store",
        "type": str,
        "default": "data/task0_0_test_feature.csv;data/task1_0_test_feature.csv;data/task2_0_test_feature.csv",
        "help": "validation feature files, ';'-separated",
    },
    {
        "name": "valid_truths",
        "action": "store",
        "type": str,
        "default": "data/task0_0_test_label.csv;data/task1_0_test_label.csv;data/task2_0_test_label.csv",
        "help": "validation label files, ';'-separated",
    },
    {
        "name": "output_files",
        "action": "store",
        "type": str,
        "default": "result0_0.csv;result1_0.csv;result2_0.csv",
        "help": "output files, ';'-separated",
    },
    {"name": "shared_nnet_spec", "nargs": "+", "type": int, "help": "units of the shared layers"},
    {"name": "ind_nnet_spec", "action": "list-of-lists", "help": "units of each task's own layers (1,2:3,4)"},
    {
        "name": "case",
        "type": str,
        "default": "CenterZ",
        "choices": ["Full", "Center", "CenterZ"],
        "help": "case classes",
    },
    {"name": "fig", "type": str2bool, "default": False, "help": "draw the prediction figure"},
    {"name": "feature_names", "nargs": "+", "type": str, "help": "task names (':'-separated in the model file)"},
    {"name": "n_fold", "action": "store", "type": int, "help": "number of folds"},
    {"name": "classes", "nargs": "+", "type": int, "default": [13, 2, 4], "help": "number of classes of each task"},
]

REQUIRED = [
    "learning_rate",
    "batch_size",
    "epochs",
    "dropout",
    "activation",
    "out_activation",
    "loss",
    "optimizer",
    "metrics",
    "n_fold",
    "scaling",
    "initialization",
    "shared_nnet_spec",
    "ind_nnet_spec",
    "feature_names",
]


class P3B1(Benchmark):
    name = "p3b1"
    description = "P3B1: multi-task DNN on pathology reports: primary site, laterality, grade (Pilot3)"
    additional_definitions = ADDITIONAL_DEFINITIONS
    required = REQUIRED

    def input_shape(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        from candle_benchmarks.p3b1.data import FEATURES

        return (FEATURES,)

    def load_data(self, params: Mapping[str, Any]):
        from candle_benchmarks.p3b1.data import load

        return load(params)

    def build_model(self, params: Mapping[str, Any], input_shape: tuple[int, ...]):
        from candle_benchmarks.p3b1.data import task_names
        from candle_benchmarks.p3b1.model import p3b1_model

        return p3b1_model(params, input_shape, task_names(params))


@hookimpl
def candle_benchmarks() -> list[Benchmark]:
    return [P3B1(Path(__file__).parent, "p3b1_default_model.txt", "torch")]
