import pytest

from onboarding import diagnosis
from onboarding.diagnosis import CATALOGUE, consent, diagnose


@pytest.mark.parametrize(
    ("code", "key", "step"),
    [
        ("AADSTS90002", "directory_not_found", 1),
        ("AADSTS900023", "directory_malformed", 1),
        ("AADSTS700016", "app_not_found", 1),
        ("AADSTS7000215", "wrong_secret", 4),
        ("AADSTS7000222", "secret_expired", 4),
        ("AADSTS700025", "no_credential_in_entra", 4),
        ("ErrorInvalidUser", "unknown_user", 5),
        ("MailboxNotEnabledForRESTAPI", "no_mailbox", 5),
        ("ResourceNotFound", "no_mailbox", 5),
        ("InvalidAuthenticationToken", "token_rejected", 1),
        ("AADSTS50126", "wrong_password", 5),
        ("AADSTS50034", "wrong_password", 5),
        ("AADSTS50057", "account_disabled", 5),
        ("AADSTS50053", "account_locked", 5),
        ("AADSTS50055", "password_expired", 5),
        ("AADSTS50076", "mfa_required", 5),
        ("AADSTS50079", "mfa_required", 5),
        ("AADSTS53003", "mfa_required", 5),
        ("AADSTS7000218", "public_client_disabled", 2),
        ("AADSTS65001", "delegated_consent_missing", 3),
        ("personal_account", "personal_account", 5),
    ],
)
def test_it_maps_each_known_code_to_its_entry_and_step(code, key, step):
    result = diagnose(code, "Microsoft's text", correlation_id="abc")
    assert (result.key, result.wizard_step) == (key, step)
    assert result.microsoft_code == code
    assert result.correlation_id == "abc"


def test_it_says_the_secret_id_is_often_pasted_for_a_wrong_secret():
    assert "Secret ID" in diagnose("AADSTS7000215").explanation


@pytest.mark.parametrize(
    "message",
    [
        "Access to OData is disabled.",
        "[RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
    ],
)
def test_it_tells_an_access_policy_from_a_permission_problem(message):
    assert diagnose("ErrorAccessDenied", message, status=403).key == "mailbox_out_of_scope"


def test_it_reads_a_plain_access_denied_as_a_permission_problem():
    result = diagnose("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    assert (result.key, result.wizard_step) == ("access_denied", 3)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ApplicationThrottled", 429),
        ("SomethingNew", 429),
        ("unreachable", None),
        ("http_503", 503),
    ],
)
def test_it_marks_throttling_and_outages_transient(code, status):
    assert diagnose(code, status=status).transient is True


def test_it_repeats_microsofts_words_for_an_unknown_error():
    result = diagnose("AADSTS123456", "Something odd happened.", correlation_id="c0ffee")
    assert result.key == "unknown"
    assert "AADSTS123456" in result.title
    assert result.microsoft_message == "Something odd happened."
    assert any("c0ffee" in step for step in result.fix)
    assert result.transient is False


@pytest.mark.parametrize(
    ("step", "roles", "key"),
    [
        ("read_inbox", set(), "no_consent"),
        ("send_test", {"User.Read.All"}, "no_consent"),
        ("read_inbox", {"Mail.Send"}, "missing_mail_read"),
        ("send_test", {"Mail.Read"}, "missing_mail_send"),
    ],
)
def test_it_explains_a_plain_refusal_by_the_roles_the_token_lacks(step, roles, key):
    assert consent.refused("access_denied", step, roles) == key


@pytest.mark.parametrize(
    ("key", "step", "roles"),
    [
        # The role is there: Graph refused for another reason.
        ("access_denied", "read_inbox", {"Mail.Read"}),
        ("access_denied", "read_inbox", {"Mail.ReadWrite"}),
        ("access_denied", "send_test", {"Mail.Send"}),
        # Not a plain refusal: what the code says stands, whatever the roles.
        ("mailbox_out_of_scope", "read_inbox", set()),
        ("unknown_user", "send_test", set()),
    ],
)
def test_it_keeps_the_diagnosis_when_the_roles_do_not_explain_it(key, step, roles):
    assert consent.refused(key, step, roles) == key


def test_it_reads_no_permissions_in_access_token_as_missing_consent():
    assert diagnose("NoPermissionsInAccessToken", status=401).key == "no_consent"


def test_every_entry_has_a_title_an_explanation_and_numbered_fix_steps():
    for entry in CATALOGUE.values():
        assert entry.title, entry.key
        assert entry.explanation, entry.key
        assert entry.fix, entry.key
        assert entry.wizard_step in (None, *range(1, 7)), entry.key
        assert entry.transient == (entry.wizard_step is None), entry.key


def test_every_mapped_code_points_at_an_entry():
    assert set(diagnosis._BY_CODE.values()) <= set(CATALOGUE)


def test_it_maps_the_bare_http_codes_of_the_token_endpoint():
    assert diagnose("http_429", status=429).key == "throttled"
    assert diagnose("http_401", status=401).key == "token_rejected"
    assert diagnose("http_502", status=502).key == "unreachable"


def test_each_key_is_defined_once_and_each_code_names_a_defined_key():
    from onboarding.diagnosis import _AREAS

    keys = [entry.key for area in _AREAS for entry in area.ENTRIES]
    assert len(keys) == len(set(keys)) == len(CATALOGUE)
    codes = [code for area in _AREAS for code in area.CODES]
    assert len(codes) == len(set(codes))
    assert {key for area in _AREAS for key in area.CODES.values()} <= set(CATALOGUE)


def test_a_mailboxs_own_problem_links_to_that_mailboxs_form():
    import uuid

    from django.urls import reverse

    from onboarding.diagnosis import fix_path

    tenant, mailbox = uuid.uuid4(), uuid.uuid4()
    unknown_user = fix_path(
        tenant_id=tenant, diagnosis=CATALOGUE["unknown_user"], mailbox_id=mailbox
    )
    assert unknown_user == reverse("onboarding:mailbox-edit", args=[tenant, mailbox])
    # Without a mailbox, the step itself; other steps never take the mailbox.
    assert fix_path(tenant_id=tenant, diagnosis=CATALOGUE["unknown_user"]) == reverse(
        "onboarding:mailbox", args=[tenant]
    )
    wrong_secret = fix_path(
        tenant_id=tenant, diagnosis=CATALOGUE["wrong_secret"], mailbox_id=mailbox
    )
    assert wrong_secret == reverse("onboarding:secret", args=[tenant])
