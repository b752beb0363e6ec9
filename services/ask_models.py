"""Request and response models of `POST /store/helio/ask`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 4000
MAX_HISTORY_TURNS = 20


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_QUESTION_CHARS)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="In Portuguese.")
    history: list[Turn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS, description="Earlier turns, oldest first."
    )
    context: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            'What the caller knows about the customer, e.g. `{"city": "Recife", "uf": "PE", '
            '"consumption_kwh_month": 450, "connection": "bi"}`: sizing and payback questions are '
            "computed from it. Personal data in it is redacted before it reaches any model."
        ),
    )
    stream: bool = Field(default=False, description="Server-Sent Events: tokens, then a final event.")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, question: str) -> str:
        if not question.strip():
            raise ValueError("the question is blank")
        return question.strip()


class CitationView(BaseModel):
    collection: str
    id: str
    title: str
    source: str
    snippet: str


class FallbackView(BaseModel):
    engine: str
    reason: str


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationView] = Field(description="Each points at a passage the answer was given.")
    engine: str = Field(description='The engine that wrote the answer; "extractive" or "none" without one.')
    fallback: list[FallbackView] = Field(description="Engines skipped before `engine`, and why.")
    took_ms: float
    intent: str = Field(description="What the question asks for, as the router read it.")
    collections: list[str] = Field(description="The knowledge bases searched, most relevant first.")
    notes: list[str] = Field(default_factory=list, description="Collections missing, tools not run, …")
