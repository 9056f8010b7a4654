"""Plain-text e-mails are not HTML: a tenant called O'Brien & Sons must read so, not
O&#x27;Brien &amp; Sons, in every subject and text body."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string

NAME = "O'Brien & Sons <Freight>"
EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
TEXT_TEMPLATES = sorted(p.name for p in EMAILS.glob("*.txt"))


def test_there_are_text_templates():
    assert len(TEXT_TEMPLATES) > 20


@pytest.mark.parametrize("name", TEXT_TEMPLATES)
def test_it_does_not_html_escape(name):
    named = SimpleNamespace(name=NAME, address=NAME, thumbprint=NAME, email=NAME)
    context = {
        "tenant": named,
        "mailbox": named,
        "credential": named,
        "subject": NAME,
        "lines": [NAME],
        "thumbprint": NAME,
        "user": named,
    }
    rendered = render_to_string(f"emails/{name}", context)
    assert "&amp;" not in rendered
    assert "&#x27;" not in rendered
    assert "&lt;" not in rendered
