
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='ProblemState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('course_id', models.CharField(db_index=True, max_length=255)),
                ('usage_key', models.CharField(max_length=255)),
                ('user_id', models.CharField(help_text='numeric LMS user id, as the callback URL carries it', max_length=64)),
                ('anonymous_student_id', models.CharField(help_text="what the event's user_id carries", max_length=128)),
                ('max_score', models.PositiveIntegerField(default=1)),
                ('queuekey', models.CharField(blank=True, help_text='key of the queued submission; NULL when not queued', max_length=255, null=True)),
                ('correctness', models.CharField(blank=True, max_length=32, null=True)),
                ('npoints', models.FloatField(blank=True, null=True)),
                ('msg', models.TextField(blank=True, default='')),
                ('ungraded_msg', models.TextField(blank=True, default='', help_text='last ungraded_response message')),
                ('feedback_html', models.TextField(blank=True, default='')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['id'],
                'constraints': [models.UniqueConstraint(fields=('usage_key', 'user_id'), name='xqb_sink_problem_user'), models.UniqueConstraint(fields=('usage_key', 'anonymous_student_id'), name='xqb_sink_problem_anon')],
            },
        ),
        migrations.CreateModel(
            name='LearnerUpdate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('queuekey', models.TextField(blank=True, help_text='the key the update carried', null=True)),
                ('via', models.CharField(choices=[('callback', 'legacy HTTP callback'), ('event', 'EXTERNAL_GRADER_SCORE_SUBMITTED')], max_length=10)),
                ('dispatch', models.CharField(default='score_update', max_length=32)),
                ('valid_reply', models.BooleanField()),
                ('applied', models.BooleanField(help_text='the key matched and was consumed')),
                ('applied_key', models.CharField(blank=True, editable=False, max_length=255, null=True)),
                ('npoints', models.FloatField(blank=True, help_text='after the update', null=True)),
                ('correctness', models.CharField(blank=True, help_text='after the update', max_length=32, null=True)),
                ('error', models.TextField(blank=True, default='', help_text='why the update failed as the LMS would')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('problem', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='updates', to='xqueue_bridge_sink.problemstate')),
            ],
            options={
                'ordering': ['id'],
                'constraints': [models.UniqueConstraint(fields=('problem', 'applied_key'), name='xqb_sink_one_applied_update_per_key'), models.CheckConstraint(condition=models.Q(models.Q(('applied', True), ('applied_key__isnull', False)), models.Q(('applied', False), ('applied_key__isnull', True)), _connector='OR'), name='xqb_sink_applied_key_iff_applied')],
            },
        ),
    ]
