"""Whatever a user types or writes, candle accepts it or answers with one line and exit 2.

Property-based (hypothesis): model files, search-space JSON, UPF lines and command-line flags,
generated at random around candle's real keywords, go through the same functions ``candle``
calls; any exception other than candle's user error (a traceback for the user) fails the test.
Examples are bounded so that the suite stays fast.
"""

import json
import string

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from candle_core.cli import main  # noqa: E402
from candle_core.errors import CandleError  # noqa: E402
from candle_core.parameters.command_line import parse_keyword_flags  # noqa: E402
from candle_core.parameters.config_file import read_config_file  # noqa: E402
from candle_core.parameters.registry import build_registry  # noqa: E402
from candle_core.parameters.resolve import resolve_parameters  # noqa: E402
from candle_core.plugin_manager import get_plugin_manager  # noqa: E402
from candle_core.search.commands import read_upf  # noqa: E402
from candle_core.search.space import load_space  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MANAGER = get_plugin_manager()
NT3 = MANAGER.benchmark("nt3")
REGISTRY = build_registry(NT3, MANAGER)
NAMES = REGISTRY.names()

scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
values_text = st.one_of(
    scalars.map(repr),
    st.lists(scalars, max_size=4).map(repr),
    st.text(alphabet=string.printable, max_size=30),
)
names = st.one_of(st.sampled_from(NAMES), st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12))


def _user_error_only(call) -> None:
    """``call`` may succeed or raise CandleError (one line per message, exit 2); nothing else."""
    try:
        call()
    except CandleError as exc:
        assert exc.messages and all("\n" not in message for message in exc.messages)


@SETTINGS
@given(st.lists(st.tuples(names, values_text), max_size=8), st.booleans())
def test_model_files(tmp_path_factory, entries, header):
    path = tmp_path_factory.mktemp("model") / "model.txt"
    lines = (["[Global_Params]"] if header else []) + [f"{key} = {value}" for key, value in entries]
    path.write_text("\n".join(lines) + "\n")

    def read_and_resolve():
        read_config_file(path)
        flags = parse_keyword_flags(REGISTRY, ["--config_file", str(path)], "candle run nt3")
        resolve_parameters(NT3, REGISTRY, flags)

    _user_error_only(read_and_resolve)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
space_entries = st.fixed_dictionaries(
    {"name": names, "type": st.sampled_from(["int", "float", "categorical", "ordered", "logical", "constant", "x"])},
    optional={
        "lower": json_values,
        "upper": json_values,
        "values": json_values,
        "value": json_values,
        "log": json_values,
        "sigma": json_values,
        "element_type": st.sampled_from(["int", "float", "string", "bool", "complex"]),
    },
)


@SETTINGS
@given(st.one_of(st.lists(space_entries, max_size=4), json_values))
def test_search_spaces(tmp_path_factory, entries):
    path = tmp_path_factory.mktemp("space") / "space.json"
    path.write_text(json.dumps(entries))
    _user_error_only(lambda: load_space(path).check_keywords(REGISTRY, "nt3"))


@SETTINGS
@given(st.lists(st.one_of(json_values.map(json.dumps), st.text(max_size=40)), min_size=1, max_size=5))
def test_upf_files(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("upf") / "runs.upf"
    path.write_text("\n".join(lines) + "\n")
    _user_error_only(lambda: read_upf(path))


flag_words = st.lists(
    st.one_of(
        names.map(lambda name: f"--{name}"),
        st.sampled_from(["-e", "-z", "-lr", "-d", "-r", "-a", "--", "-", "--=", "---x"]),
        values_text,
    ),
    max_size=8,
)


@SETTINGS
@given(flag_words)
def test_command_line_flags(words):
    def parse_and_resolve():
        flags = parse_keyword_flags(REGISTRY, words, "candle run nt3")
        resolve_parameters(NT3, REGISTRY, flags)

    try:
        _user_error_only(parse_and_resolve)
    except SystemExit as exc:  # argparse's own usage error: also exit 2, one message line
        assert exc.code == 2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flag_words)
def test_the_cli_answers_with_exit_2_and_no_traceback(capsys, words):
    try:
        code = main(["params", "nt3", *words])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err


@SETTINGS
@given(st.binary(max_size=300))
def test_binary_files_wherever_text_is_expected(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("binary")
    for name, read in (("model.txt", read_config_file), ("space.json", load_space), ("runs.upf", read_upf)):
        path = folder / name
        path.write_bytes(data)
        _user_error_only(lambda path=path, read=read: read(path))
