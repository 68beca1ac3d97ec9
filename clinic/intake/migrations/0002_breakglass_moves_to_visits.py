# Break-glass access is access to a patient's chart, so the model moves to visits. The table is
# renamed here and the model recreated in visits' state only (visits 0004): no row is copied.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="breakglass", table="visits_breakglass")],
            state_operations=[migrations.DeleteModel(name="BreakGlass")],
        )
    ]
