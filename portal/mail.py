"""Sending one templated e-mail: the mechanism every app's e-mails share.

Each e-mail has three templates under templates/emails/: `<name>_subject.txt`,
`<name>_body.txt` and `<name>_body.html`. The functions that decide what an e-mail
says live with their app (accounts/emails.py, onboarding/emails.py); this module
knows nothing of them, so any app can use it without importing another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(name: str, *, to: str | list[str], context: dict[str, Any]) -> None:
    context = {"support_email": settings.SUPPORT_EMAIL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to] if isinstance(to, str) else to)
    message.attach_alternative(html, "text/html")
    message.send()
