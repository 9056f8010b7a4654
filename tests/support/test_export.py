import csv
import io

import pytest

from support.export import safe_cell
from tests.support.conftest import make_tenant


def read_csv(response):
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel reads a CSV without a BOM as Windows-1252"
    body = raw.decode("utf-8-sig")
    return body, list(csv.reader(io.StringIO(body)))


def test_it_exports_the_filtered_list(staff_client, db):
    make_tenant("Alpha Air", expires_in=5, mailbox="ops@alpha.example")
    make_tenant("Bravo Bus", expires_in=60)
    response = staff_client.get("/support/export.csv?expiring=30")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tenants-')
    _, rows = read_csv(response)
    assert rows[0][0] == "Tenant"
    assert [row[0] for row in rows[1:]] == ["Alpha Air"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Mailbox"] == "ops@alpha.example"
    assert row["Days until expiry"] == "5"
    assert row["Consent confirmed"] == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Acme", "Acme"),
        (None, ""),
        (5, "5"),
        (-3, "-3"),
        (-0.5, "-0.5"),
        ("-3", "'-3"),
    ],
)
def test_it_defuses_formulas(value, expected):
    assert safe_cell(value) == expected


def test_it_defuses_a_formula_in_a_tenant_name(staff_client, db):
    make_tenant("=cmd|' /C calc'!A0")
    _, rows = read_csv(staff_client.get("/support/export.csv"))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


def test_it_keeps_a_canary_secret_out_of_the_export(staff_client, db, canary):
    secret = canary()
    make_tenant("Alpha Air", expires_in=5, secret_value=secret)
    body, rows = read_csv(staff_client.get("/support/export.csv"))
    assert len(rows) == 2
    assert secret not in body
    assert secret[:3] not in rows[1]  # not even the hint: the export has no secret column


def test_it_survives_bad_export_filters(staff_client, db):
    response = staff_client.get("/support/export.csv?expiring=x&sort=nope&stuck=-1")
    assert response.status_code == 200


def test_it_exports_despite_a_nul_in_the_search(staff_client, db):
    assert staff_client.get("/support/export.csv?q=%00").status_code == 200


def test_it_writes_non_ascii_names_as_utf8_with_a_bom(staff_client, db):
    make_tenant("Zoë Müller Logistik 北京")
    response = staff_client.get("/support/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeffTenant,".encode())
    assert "Zoë Müller Logistik 北京".encode() in raw


def test_it_does_not_formula_quote_an_expired_secrets_negative_days(staff_client, db):
    make_tenant("Tailspin", expires_in=-3)
    _, rows = read_csv(staff_client.get("/support/export.csv"))
    assert dict(zip(rows[0], rows[1], strict=True))["Days until expiry"] == "-3"
