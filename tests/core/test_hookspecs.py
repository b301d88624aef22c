import inspect

from candle_core import hookspecs


def test_every_hook_is_documented_and_has_a_family():
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("candle_")]
    assert len(hooks) >= 12
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "Called by" in doc, name
        assert name in hookspecs.HOOK_FAMILIES, name
    for family, hook in hookspecs.NAMING_HOOKS.items():
        assert hookspecs.HOOK_FAMILIES[hook] == family
