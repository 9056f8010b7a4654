from datetime import date

import pytest
from django.core.exceptions import ValidationError

from onboarding.wizard.validators import (
    ERROR,
    NOTICE,
    WARNING,
    is_personal_address,
    parse_entra_date,
    secret_value_findings,
    validate_directory,
    validate_guid,
    validate_mailbox_address,
)

GUID = "0f6c1b7e-3a52-4d1e-9c5b-2b1f0e9a7d41"
SECRET_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CLIENT_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
DIRECTORY_ID = "9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c"
CURRENT = "Ab18Q~" + "x" * 30 + "_.-~"  # the 40-character form Entra makes today
OLDER = "Ab17Q~" + "y" * 31


def codes(raw, **ids):
    return {(f.code, f.severity) for f in secret_value_findings(raw, **ids)[1]}


def test_it_accepts_a_guid_and_lower_cases_it():
    assert validate_guid(GUID.upper(), name="ID", where="there") == GUID


def test_it_accepts_a_guid_in_braces_and_spaces():
    assert validate_guid(f"  {{{GUID}}} ", name="ID", where="there") == GUID


@pytest.mark.parametrize(
    "bad",
    ["", "not-a-guid", GUID[:-1], GUID + "0", GUID.replace("-", ""), "g" + GUID[1:], "x" * 300],
)
def test_it_refuses_what_is_not_a_guid(bad):
    with pytest.raises(ValidationError) as caught:
        validate_guid(bad, name="Secret ID", where="the Secret ID column")
    assert "the Secret ID column" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (GUID, GUID),
        (GUID.upper(), GUID),
        ("Contoso.onmicrosoft.com", "contoso.onmicrosoft.com"),
        ("contoso.com.", "contoso.com"),
        ("sub.contoso-logistics.co.uk", "sub.contoso-logistics.co.uk"),
    ],
)
def test_it_accepts_a_directory_guid_or_domain(given, expected):
    assert validate_directory(given) == expected


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("common", "generic_directory"),
        ("organizations", "generic_directory"),
        ("https://login.microsoftonline.com/contoso.com", "url"),
        ("admin@contoso.com", "email"),
        ("contoso", "directory"),
        ("-contoso.com", "directory"),
        ("contoso..com", "directory"),
        ("conto so.com", "directory"),
        ("a" * 64 + ".com", "directory"),
        ("", "directory"),
    ],
)
def test_it_refuses_what_is_not_a_directory(bad, code):
    with pytest.raises(ValidationError) as caught:
        validate_directory(bad)
    assert caught.value.code == code


def test_it_finds_nothing_wrong_with_a_current_secret():
    assert secret_value_findings(CURRENT) == (CURRENT, [])


def test_it_finds_nothing_wrong_with_an_older_secret():
    assert codes(OLDER) == set()


@pytest.mark.parametrize("legacy", ["a1B2" * 8, "abc.=-:[_@]+?" + "d" * 19, "Q" * 43 + "="])
def test_it_accepts_legacy_secret_shapes_without_a_word(legacy):
    assert codes(legacy) - {("asterisk", WARNING)} == set()


def test_it_trims_surrounding_whitespace_and_says_so():
    value, findings = secret_value_findings(f"  {CURRENT}\n")
    assert value == CURRENT
    assert [(f.code, f.severity) for f in findings] == [("trimmed", NOTICE)]


def test_it_warns_that_a_guid_looks_like_the_secret_id():
    assert codes(GUID) == {("guid", WARNING)}


def test_it_refuses_the_secret_id_itself():
    assert codes(SECRET_ID.upper(), secret_id=SECRET_ID) == {("is_secret_id", ERROR)}


def test_it_refuses_the_client_id():
    assert codes(CLIENT_ID, secret_id=SECRET_ID, client_id=CLIENT_ID) == {("is_client_id", ERROR)}


def test_it_refuses_the_directory_id():
    assert codes(DIRECTORY_ID, directory_id=DIRECTORY_ID) == {("is_directory_id", ERROR)}


def test_it_refuses_the_masked_value_entra_shows_later():
    assert codes("Ab1" + "*" * 37) == {("masked", ERROR)}


def test_it_warns_about_a_single_asterisk():
    assert ("asterisk", WARNING) in codes("Ab18Q~" + "x" * 33 + "*")


def test_it_refuses_inner_whitespace():
    assert ("inner_space", ERROR) in codes(f"{CURRENT}\t{SECRET_ID}")


def test_it_refuses_an_absurdly_long_value():
    assert codes("x" * 256) == {("too_long", ERROR)}


