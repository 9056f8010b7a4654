from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings

from portal.celery import app


def test_it_speaks_only_json():
    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_RESULT_SERIALIZER == "json"
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_it_acknowledges_late_and_takes_one_task_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_it_bounds_every_task_in_time():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_it_takes_the_beat_schedule_from_settings():
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE


def test_it_schedules_only_registered_tasks_that_expire_before_piling_up():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        assert isinstance(entry["schedule"], crontab | timedelta), name
        options = entry["options"]
        assert isinstance(options, dict)
        assert options["expires"] > 0, name
