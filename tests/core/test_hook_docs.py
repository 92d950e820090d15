"""The hook reference cannot rot: docs/plugin-hooks.md matches portal/hookspecs.py (CORE-2).

As in Datasette: every hookspec is documented under a ``### <hook>`` heading whose first code
block is its exact signature, and the page documents no hook that does not exist.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from portal import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"
SIGNATURE = re.compile(r"```python\n(\w+\([^)\n]*\))\n```")


def hookspec_signatures() -> dict[str, str]:
    return {
        name: f"{name}{inspect.signature(function)}"
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, "portal_spec")
    }


def documented_signatures() -> dict[str, str | None]:
    """{heading: signature in the section's first code block, or None} for each ``###`` section."""
    text = (DOCS / "plugin-hooks.md").read_text(encoding="utf-8")
    documented: dict[str, str | None] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        name = heading.strip().strip("`")
        assert name not in documented, f"{name} is documented twice"
        match = SIGNATURE.search(body)
        documented[name] = match.group(1) if match else None
    return documented


def test_the_hookspecs_are_found():
    assert "register_routes" in hookspec_signatures()
    assert len(hookspec_signatures()) >= 18


@pytest.mark.parametrize("hook", sorted(hookspec_signatures()))
def test_every_hook_is_documented_with_its_signature(hook):
    documented = documented_signatures()
    assert hook in documented, f"{hook} is missing from docs/plugin-hooks.md"
    assert documented[hook] == hookspec_signatures()[hook], (
        f"docs/plugin-hooks.md documents {documented[hook]!r}; portal/hookspecs.py declares {hookspec_signatures()[hook]!r}"
    )


def test_the_reference_documents_no_hook_that_does_not_exist():
    unknown = sorted(set(documented_signatures()) - set(hookspec_signatures()))
    assert not unknown, f"docs/plugin-hooks.md documents hooks that portal/hookspecs.py lacks: {unknown}"


def test_every_hookspec_has_a_docstring():
    for name, function in vars(hookspecs).items():
        if hasattr(function, "portal_spec"):
            assert inspect.getdoc(function), f"hookspec {name} has no docstring"


def test_the_guide_implements_only_hooks_that_exist():
    """A ``@hookimpl`` in the plugin guide's examples names a real hook."""
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    implemented = re.findall(r"@hookimpl\n(?:async )?def (\w+)\(", text)
    assert implemented, "docs/plugins.md shows no hook implementation"
    assert set(implemented) <= set(hookspec_signatures()), sorted(set(implemented) - set(hookspec_signatures()))
