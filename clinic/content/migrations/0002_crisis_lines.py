"""Crisis numbers from shared/clinical/INSTRUMENTS.md. A clinic verifies them before going live."""

from django.db import migrations

LINES = [
    ("US", "Emergency services", "911", "Call", True),
    ("US", "988 Suicide & Crisis Lifeline", "988", "Call or text, 24/7", False),
    ("CA", "Emergency services", "911", "Call", True),
    ("CA", "988 Suicide Crisis Helpline", "988", "Call or text, 24/7", False),
    ("GB", "Emergency services", "999", "Call", True),
    ("GB", "Samaritans", "116 123", "Call free, 24/7", False),
    ("IE", "Emergency services", "112", "Call (999 also works)", True),
    ("IE", "Samaritans", "116 123", "Call free, 24/7", False),
    ("AU", "Emergency services", "000", "Call", True),
    ("AU", "Lifeline", "13 11 14", "Call, 24/7", False),
    ("NZ", "Emergency services", "111", "Call", True),
    ("NZ", "Need to talk? 1737", "1737", "Call or text, 24/7", False),
]


def seed(apps, schema_editor):
    CrisisLine = apps.get_model("content", "CrisisLine")
    for order, (country, name, number, how, emergency) in enumerate(LINES):
        CrisisLine.objects.get_or_create(
            country=country,
            name=name,
            defaults={"number": number, "how": how, "is_emergency": emergency, "order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
