"""Which new stations a submitter source may make locatable each day (docs/abuse.md).

An honest stumbler sees each new network in several reports along its path; a flood names each
made-up network once. So, per source (`api.sources`) and UTC day:

- the first `single_report_per_day` new stations that only one report names, and the first
  `new_per_day` new stations in all, are learned as usual (located and published like any other);
- beyond either budget a new station is *held*: stored, but neither located nor published, until
  a report from another source names it too (`aggregate.station_update`);
- beyond `held_per_day` held stations a new station is not stored at all (the raw report stays in
  the archive, so an operator can still replay it).

The budgets are counted in the `sources` table (`store.source_budgets`), across every
aggregator, in one atomic UpdateItem per message and counter set. A message's reports come from
one submission, so in practice from one source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from openloc.aggregate.station_update import StationObservation
from openloc.store.source_budgets import SourceBudgets


class Admission(StrEnum):
    LOCATABLE = "locatable"
    HELD = "held"
    DROPPED = "dropped"


@dataclass(frozen=True)
class AdmissionPolicy:
    single_report_per_day: int = 200
    new_per_day: int = 20_000
    held_per_day: int = 20_000


def _allowance(total_after: int, asked: int, budget: int) -> int:
    """How much of `asked` fits in `budget`, given the counter after adding `asked`."""
    return min(max(budget - (total_after - asked), 0), asked)


def _source(observations: Sequence[StationObservation]) -> str:
    return next((o.source for o in observations if o.source is not None), "")


class NewStations:
    """The admission of one message's new stations (`admit` is `apply_station_updates`' hook)."""

    def __init__(self, budgets: SourceBudgets, day: str, policy: AdmissionPolicy) -> None:
        self.budgets = budgets
        self.day = day
        self.policy = policy

    def admit(self, new: Mapping[str, Sequence[StationObservation]]) -> dict[str, Admission]:
        """The admission of each station key of `new` (keys no table row has yet)."""
        by_source: dict[str, list[str]] = defaultdict(list)
        for key in sorted(new):
            by_source[_source(new[key])].append(key)
        decided: dict[str, Admission] = {}
        for source, keys in by_source.items():
            decided |= self._admit(source, keys, new)
        return decided

    def _admit(
        self, source: str, keys: list[str], new: Mapping[str, Sequence[StationObservation]]
    ) -> dict[str, Admission]:
        policy = self.policy
        single = [k for k in keys if len({o.report for o in new[k]}) == 1]
        several = [k for k in keys if k not in set(single)]
        after = self.budgets.spend(source, self.day, {"single": len(single), "fresh": len(keys)})
        fresh = _allowance(after["fresh"], len(keys), policy.new_per_day)
        singles = min(_allowance(after["single"], len(single), policy.single_report_per_day), fresh)
        # Networks several reports name first: they are what honest surveys are made of.
        locatable = several[:fresh] + single[: min(singles, fresh - len(several[:fresh]))]
        rest = [k for k in keys if k not in set(locatable)]
        held: list[str] = []
        if rest:
            total = self.budgets.spend(source, self.day, {"held": len(rest)})["held"]
            held = rest[: _allowance(total, len(rest), policy.held_per_day)]
        decided = dict.fromkeys(locatable, Admission.LOCATABLE)
        decided |= dict.fromkeys(held, Admission.HELD)
        decided |= dict.fromkeys((k for k in rest if k not in set(held)), Admission.DROPPED)
        return decided
