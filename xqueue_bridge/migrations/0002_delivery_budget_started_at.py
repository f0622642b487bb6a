"""A delivery's retry budget restarts when it is replayed: its age counts from ``budget_started_at``."""

import django.utils.timezone
from django.db import migrations, models


def from_creation(apps, schema_editor):
    Delivery = apps.get_model("xqueue_bridge", "Delivery")
    Delivery.objects.update(budget_started_at=models.F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("xqueue_bridge", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="budget_started_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(from_creation, migrations.RunPython.noop),
    ]
