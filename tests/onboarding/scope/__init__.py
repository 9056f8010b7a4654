"""The Exchange Online PowerShell commands that scope the app to its mailboxes
(onboarding.scope.commands)."""
