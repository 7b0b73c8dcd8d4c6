"""The 38 controls of ISO/IEC 42001:2023 Annex A, as data.

Titles are short paraphrases (the standard is paid; check the purchased text
before quoting it). `Control.automation` says how aigov enforces or evidences a
control from the Kubernetes API; an empty string means the control needs human
records, which aigov only references (`spec.controls[].evidence`) and exports.
`Control.enforced` marks the automated controls that aigov enforces (the API
server refuses what breaks them) rather than only evidences; `eu_ai_act` names
the related articles of Regulation (EU) 2024/1689, an indicative mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ControlId(StrEnum):
    """An ISO/IEC 42001:2023 Annex A control identifier."""

    A_2_2 = "A.2.2"
    A_2_3 = "A.2.3"
    A_2_4 = "A.2.4"
    A_3_2 = "A.3.2"
    A_3_3 = "A.3.3"
    A_4_2 = "A.4.2"
    A_4_3 = "A.4.3"
    A_4_4 = "A.4.4"
    A_4_5 = "A.4.5"
    A_4_6 = "A.4.6"
    A_5_2 = "A.5.2"
    A_5_3 = "A.5.3"
    A_5_4 = "A.5.4"
    A_5_5 = "A.5.5"
    A_6_1_2 = "A.6.1.2"
    A_6_1_3 = "A.6.1.3"
    A_6_2_2 = "A.6.2.2"
    A_6_2_3 = "A.6.2.3"
    A_6_2_4 = "A.6.2.4"
    A_6_2_5 = "A.6.2.5"
    A_6_2_6 = "A.6.2.6"
    A_6_2_7 = "A.6.2.7"
    A_6_2_8 = "A.6.2.8"
    A_7_2 = "A.7.2"
    A_7_3 = "A.7.3"
    A_7_4 = "A.7.4"
    A_7_5 = "A.7.5"
    A_7_6 = "A.7.6"
    A_8_2 = "A.8.2"
    A_8_3 = "A.8.3"
    A_8_4 = "A.8.4"
    A_8_5 = "A.8.5"
    A_9_2 = "A.9.2"
    A_9_3 = "A.9.3"
    A_9_4 = "A.9.4"
    A_10_2 = "A.10.2"
    A_10_3 = "A.10.3"
    A_10_4 = "A.10.4"


OBJECTIVES: dict[str, str] = {
    "A.2": "Policies related to AI",
    "A.3": "Internal organisation",
    "A.4": "Resources for AI systems",
    "A.5": "Assessing impacts of AI systems",
    "A.6.1": "Management guidance for AI system development",
    "A.6.2": "AI system life cycle",
    "A.7": "Data for AI systems",
    "A.8": "Information for interested parties",
    "A.9": "Use of AI systems",
    "A.10": "Third-party and customer relationships",
}


@dataclass(frozen=True, slots=True)
class Control:
    """One Annex A control: its ID, paraphrased title and aigov's part in it."""

    id: ControlId
    title: str
    automation: str = ""
    enforced: bool = False
    eu_ai_act: str = ""

    @property
    def objective(self) -> str:
        """The objective this control belongs to: `A.5` for `A.5.2`, `A.6.2` for `A.6.2.5` (A.6 has two objectives)."""
        parts = self.id.split(".")
        return ".".join(parts[:3] if len(parts) == 4 else parts[:2])

    @property
    def automated(self) -> bool:
        """Whether aigov enforces or evidences this control by itself."""
        return bool(self.automation)

    @property
    def aigov_role(self) -> str:
        """`enforced`, `evidenced`, or `people` (aigov only keeps references and exports them)."""
        return "enforced" if self.enforced else "evidenced" if self.automated else "people"


