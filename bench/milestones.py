"""When each application reached each milestone, read off the topics as records arrive (their timestamps), and the
decisions the employers' side waits for before it confirms."""

import asyncio
from collections import defaultdict

from bench.tape import Seen
from contracts.activation import ActivationRecorded
from contracts.benefits import BenefitAdjusted, PaymentInstructionIssuedV2
from contracts.notify import NotificationSent
from contracts.payments import PaymentSettled
from contracts.subsidy import ApplicationApproved, ApplicationReferred, ApplicationRejected, PlacementConfirmed

VERDICTS = {
    ApplicationApproved.type: "approved",
    ApplicationRejected.type: "rejected",
    ApplicationReferred.type: "referred",
}
_MILESTONE_OF = {
    **dict.fromkeys(VERDICTS, "decision"),
    PlacementConfirmed.type: "confirmed",
    ActivationRecorded.type: "activation recorded",
    BenefitAdjusted.type: "benefit adjusted",
    PaymentInstructionIssuedV2.type: "payment instruction",
    PaymentSettled.type: "payment settled",
}
NOTICE_MILESTONES = ("first notice", "all notices")
MILESTONES = (*dict.fromkeys(_MILESTONE_OF.values()), *NOTICE_MILESTONES)
"""In the order they happen; the notices are NotificationSent events about the application (mail, Digital Post)."""


class Milestones:
    """Per application id: the first record of each milestone, and its notices by event id (a relay may repeat a
    record, never an event id)."""

    def __init__(self) -> None:
        self.at: dict[str, dict[str, float]] = defaultdict(dict)
        self.notices: dict[str, dict[str, float]] = defaultdict(dict)
        self._applications_of_instructions: dict[str, str] = {}
        self._settled_first: dict[str, Seen] = {}
        self._verdicts: dict[str, list[str]] = defaultdict(list)
        self._verdict_ids: set[str] = set()
        self._waiting: dict[tuple[str, int], asyncio.Future[str]] = {}

    def record(self, seen: Seen) -> None:
        """Take one record off the tape."""
        application_id = seen.application_id
        if seen.type == PaymentInstructionIssuedV2.type and application_id:
            self._applications_of_instructions[seen.data["instruction_id"]] = application_id
            settled = self._settled_first.pop(seen.data["instruction_id"], None)
            if settled:  # read off its topic before the instruction was read off another
                self.record(settled)
        if seen.type == PaymentSettled.type:
            instruction_id = seen.data.get("instruction_id", "")
            application_id = self._applications_of_instructions.get(instruction_id)
            if application_id is None:
                self._settled_first.setdefault(instruction_id, seen)
        if application_id is None:
            return
        if seen.type == NotificationSent.type and seen.data.get("channel") != "webhook":
            self.notices[application_id].setdefault(seen.id, seen.timestamp)
        milestone = _MILESTONE_OF.get(seen.type)
        if milestone:
            self.at[application_id].setdefault(milestone, seen.timestamp)
        if seen.type in VERDICTS and seen.id not in self._verdict_ids:  # a relay may repeat a record
            self._verdict_ids.add(seen.id)
            verdicts = self._verdicts[application_id]
            verdicts.append(VERDICTS[seen.type])
            waiting = self._waiting.pop((application_id, len(verdicts) - 1), None)
            if waiting and not waiting.done():
                waiting.set_result(verdicts[-1])

    async def decision(self, application_id: str, nth: int = 0) -> str:
        """The application's `nth` verdict (0: the rules', 1: the caseworker's after a referral), once on the topic."""
        verdicts = self._verdicts[application_id]
        if nth < len(verdicts):
            return verdicts[nth]
        key = (application_id, nth)
        return await self._waiting.setdefault(key, asyncio.get_running_loop().create_future())

    def missing(self, application_id: str, expected: dict[str, int]) -> list[str]:
        """The expected milestones the application has not reached (`all notices`: that many notices)."""
        at = self.at.get(application_id, {})
        sent = len(self.notices.get(application_id, {}))
        return [
            milestone
            for milestone, count in expected.items()
            if (sent < count if milestone == "all notices" else milestone not in at)
        ]

    def times(self, application_id: str, expected_notices: int) -> dict[str, float]:
        """Each milestone's time, the notices' included (the last one counted once all expected were sent)."""
        times = dict(self.at.get(application_id, {}))
        sent = sorted(self.notices.get(application_id, {}).values())
        if sent:
            times["first notice"] = sent[0]
        if expected_notices and len(sent) >= expected_notices:
            times["all notices"] = sent[expected_notices - 1]
        return times
