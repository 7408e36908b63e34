"""The shapes of ``POST /v1/surveys/responses`` (the IVR's keypad answers)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,2}$")] | Annotated[
    int, Field(ge=-1000, le=1000)]


class KeypadIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"task_id": "019a4b2c3d4e5f60718293a4b5c6d7e8", "answers": {"csat": "4", "nps": "9"},
         "language": "es"}]})

    task_id: str = Field(min_length=1, max_length=64,
                         description="The interaction (routing task) the caller just had")
    answers: dict[Annotated[str, StringConstraints(max_length=64)], Digits] = Field(
        max_length=10, description="Question id → the digits pressed (`\"4\"`, `\"10\"`)")
    survey: str | None = Field(default=None, max_length=64,
                               description="The survey asked; by default the one that "
                               "follows the interaction's queue and channel")
    language: str | None = Field(default=None, pattern=r"^(es|en)$",
                                 description="The language the questions were asked in")


class ResponseOut(BaseModel):
    id: str
    task_id: str
    survey: str
    customer_id: str | None
    agent_id: str | None
    queue: str | None
    site: str | None
    reason: str | None
    channel: str
    language: str
    csat: int | None
    nps: int | None
    low_score: bool = Field(description="CSAT or NPS at or under the configured limits")
