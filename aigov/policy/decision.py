"""The admission decision as Python reads it: `data.aigov.admission.decision` (policies/README.md).

Data only, cheap to import; `aigov.policy.opa` is the client that obtains decisions.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

UNAVAILABLE = "AIGOV_POLICY_UNAVAILABLE"
UNAVAILABLE_CONTROL = "A.6.2.5"


class Violation(BaseModel):
    """One broken rule: its stable code, what to do about it, the ISO/IEC 42001 control."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    control: str


class Waiver(BaseModel):
    """A violation code an honoured AIGovException waived: the exception's name and effective expiry."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    code: str
    exception: str
    expires_at: str = Field(alias="expiresAt")
    break_glass: bool = Field(default=False, alias="breakGlass")


class AdmissionDecision(BaseModel):
    """`data.aigov.admission.decision`."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    mode: str
    violations: tuple[Violation, ...] = ()
    waived: tuple[Waiver, ...] = ()
    warnings: tuple[str, ...] = ()

    @classmethod
    def unavailable(cls, reason: str) -> AdmissionDecision:
        """The deny that stands in for a decision OPA could not give."""
        message = (
            f"the aigov policy engine gave no decision ({reason}); the request is denied until it answers. "
            "Check the OPA server next to the aigov webhook and its readiness (GET /readyz)."
        )
        violation = Violation(code=UNAVAILABLE, message=message, control=UNAVAILABLE_CONTROL)
        return cls(allowed=False, mode="enforce", violations=(violation,))
