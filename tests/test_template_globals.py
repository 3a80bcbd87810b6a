"""Templates share the environment's globals dict (Jinja's per-template ChainMap was copied key by key
on every render): a global set after a template was loaded still reaches it, and a template given
globals of its own keeps them to itself."""

from __future__ import annotations

from typing import Any


def test_templates_share_the_environment_globals(app: Any) -> None:
    environment = app.template_engine.engine
    page = environment.get_template("verify/page.html")
    assert page.globals is environment.globals
    late = environment.from_string("{{ set_later }}")
    environment.globals["set_later"] = "seen"
    try:
        assert late.render() == "seen"
    finally:
        del environment.globals["set_later"]


def test_a_template_with_globals_of_its_own_keeps_them_to_itself(app: Any) -> None:
    environment = app.template_engine.engine
    own = environment.from_string("{{ mine }} {{ org_name }}", globals={"mine": "only here"})
    assert own.render() == f"only here {environment.globals['org_name']}"
    assert "mine" not in environment.globals
