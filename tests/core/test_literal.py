import pytest

from candle_core.parameters.literal import LiteralError, parse_literal


@pytest.mark.parametrize(
    "text, value",
    [
        ("128", 128),
        ("0.001", 0.001),
        ("1e-7", 1e-7),
        ("'relu'", "relu"),
        ('"relu"', "relu"),
        ("[128, 20, 1]", [128, 20, 1]),
        ("(200, 20)", [200, 20]),
        ("200, 20", [200, 20]),
        ("True", True),
        ("None", None),
        ("{'a': 1}", {"a": 1}),
        ("[\n 1,\n 2]", [1, 2]),
        ("-5", -5),
    ],
)
def test_literals(text, value):
    assert parse_literal(text) == value


@pytest.mark.parametrize(
    "text, hint",
    [
        ("relu", "quoted"),
        ("true", "True"),
        ("__import__('os').system('echo pwned')", "not a Python literal"),
        ("open('/etc/passwd').read()", "not a Python literal"),
        ("[1, 2", "not a Python literal"),
        ("", "no value"),
    ],
)
def test_non_literals_are_refused_never_run(text, hint):
    with pytest.raises(LiteralError) as info:
        parse_literal(text)
    assert hint in info.value.hint