_C = ControlId
CONTROLS: tuple[Control, ...] = (
    Control(_C.A_2_2, "Documented AI policy", eu_ai_act="Art. 17(1)"),
    Control(_C.A_2_3, "Alignment with other organisational policies", eu_ai_act="Art. 17(1)"),
    Control(_C.A_2_4, "Review of the AI policy", eu_ai_act="Art. 17(1)"),
    Control(
        _C.A_3_2,
        "AI roles and responsibilities",
        "owner (required in production), accountable executive when given, and approvers by identity are recorded",
        eu_ai_act="Art. 17(1)(m), Art. 26(2)",
    ),
    Control(_C.A_3_3, "Reporting of concerns", eu_ai_act="Art. 87"),
    Control(
        _C.A_4_2,
        "Resource documentation",
        "inventory of bound workloads, models and images",
        eu_ai_act="Art. 11, Annex IV(2)",
    ),
    Control(_C.A_4_3, "Data resources", eu_ai_act="Art. 10"),
    Control(_C.A_4_4, "Tooling resources", "model-serving runtimes detected and recorded", eu_ai_act="Annex IV(2)"),
    Control(
        _C.A_4_5,
        "System and computing resources",
        "accelerator requests detected and recorded",
        eu_ai_act="Annex IV(2)",
    ),
    Control(_C.A_4_6, "Human resources", eu_ai_act="Art. 4, Art. 26(2)"),
    Control(
        _C.A_5_2,
        "AI system impact assessment process",
        "deployment requires a completed assessment and, where the tier requires it, the classification record",
        eu_ai_act="Art. 6(3)-(4), Art. 27",
        enforced=True,
    ),
    Control(
        _C.A_5_3,
        "Documentation of AI system impact assessments",
        "assessment reference, hash and expiry",
        eu_ai_act="Art. 27",
    ),
    Control(_C.A_5_4, "Assessing impact on individuals or groups", eu_ai_act="Art. 9(2), Art. 27(1)"),
    Control(_C.A_5_5, "Assessing societal impacts", eu_ai_act="Art. 9(2)"),
    Control(_C.A_6_1_2, "Objectives for responsible development", eu_ai_act="Art. 17(1)"),
    Control(_C.A_6_1_3, "Processes for responsible design and development", eu_ai_act="Art. 17(1)(b)-(d)"),
    Control(_C.A_6_2_2, "AI system requirements and specification", eu_ai_act="Art. 8, Annex IV(2)"),
    Control(_C.A_6_2_3, "Documentation of design and development", eu_ai_act="Art. 11, Annex IV"),
    Control(_C.A_6_2_4, "AI system verification and validation", eu_ai_act="Art. 9(6)-(8), Art. 15"),
    Control(
        _C.A_6_2_5,
        "AI system deployment",
        "admission gate: unassessed or unapproved systems do not run",
        eu_ai_act="Art. 16, Art. 26(1), Art. 43, Art. 49",
        enforced=True,
    ),
    Control(
        _C.A_6_2_6,
        "AI system operation and monitoring",
        "drift checks and automatic suspension",
        eu_ai_act="Art. 14(4)(e), Art. 26(5), Art. 72",
        enforced=True,
    ),
    Control(
        _C.A_6_2_7,
        "AI system technical documentation",
        "technical documentation reference recorded",
        eu_ai_act="Art. 11, Art. 18, Annex IV",
    ),
    Control(
        _C.A_6_2_8,
        "AI system recording of event logs",
        "admission decision log and Kubernetes Events",
        eu_ai_act="Art. 12, Art. 19, Art. 26(6)",
    ),
    Control(_C.A_7_2, "Data for development and enhancement", eu_ai_act="Art. 10"),
    Control(_C.A_7_3, "Acquisition of data", eu_ai_act="Art. 10(2)"),
    Control(_C.A_7_4, "Quality of data", eu_ai_act="Art. 10(3), Art. 26(4)"),
    Control(_C.A_7_5, "Data provenance", eu_ai_act="Art. 10(2)(b)"),
    Control(_C.A_7_6, "Data preparation", eu_ai_act="Art. 10(2)(c)"),
    Control(
        _C.A_8_2,
        "System documentation and information for users",
        "instructions-for-use reference recorded",
        eu_ai_act="Art. 13, Art. 26(1), Art. 26(11), Art. 50",
    ),
    Control(_C.A_8_3, "External reporting", eu_ai_act="Art. 27(3), Art. 85, Art. 87"),
    Control(
        _C.A_8_4,
        "Communication of incidents",
        "Warning Events and metrics on suspension",
        eu_ai_act="Art. 26(5), Art. 73",
    ),
    Control(_C.A_8_5, "Information for interested parties", eu_ai_act="Art. 26(7), Art. 26(11), Art. 49"),
    Control(_C.A_9_2, "Processes for responsible use", eu_ai_act="Art. 26"),
    Control(_C.A_9_3, "Objectives for responsible use", eu_ai_act="Art. 26(1)"),
    Control(
        _C.A_9_4,
        "Intended use of the AI system",
        "intended purpose recorded and required",
        eu_ai_act="Art. 13(3)(b)(i), Art. 26(1)",
        enforced=True,
    ),
    Control(_C.A_10_2, "Allocating responsibilities", eu_ai_act="Art. 25"),
    Control(
        _C.A_10_3,
        "Suppliers",
        "images must be approved (and digest-pinned for high risk)",
        eu_ai_act="Art. 25(4), Art. 53",
        enforced=True,
    ),
    Control(_C.A_10_4, "Customers", eu_ai_act="Art. 13, Art. 25"),
)

BY_ID: dict[ControlId, Control] = {c.id: c for c in CONTROLS}
AUTOMATED: frozenset[ControlId] = frozenset(c.id for c in CONTROLS if c.automated)
ENFORCED: frozenset[ControlId] = frozenset(c.id for c in CONTROLS if c.enforced)


def control(control_id: ControlId | str) -> Control:
    """The control with `control_id`; raises `ValueError` for an ID outside Annex A."""
    return BY_ID[ControlId(control_id)]
