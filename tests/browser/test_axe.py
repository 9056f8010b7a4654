"""The accessibility check itself (tests/browser/conftest.py): it finds a known serious
violation, also on a page the test leaves before the check has run, and it works on
the portal's pages under their Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

# A button with no accessible name and an image with no text alternative: both are
# critical in axe-core.
BROKEN = (
    '<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>'
    '<h1>Broken</h1><button type="button"></button><img src="data:,">'
    "</main></body></html>"
)
FINE = (
    '<!DOCTYPE html><html lang="en"><head><title>Fine</title></head><body><main>'
    "<h1>Fine</h1><p>Nothing to see.</p></main></body></html>"
)


def data_url(html: str) -> str:
    return "data:text/html," + quote(html)


@pytest.fixture
def collector(axe_collector):
    if axe_collector is None:
        pytest.skip("PORTAL_TEST_AXE=off")
    yield axe_collector
    # What these tests found on purpose must not fail them at teardown.
    axe_collector.violations.clear()


def rules(collector) -> set[str]:
    return {rule for rule, _url, _target in collector.violations}


def test_it_reports_a_serious_violation_with_its_rule_place_and_fix(page, collector):
    page.goto(data_url(BROKEN))
    page.get_by_role("heading", name="Broken").wait_for()

    report = collector.finish()

    assert rules(collector) == {"button-name", "image-alt"}
    assert report is not None
    assert "button-name (critical) on data:text/html," in report
    assert 'at button: <button type="button"></button>' in report
    assert "https://dequeuniversity.com/rules/axe/" in report


def test_it_checks_a_page_left_before_its_check_ran(page, collector):
    # The check waits a minute after load here, so the next navigation always comes first.
    page.context.add_init_script(script="window.__portalAxeDelayMs = 60000;")
    page.goto(data_url(BROKEN))
    page.goto(data_url(FINE))

    collector.finish()

    assert rules(collector) == {"button-name", "image-alt"}
    assert {url for _rule, url, _target in collector.violations} == {data_url(BROKEN)}


def test_it_checks_the_portals_pages_under_their_csp(page, live_server, collector):
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]

    assert collector.finish() is None
    assert collector.pages_checked == 1
    assert collector.errors == []


def checked(page, collector, count: int) -> None:
    """Waits until axe has reported `count` checks (its reports arrive during waits)."""
    for _ in range(200):
        if collector.pages_checked >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"axe reported {collector.pages_checked} checks, not {count}")


def test_it_finds_nothing_on_a_fine_page_and_after_an_htmx_like_swap(page, collector):
    page.goto(data_url(FINE))
    # The load's own check first: a swap during it would be folded into the same run.
    checked(page, collector, 1)
    page.evaluate(
        """() => {
            document.querySelector("p").insertAdjacentHTML("afterend", '<button></button>');
            document.dispatchEvent(new Event("htmx:afterSettle"));
        }"""
    )

    collector.finish()

    assert collector.pages_checked == 2
    assert rules(collector) == {"button-name"}


def test_copy_buttons_with_the_same_label_have_distinct_names(page, collector):
    # Step 3 lists two values under the label "Permission": a screen reader user hears
    # which one each Copy button copies, and the name still starts with the visible "Copy".
    from django.template.loader import render_to_string

    rows = "".join(
        render_to_string("onboarding/_copy.html", {"label": "Permission", "value": value})
        for value in ("Mail.Read", "Mail.Send")
    )
    page.goto(data_url(FINE.replace("<p>Nothing to see.</p>", rows)))

    buttons = page.get_by_role("button", name="Copy Permission")
    assert buttons.count() == 2
    page.get_by_role("button", name="Copy Permission Mail.Send", exact=True).wait_for()
    assert buttons.first.get_attribute("data-copy") == "Mail.Read"
    assert collector.finish() is None
