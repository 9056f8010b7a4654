import django.db.models.deletion
from django.db import migrations, models


def drafts_belong_to_their_apps_tenant(apps, schema_editor):
    CertificateDraft = apps.get_model("onboarding", "CertificateDraft")
    for draft in CertificateDraft.objects.select_related("app"):
        draft.tenant_id = draft.app.tenant_id
        draft.save(update_fields=["tenant"])


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0012_vendor_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificatedraft",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="onboarding.tenant",
            ),
        ),
        migrations.RunPython(drafts_belong_to_their_apps_tenant, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificatedraft",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="onboarding.tenant",
            ),
        ),
        migrations.AlterField(
            model_name="certificatedraft",
            name="app",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="certificate_drafts",
                to="onboarding.appregistration",
            ),
        ),
    ]
