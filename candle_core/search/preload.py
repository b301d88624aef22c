"""Imported by evaluators' fork servers: loads candle, its plugins and what a trial imports
lazily (parameter resolution, tqdm), once, so that every trial process forked from there starts
with them in memory — a fork costs milliseconds where a fresh interpreter costs a second.
The fork server and its trials ignore the job's walltime warning: the driver acts on it."""

import tqdm  # noqa: F401

from candle_core import run  # noqa: F401
from candle_core.cluster import walltime
from candle_core.parameters import command_line, registry, resolve  # noqa: F401
from candle_core.plugin_manager import get_plugin_manager
from candle_core.search import execute  # noqa: F401

get_plugin_manager()
walltime.ignore_warning()
