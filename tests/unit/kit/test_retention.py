"""The retention data: every class of personal data has a period, a reason and a legal basis, and the topics are
provisioned with the periods of the same file."""

from contracts import audit
from contracts.catalog import TOPICS
from jobbro.retention import KIT_SWEEPS, policies
from services.notify.store import RETAINED as NOTIFY_RETAINED
from services.subsidy.store import RETAINED as SUBSIDY_RETAINED

_DAY_MS = 24 * 60 * 60 * 1000


def test_every_data_class_has_a_period_a_reason_and_a_legal_basis() -> None:
    assert set(policies()) >= {
        "inbox", "dead_letters", "outbox_rejected", "deliveries", "mails", "letters", "evidence", "topics",
        "access_audit",
    }  # fmt: skip
    for policy in policies().values():
        assert policy.days >= 1 and policy.what and policy.where and policy.why and policy.basis and policy.start


def test_every_table_the_jobs_prune_is_a_class_of_the_file() -> None:
    assert {s.data_class for s in (*KIT_SWEEPS, *NOTIFY_RETAINED, *SUBSIDY_RETAINED)} <= set(policies())


def test_the_inbox_outlives_every_topic_so_no_redelivery_is_handled_twice() -> None:
    longest = max(int(topic.config.get("retention.ms", 0)) for topic in TOPICS if topic.consumers)
    assert policies()["inbox"].days * _DAY_MS >= longest


def test_topics_are_provisioned_with_the_periods_of_the_file() -> None:
    periods = {
        topic.name: int(topic.config["retention.ms"]) // _DAY_MS for topic in TOPICS if "retention.ms" in topic.config
    }
    assert {periods[name] for name in audit.TOPICS.values()} == {policies()["access_audit"].days}
    assert periods["notify.notifications.v1"] == policies()["notifications"].days
    assert periods["subsidy.applications.v1"] == policies()["topics"].days
