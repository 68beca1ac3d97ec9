# Weekly hours, date overrides and time off get public UUIDs (URLs never carry integer keys).
# Added nullable, filled row by row, then made unique.
import uuid

from django.db import migrations, models

MODELS = ("weeklyhours", "dateoverride", "timeoff")


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("scheduling", name)
        for row in model.objects.filter(public_id__isnull=True):
            row.public_id = uuid.uuid4()
            row.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0005_booking_no_show_by_remindersent")]

    operations = [
        *[migrations.AddField(model_name=name, name="public_id", field=models.UUIDField(null=True)) for name in MODELS],
        migrations.RunPython(fill, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=name,
                name="public_id",
                field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
            )
            for name in MODELS
        ],
        migrations.AlterField(
            model_name="booking",
            name="no_show_by",
            field=models.CharField(
                blank=True, choices=[("patient", "Patient"), ("clinician", "Clinician")], max_length=16
            ),
        ),
    ]
