"""Which people a job keeps, one meaning per word: ``1`` (default) the most present person, ``N`` the N most
present, ``all`` everyone, ``pID`` one person by the ID the tables and file names show (``p3``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MocapError

WORDS = "'all', a number N (the N most present people) or pID (one person, e.g. p3)"


@dataclass(frozen=True)
class People:
    """``most``: keep the N most present (``None``: not by count); ``id``: keep this person; neither: everyone."""

    most: int | None = 1
    id: int | None = None

    @classmethod
    def parse(cls, value) -> "People":
        """``"all"``, ``N`` / ``"N"`` or ``"pID"`` (also a :class:`People`) -> :class:`People`."""
        if isinstance(value, People):
            return value
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text == "all":
                return cls(None, None)
            if text.isdigit() and int(text) >= 1:
                return cls(int(text), None)
            if text[:1] == "p" and text[1:].isdigit() and int(text[1:]) >= 1:
                return cls(None, int(text[1:]))
        raise MocapError(f"people takes {WORDS}, not {value!r}")

    @classmethod
    def person(cls, pid: int) -> "People":
        return cls(None, int(pid))

    @property
    def everyone(self) -> bool:
        return self.most is None and self.id is None

    @property
    def single(self) -> bool:
        """One person (the most present, or an ID): written to the output itself, not ``out_p<ID>``."""
        return self.most == 1 or self.id is not None

    def pick(self, ids, frames) -> np.ndarray:
        """Indices (into ``ids``) of the people kept, in the order given, from everyone's ``ids`` and the number of
        ``frames`` each is present in; an unknown ID is a :class:`MocapError` listing the known ones."""
        ids, frames = np.asarray(ids), np.asarray(frames)
        if self.id is not None:
            hit = np.flatnonzero(ids == self.id)
            if not len(hit):
                raise MocapError(f"no person p{self.id} (people seen: {', '.join(f'p{i}' for i in ids)})")
            return hit[:1]
        if self.everyone:
            return np.arange(len(ids))
        order = np.argsort(-frames, kind="stable")[:self.most]
        return np.sort(order)

    def __str__(self) -> str:
        return "all" if self.everyone else f"p{self.id}" if self.id is not None else str(self.most)


def _problem(value) -> str | None:
    try:
        People.parse(value)
    except MocapError:
        return f"takes {WORDS}"
    return None


def people_option(help: str, default=1):
    """The ``people`` option of a job (:class:`People`; written as ``1``, ``N``, ``all`` or ``pID``)."""
    from .options import option

    return option(default, help, kind=People, parse=People.parse, check=_problem)
