"""The mailbox owner's own sign-in with Microsoft ("Connect with Microsoft"): delegated
access for the mailboxes app-only access cannot reach (personal Outlook.com accounts)
and the replacement of the legacy mailbox password (MFA, Conditional Access).

- links.py: the owner's single-use "Connect" link (signed), for pages and e-mails
- tokens.py: the delegated token, by refresh, with the rotated refresh token stored
- flow.py: the round trip to Microsoft (state bound to session, user and mailbox)
- services.py: storing a connection, removing one
- views.py, urls.py: the pages
"""
