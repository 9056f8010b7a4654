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


def test_it_draws_the_funnel_of_steps_reached(db):
    make_tenant("A", step=1)
    make_tenant("B", step=3)
    make_tenant("C", step=7)
    assert [bar.value for bar in overview.onboarding_funnel()] == [3, 2, 2, 1, 1, 1, 1]


def test_it_counts_tenants_by_health(db):
    make_tenant("A", health="failing")
    make_tenant("B", health="failing")
    make_tenant("C", health="healthy")
    counts = {bar.tone: bar.value for bar in overview.health_distribution()}
    assert counts == {"unknown": 0, "healthy": 1, "degraded": 0, "failing": 2, "expired": 0}


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
    assert body.count("<svg") == 3
    assert "chart-failing" in body
    assert "<script>" not in body
    assert "style=" not in body
