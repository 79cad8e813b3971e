"""The fake server speaks the real API: the official client parses its answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Literal

import pytest
from openai import OpenAI
from pydantic import BaseModel

from tests.fake_openai import FakeOpenAI, count_tokens


class MoveLabel(BaseModel):
    label: Literal["probing", "focus", "telling", "generic"]
    rationale: str


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as srv:
        yield srv


def _client(srv: FakeOpenAI, **kw: object) -> OpenAI:
    return OpenAI(base_url=srv.url, api_key="sk-x", **kw)  # type: ignore[arg-type]


MSGS = [
    {"role": "system", "content": "Label the turn."},
    {"role": "user", "content": "Teacher: why did you add?"},
]


def test_parse_and_usage(fake: FakeOpenAI) -> None:
    fake.add_rule("why", "probing")
    c = _client(fake).chat.completions.parse(
        model="m",
        messages=MSGS,  # type: ignore[arg-type]
        response_format=MoveLabel,
        temperature=0,
    )
    parsed = c.choices[0].message.parsed
    assert parsed is not None and parsed.label == "probing"
    # words + punctuation: "Label the turn." = 4, "Teacher: why did you add?" = 7
    assert c.usage is not None and c.usage.prompt_tokens == 11
    assert c.usage.completion_tokens == count_tokens(c.choices[0].message.content or "")
    assert c.system_fingerprint == "fp_fake" and c._request_id


def test_n_logprobs_and_models(fake: FakeOpenAI) -> None:
    client = _client(fake)
    assert [m.id for m in client.models.list()] == ["fake-model"]
    r = client.chat.completions.create(
        model="m",
        messages=MSGS,
        n=3,  # type: ignore[arg-type]
        logprobs=True,
        top_logprobs=2,
        response_format={
            "type": "json_object",  # type: ignore
            "schema": MoveLabel.model_json_schema(),
        },
    )
    assert len(r.choices) == 3
    lp = r.choices[0].logprobs
    assert lp is not None and lp.content
    assert "".join(t.token for t in lp.content) == r.choices[0].message.content
    assert (
        json.loads(r.choices[0].message.content or "")["label"]
        in MoveLabel.model_fields["label"].annotation.__args__
    )  # type: ignore[union-attr]


def test_retry_after_ms_is_honoured_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.add_fault("429", times=1, retry_after_ms=10)
    raw = _client(fake).chat.completions.with_raw_response.create(model="m", messages=MSGS)  # type: ignore[arg-type]
    assert raw.retries_taken == 1 and fake.requests == 2


def test_llama_cpp_python_style_rejection(fake: FakeOpenAI) -> None:
    import openai

    fake.reject_json_schema = True
    with pytest.raises(openai.InternalServerError, match="json_object"):
        _client(fake, max_retries=0).chat.completions.parse(
            model="m", messages=MSGS, response_format=MoveLabel
        )  # type: ignore[arg-type]
