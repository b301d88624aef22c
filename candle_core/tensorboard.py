"""TensorBoard event files, written with TensorBoard's own event-file writer and protocol buffers.

A run writes ``<run_dir>/tensorboard/``: every metric per epoch (``loss``, ``val_loss``, ...,
the learning rate ``lr``, the epoch's ``seconds``) and, where the backend offers it, the model
graph. A search adds the HParams plugin's records: the experiment (each searched parameter with
its domain, and the metrics) in ``<experiment>/tensorboard/``, and per trial a session (its
values, the trial's ``search/objective``, its status) beside the trial's own scalars, so that
``tensorboard --logdir <experiment>`` compares the trials in its HParams view.

No framework is imported: TensorBoard would load TensorFlow for file access when it is
installed (seconds), so, unless TensorFlow is loaded already, TensorBoard's own switch to its
TensorFlow-free file layer (the ``tensorboard.compat.notf`` module) is set first.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TENSORBOARD_DIR = "tensorboard"
OBJECTIVE_TAG = "search/objective"
_HPARAMS_PLUGIN = "hparams"
_EXPERIMENT_TAG = "_hparams_/experiment"
_SESSION_START_TAG = "_hparams_/session_start_info"
_SESSION_END_TAG = "_hparams_/session_end_info"


def available() -> bool:
    """True when the ``tensorboard`` package is installed."""
    return importlib.util.find_spec("tensorboard") is not None


def ensure_tensorboard_without_tensorflow() -> None:
    """Make TensorBoard use its own file layer, unless TensorFlow is loaded already."""
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


class EventWriter:
    """Scalars and summaries into one event file of ``logdir`` (created)."""

    def __init__(self, logdir: Path) -> None:
        ensure_tensorboard_without_tensorflow()
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        logdir.mkdir(parents=True, exist_ok=True)
        self.logdir = logdir
        self._writer = EventFileWriter(str(logdir))

    def scalars(self, step: int, values: Mapping[str, float], wall_time: float | None = None) -> None:
        """One point per tag at ``step``."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(v)) for tag, v in values.items()])
        self.summary(summary, step, wall_time)

    def summary(self, summary: Any, step: int = 0, wall_time: float | None = None) -> None:
        """Write a ``Summary`` protocol buffer."""
        from tensorboard.compat.proto.event_pb2 import Event

        self._writer.add_event(Event(wall_time=wall_time or time.time(), step=step, summary=summary))

    def graph(self, graph_def: Any) -> None:
        """Write a ``GraphDef`` (the Graphs tab)."""
        from tensorboard.compat.proto.event_pb2 import Event

        self._writer.add_event(Event(wall_time=time.time(), graph_def=graph_def.SerializeToString()))

    def close(self) -> None:
        self._writer.close()


def _hparams_summary(tag: str, **data: Any) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    content = HParamsPluginData(version=0, **data).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=_HPARAMS_PLUGIN, content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def _value(value: Any) -> Any:
    from google.protobuf.struct_pb2 import Value

    if isinstance(value, bool):
        return Value(bool_value=value)
    if isinstance(value, (int, float)):
        return Value(number_value=float(value))
    return Value(string_value=str(value))


def write_experiment(
    logdir: Path, domains: Mapping[str, Sequence[Any] | tuple[float, float]], metrics: Sequence[str]
) -> None:
    """The HParams experiment: each parameter's domain (a list of values, or a (low, high)
    interval of numbers) and the metric tags the view shows."""
    from google.protobuf.struct_pb2 import ListValue
    from tensorboard.plugins.hparams import api_pb2

    infos = []
    for name, domain in domains.items():
        if isinstance(domain, tuple):
            interval = api_pb2.Interval(min_value=float(domain[0]), max_value=float(domain[1]))
            infos.append(api_pb2.HParamInfo(name=name, type=api_pb2.DATA_TYPE_FLOAT64, domain_interval=interval))
            continue
        values = list(domain)
        kind = (
            api_pb2.DATA_TYPE_BOOL
            if all(isinstance(v, bool) for v in values)
            else api_pb2.DATA_TYPE_FLOAT64
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            else api_pb2.DATA_TYPE_STRING
        )
        shown = values if kind != api_pb2.DATA_TYPE_STRING else [str(v) for v in values]
        listed = ListValue(values=[_value(v) for v in shown])
        infos.append(api_pb2.HParamInfo(name=name, type=kind, domain_discrete=listed))
    experiment = api_pb2.Experiment(
        hparam_infos=infos,
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metrics],
        time_created_secs=time.time(),
    )
    writer = EventWriter(logdir)
    writer.summary(_hparams_summary(_EXPERIMENT_TAG, experiment=experiment))
    writer.close()


def write_session(
    logdir: Path, hparams: Mapping[str, Any], objective: float | None, ok: bool, started: float, step: int
) -> None:
    """One trial's HParams session, beside its scalars: its values, ``search/objective`` and
    whether it succeeded."""
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    start = plugin_data_pb2.SessionStartInfo(
        hparams={name: _value(v if isinstance(v, (bool, int, float, str)) else str(v)) for name, v in hparams.items()},
        start_time_secs=started,
    )
    status = api_pb2.STATUS_SUCCESS if ok else api_pb2.STATUS_FAILURE
    end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
    writer = EventWriter(logdir)
    writer.summary(_hparams_summary(_SESSION_START_TAG, session_start_info=start), wall_time=started)
    if objective is not None:
        writer.scalars(step, {OBJECTIVE_TAG: objective})
    writer.summary(_hparams_summary(_SESSION_END_TAG, session_end_info=end), step)
    writer.close()
