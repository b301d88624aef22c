from pathlib import Path

from candle_core.parameters.config_file import format_config, read_config_file


def write(tmp_path, text, name="model.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sections_are_flattened_with_lines(tmp_path):
    path = write(tmp_path, "[Global_Params]\nepochs = 3\n# comment\nDense=[1, 2]\n\n[Monitor_Params]\ntimeout=10\n")
    config = read_config_file(path)
    entries, warnings = config.entries, config.warnings
    assert [(e.key, e.value, e.line, e.section) for e in entries] == [
        ("epochs", 3, 2, "Global_Params"),
        ("dense", [1, 2], 4, "Global_Params"),
        ("timeout", 10, 7, "Monitor_Params"),
    ]
    assert warnings == []
    assert entries[0].where == f"{path}:2"


def test_first_occurrence_wins_across_sections_with_a_warning(tmp_path):
    path = write(tmp_path, "[A]\nepochs = 3\n[B]\nepochs = 4\n")
    config = read_config_file(path)
    entries, warnings = config.entries, config.warnings
    assert [(e.key, e.value) for e in entries] == [("epochs", 3)]
    assert "model.txt:4" in warnings[0] and "line 2" in warnings[0]


def test_multiline_values_and_percent_signs(tmp_path):
    path = write(tmp_path, "[G]\ndense = [1,\n   2]\nfmt = '%d items'\n")
    values = {e.key: e.value for e in read_config_file(path).entries}
    assert values == {"dense": [1, 2], "fmt": "%d items"}


def test_all_bad_values_reported_at_once(tmp_path):
    path = write(tmp_path, "[G]\na = relu\nb = 1\nc = [1,\n")
    config = read_config_file(path)
    assert [e.key for e in config.entries] == ["b"]
    messages = config.problems
    assert len(messages) == 2
    assert f"{path}:2: key 'a'" in messages[0] and "'relu'" in messages[0]
    assert f"{path}:4: key 'c'" in messages[1]


def test_round_trip_of_written_parameters(tmp_path):
    values = {
        "epochs": 3,
        "dense": [200, 20],
        "activation": "relu",
        "shuffle": False,
        "lr": None,
        "ind": [[1, 2], [3]],
        "x": 1e-7,
    }
    path = write(tmp_path, format_config(values))
    assert {e.key: e.value for e in read_config_file(path).entries} == values