@pytest.mark.parametrize("odd", ["short", CURRENT[:-1], "Ab19Q~" + "x" * 34, "p@ss word"[:4]])
def test_it_warns_about_a_shape_entra_never_makes(odd):
    assert ("unknown_shape", WARNING) in codes(odd)


def test_it_never_puts_the_value_in_a_message():
    _, findings = secret_value_findings(f" {'Zq9' + '*' * 5} ", secret_id=SECRET_ID)
    assert findings
    assert all("Zq9" not in finding.message for finding in findings)


@pytest.mark.parametrize(
    ("shown", "expected", "ambiguous"),
    [
        ("5/27/2027", date(2027, 5, 27), False),
        ("05/06/2027", date(2027, 5, 6), True),
        ("6/6/2027", date(2027, 6, 6), False),
        ("27/5/2027", date(2027, 5, 27), False),
        ("2027-05-27", date(2027, 5, 27), False),
        ("2027/5/27", date(2027, 5, 27), False),
        ("27.05.2027", date(2027, 5, 27), False),
        ("27.5.2027.", date(2027, 5, 27), False),
        ("27-5-2027", date(2027, 5, 27), False),
        ("5/27/2027, 10:15 AM", date(2027, 5, 27), False),
        ("2027-05-27T10:15:00", date(2027, 5, 27), False),
        (" 5/27/2027 ", date(2027, 5, 27), False),
    ],
)
def test_it_reads_dates_as_entra_shows_them(shown, expected, ambiguous):
    parsed = parse_entra_date(shown)
    assert (parsed.value, parsed.ambiguous) == (expected, ambiguous)


@pytest.mark.parametrize(
    "bad", ["", "tomorrow", "27 May 2027", "2027-13-01", "2/30/2027", "13/13/2027", "5/27/27"]
)
def test_it_refuses_what_is_not_a_date(bad):
    with pytest.raises(ValidationError):
        parse_entra_date(bad)


def test_it_accepts_a_work_mailbox_and_lower_cases_it():
    assert validate_mailbox_address(" Dispatch@Contoso.com ") == "dispatch@contoso.com"


@pytest.mark.parametrize(
    "personal",
    ["me@outlook.com", "me@hotmail.com", "me@live.co.uk", "me@hotmail.fr", "me@msn.com"],
)
def test_it_accepts_and_recognises_personal_microsoft_accounts(personal):
    # Their owner connects them with their own sign-in (onboarding.delegated).
    assert validate_mailbox_address(personal) == personal
    assert is_personal_address(personal)


def test_it_does_not_mistake_a_company_subdomain_for_a_personal_account():
    assert validate_mailbox_address("ops@live.contoso.com") == "ops@live.contoso.com"
    assert not is_personal_address("ops@live.contoso.com")


@pytest.mark.parametrize("bad", ["", "dispatch", "dispatch@", "@contoso.com", "a b@contoso.com"])
def test_it_refuses_what_is_not_an_address(bad):
    with pytest.raises(ValidationError):
        validate_mailbox_address(bad)


@pytest.mark.parametrize(
    "address",
    [
        "o'brien+ops@contoso.co.uk",
        "first.last_2@sub.contoso.onmicrosoft.com",
        "dispatch#1@contoso.com",
        "ops@xn--bcher-kva.de",
        "ops@bücher.de",
    ],
)
def test_it_accepts_what_microsoft_365_accepts(address):
    assert validate_mailbox_address(address) == address


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ('"dispatch"@contoso.com', "quoted"),
        ('"a b"@contoso.com', "quoted"),
        ('"ops@evil.example"@contoso.com', "quoted"),
        ("ops@[192.0.2.1]", "ip_literal"),
        ("ops@[IPv6:2001:db8::1]", "ip_literal"),
        ("ops@localhost", "single_label"),
        ("ops@contoso", "single_label"),
        ("ops@192.0.2.1", "invalid"),
        ("dis\x00patch@contoso.com", "control"),
        ("dispatch@contoso.com\r\nBcc: victim@example.com", "control"),
        ("dispatch\t@contoso.com", "control"),
        ("dispatch\u2028@contoso.com", "control"),
        ("a..b@contoso.com", "invalid"),
        (".dispatch@contoso.com", "invalid"),
        ("ops@-contoso.com", "invalid"),
        ("x" * 65 + "@contoso.com", "invalid"),
    ],
)
def test_it_refuses_addresses_microsoft_365_cannot_have(bad, code):
    with pytest.raises(ValidationError) as caught:
        validate_mailbox_address(bad)
    assert caught.value.code == code
