"""The one error intake raises for a drop that cannot be read at all.

Row-level problems never raise: those rows go to quarantine and the rest of the drop loads.
A ``DropRejected`` is for the whole file (empty, binary, wrong encoding, header changed), and
its message always names the agency, the file and the problem so a steward can act on it.
"""

from __future__ import annotations


class DropRejected(Exception):
    def __init__(self, agency: str, file_name: str, problem: str):
        self.agency = agency
        self.file_name = file_name
        self.problem = problem
        super().__init__(f"agency {agency}: file {file_name}: {problem}")
