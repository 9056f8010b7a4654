"""A client secret an admin reported deleted in Entra (renewal's two-secret limit)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0005_mailbox_upn"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientsecret",
            name="deleted_in_entra_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
