"""The shape of the code, as the project keeps it: modules a newcomer can read, thin views,
states named by the models rather than spelt out in templates, no private helper borrowed
across modules, and dependencies between the apps pointing one way."""

import ast
import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
APPS = ["alc_portal", "members", "regions", "campaigns", "events", "search"]
# Generated or data-bound: the council data builder and the embedded servers' launcher.
LONG_ALLOWED = {"regions/councildata.py", "alc_portal/embedded.py"}
MAX_MODULE_LINES = 500
MAX_VIEW_LINES = 40
# Which app may import which: regions nothing above it, members regions, events both, campaigns
# all three. alc_portal (settings, urls, shared form plumbing) is below them all and wires them
# together. Members shows what events holds through its own signals, never by importing it.
# search reads every app (its index follows their signals); none of them imports it.
MAY_IMPORT = {
    "regions": {"alc_portal"},
    "members": {"alc_portal", "regions"},
    "events": {"alc_portal", "members", "regions"},
    "campaigns": {"alc_portal", "members", "regions", "events"},
    "alc_portal": {"members", "regions", "campaigns", "events"},
    "search": {"alc_portal", "members", "regions", "campaigns", "events"},
}


def _modules():
    for app in APPS:
        for path in sorted((PROJECT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _name(path: Path) -> str:
    return str(path.relative_to(PROJECT))


def test_no_module_is_over_500_lines():
    long = {
        _name(path): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and _name(path) not in LONG_ALLOWED
    }
    assert long == {}


def test_no_view_function_is_over_40_lines():
    long = {}
    for path in _modules():
        if "views" not in path.parts and path.name != "views.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - node.lineno + 1
                if length > MAX_VIEW_LINES:
                    long[f"{_name(path)}:{start} {node.name}"] = length
    assert long == {}


STATUS_LITERAL = re.compile(r"""\.status\s*(==|!=)\s*["']|\.status\s+(not\s+)?in\s*["'(\[]""")


def test_no_template_compares_a_status_with_a_literal():
    found = [
        f"{_name(path)}:{number}"
        for app in ["templates", *APPS]
        for path in sorted((PROJECT / app).rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if STATUS_LITERAL.search(line)
    ]
    assert found == []


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom | ast.Import):
            yield node


def test_no_private_helper_is_imported_from_another_module():
    borrowed = [
        f"{_name(path)}: {alias.name} from {node.module}"
        for path in _modules()
        for node in _imports(path)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert borrowed == []


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_dependencies_between_the_apps_point_one_way(app):
    forbidden = set(MAY_IMPORT) - MAY_IMPORT[app] - {app}
    found = []
    for path in sorted((PROJECT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in _imports(path):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else [alias.name for alias in getattr(node, "names", [])]
                if isinstance(node, ast.Import)
                else []
            )
            found += [
                f"{_name(path)} imports {name}" for name in names if name.split(".")[0] in forbidden
            ]
    assert found == []
