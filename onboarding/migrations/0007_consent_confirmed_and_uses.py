"""Consent claimed vs confirmed by a check, and single use of consent states and forwarded links."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0006_clientsecret_deleted_in_entra_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentUse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=64, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[("state", "Consent state"), ("forward", "Forwarded consent link")],
                        max_length=8,
                    ),
                ),
                ("used_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name="appregistration",
            name="consent_confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
