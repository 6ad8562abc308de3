"""Moderations: does a text break the content policy?"""

from __future__ import annotations

from typing import Any

from .base import Resource


class Moderations(Resource):
    def create(self, **params: Any) -> dict:
        """POST /moderations"""
        return self._post("/moderations", params, fields={"results": list})
