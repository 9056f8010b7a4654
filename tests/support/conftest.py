import pytest

from tests.two_factor import sign_in_verified


@pytest.fixture
def staff_client(client, charlie):
    """charlie, signed in with his password and his TOTP code."""
    sign_in_verified(client, charlie)
    return client
