"""Tests for ravyn/_lilya/names.py: what ravyn imports from Lilya's private modules is what it seems."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from lilya.dependencies import Depends as lilya_depends
from lilya.requests import Request

from ravyn._lilya import names


def test_client_disconnect_is_what_a_request_raises_when_the_client_leaves_mid_body() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(names.ClientDisconnect):
        asyncio.run(request.body())


def test_json_encode_default_is_the_hook_lilyas_json_encoding_uses() -> None:
    import dataclasses
    import datetime

    from lilya.encoders import json_encode

    @dataclasses.dataclass
    class Pair:
        a: int
        when: datetime.date

    value = Pair(1, datetime.date(2020, 1, 2))
    assert json.loads(json.dumps(value, default=names.json_encode_default)) == json_encode(value)


def test_header_helper_answers_for_statuses_and_media_types() -> None:
    assert names.HeaderHelper.has_body_message(200) and not names.HeaderHelper.has_body_message(204)
    assert names.HeaderHelper.has_entity_header_status(304)
    assert "charset=utf-8" in str(
        names.HeaderHelper.get_content_type(charset="utf-8", media_type="text/plain")
    )


def test_depends_is_the_class_of_lilyas_depends_markers() -> None:
    assert type(lilya_depends(lambda: 1)) is names.Depends
