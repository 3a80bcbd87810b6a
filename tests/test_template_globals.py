"""Templates share the environment's globals dict (Jinja's per-template ChainMap was copied key by key
on every render): a global set after a template was loaded still reaches it, and a template given
globals of its own keeps them to itself. Rows read in templates straight from their keys, with the
answers Jinja's own lookup gives."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment, Undefined

from src.db import Row

pytestmark = pytest.mark.engine_free  # no database: run once, on SQLite, and not emptied before


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


def test_a_row_reads_in_a_template_as_it_does_through_jinjas_own_lookup(app: Any) -> None:
    """Rows are read from their keys directly (src.templating.TemplateEnvironment.getattr): the same answers
    as Jinja's attribute-then-item lookup, for every kind of name."""
    environment = app.template_engine.engine
    row = Row(title="Diploma", level="", units=[Row(title="Unit 1")], items="a column called items")
    source = (
        "{{ row.title }}|{{ row.level or 'none' }}|{{ row.grade is undefined }}|{{ row.grade }}|"
        "{{ row.units[0].title }}|{{ row['items'] }}|{{ row.items() | list | length }}|{{ row.get('title') }}"
    )
    ours = environment.from_string(source).render(row=row)
    jinjas = Environment(autoescape=True).from_string(source).render(row=row)
    assert ours == jinjas == "Diploma|none|True||Unit 1|a column called items|4|Diploma"


def test_a_missing_row_key_is_still_undefined_by_the_environments_rules(app: Any) -> None:
    environment = app.template_engine.engine
    value = environment.getattr(Row(title="x"), "grade")
    assert isinstance(value, Undefined)
    assert not value
    # Anything that is not a Row goes Jinja's own way: attributes first, then items.
    assert environment.getattr({"title": "plain dict"}, "title") == "plain dict"
    assert environment.getattr(Row, "__name__") == "Row"
