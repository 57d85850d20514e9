"""The realistic scenarios' body (R and P), one pydantic model every contender validates."""

from __future__ import annotations

from pydantic import BaseModel


class Signup(BaseModel):
    """`{"name": ..., "email": ...}`: a team member signing up."""

    name: str
    email: str
