"""Appointment types for treatment sessions (clinic.care): in clinic, and at home supervised over
video. 150 minutes leaves room for the dose and esketamine's two hours of observation
(INSTRUMENTS.md); staff may change every value on the appointment-types page."""

from django.db import migrations, models


def seed(apps, schema_editor):
    AppointmentType = apps.get_model("scheduling", "AppointmentType")
    common = {
        "duration_minutes": 150,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 15,
        "min_notice_minutes": 60,
        "horizon_days": 120,
        "max_per_day": None,
        "cancel_cutoff_hours": 24,
        "patient_bookable": False,
    }
    AppointmentType.objects.get_or_create(
        kind="session_clinic", defaults={**common, "name": "Treatment session in clinic", "in_person": True}
    )
    AppointmentType.objects.get_or_create(
        kind="session_home",
        defaults={**common, "name": "Treatment session at home, supervised over video", "in_person": False},
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0009_merge_0007_encrypt_typed_text_0008_coverage")]

    operations = [
        migrations.AddField(
            model_name="appointmenttype",
            name="in_person",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="appointmenttype",
            name="kind",
            field=models.CharField(
                choices=[
                    ("consultation", "Free consultation"),
                    ("follow_up", "Follow-up"),
                    ("session_clinic", "Treatment session in clinic"),
                    ("session_home", "Treatment session at home, supervised over video"),
                ],
                max_length=16,
                unique=True,
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
