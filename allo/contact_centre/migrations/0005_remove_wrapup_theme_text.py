from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("contact_centre", "0004_wrapup_defaults"),
    ]

    operations = [
        migrations.RemoveField(model_name="wrapup", name="theme_text"),
    ]
