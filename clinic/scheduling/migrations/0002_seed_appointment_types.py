from django.db import migrations


def seed(apps, schema_editor):
    AppointmentType = apps.get_model("scheduling", "AppointmentType")
    AppointmentType.objects.get_or_create(
        kind="consultation",
        defaults={
            "name": "Free video consultation",
            "duration_minutes": 20,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 10,
            "min_notice_minutes": 120,
            "horizon_days": 30,
            "max_per_day": 12,
            "cancel_cutoff_hours": 1,
            "patient_bookable": True,
        },
    )
    AppointmentType.objects.get_or_create(
        kind="follow_up",
        defaults={
            "name": "Follow-up video visit",
            "duration_minutes": 30,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 10,
            "min_notice_minutes": 60,
            "horizon_days": 90,
            "max_per_day": None,
            "cancel_cutoff_hours": 24,
            "patient_bookable": False,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
