from datetime import date

import time_machine

from support import charts, overview
from tests.support.conftest import make_tenant


@time_machine.travel("2026-03-02 12:00Z", tick=False)
def test_it_counts_expiries_per_week(db):
    make_tenant("A", expires_in=0)
    make_tenant("B", expires_in=6)
    make_tenant("C", expires_in=7)
    make_tenant("D", expires_in=181)
    make_tenant("E", expires_in=182)  # beyond 26 weeks
    make_tenant("F", expires_in=-1)  # already expired
    bars = overview.expiries_per_week(date(2026, 3, 2))
    assert len(bars) == 26
    assert [bars[0].value, bars[1].value, bars[25].value] == [2, 1, 1]
    assert sum(bar.value for bar in bars) == 4
    assert bars[1].label == "09 Mar"


def test_it_draws_the_funnel_of_steps_reached_with_the_step_names(db):
    make_tenant("A", step=1)
    make_tenant("B", step=3)
    make_tenant("C", step=7)
    rows = overview.onboarding_funnel()
    assert [row.value for row in rows] == [3, 2, 2, 1, 1, 1, 1]
    assert rows[2].label == "Step 3: API permissions and admin consent"
    assert rows[2].link == "/support/?reached=3"


def test_it_counts_tenants_by_the_state_every_page_shows(db):
    make_tenant("A", health="failing")
    make_tenant("B", health="failing")
    make_tenant("C", health="healthy")
    # In the setup, a failed first check is a step to finish, not a broken connection.
    make_tenant("D", step=6, health="degraded")
    counts = {row.label: row.value for row in overview.state_distribution()}
    assert counts == {
        "Connected": 1,
        "Setup in progress": 1,
        "Waiting for a check": 0,
        "Partly working": 0,
        "Not working": 2,
        "Secret expired": 0,
    }
    links = {row.label: row.link for row in overview.state_distribution()}
    assert links["Not working"] == "/support/?state=failing"


def test_each_bar_links_to_the_tenants_it_counts(staff_client, db):
    make_tenant("A", health="failing")
    make_tenant("B", step=3)
    make_tenant("C", expires_in=10)
    for row in overview.state_distribution() + overview.onboarding_funnel():
        listed = staff_client.get(row.link).context["page"].paginator.count
        assert listed == row.value, row.label
    for bar in overview.expiries_per_week():
        assert staff_client.get(bar.link).context["page"].paginator.count == bar.value


def test_it_scales_bars_to_the_largest():
    chart = charts.bar_chart([charts.Bar("a", 2), charts.Bar("b", 4), charts.Bar("c", 0)])
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == chart.baseline - 16
    assert heights[0] == heights[1] / 2
    assert heights[2] == 0


def test_it_draws_an_empty_chart():
    assert charts.bar_chart([]).bars == []
    assert [bar.height for bar in charts.bar_chart([charts.Bar("a", 0)]).bars] == [0]


def test_it_serves_the_overview_as_svg(staff_client, db):
    make_tenant("A", expires_in=10, health="failing")
    response = staff_client.get("/support/overview/")
    body = response.content.decode()
    assert body.count("<svg") == 1
    assert 'href="/support/?state=failing"' in body
    assert "Step 4: Client secret" in body
    assert "<script>" not in body
    assert "style=" not in body
