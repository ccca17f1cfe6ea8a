"""axe-core checks for pages driven by Playwright (axe.min.js ships in axe-playwright-python)."""

from pathlib import Path

import axe_playwright_python

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it stands and return its violations (WCAG 2.x A and AA)."""
    # Evaluated through the DevTools protocol, so the page's strict CSP stays in force.
    page.evaluate(f"() => {{ {AXE_SOURCE}\n }}")
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'wcag22aa', 'best-practice']}
        })"""
    )
    return result["violations"]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
    ]
    assert not violations, f"axe-core found problems on {page.url}:\n" + "\n".join(summary)
