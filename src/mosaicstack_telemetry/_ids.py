"""What is fresh per event: its time (now, UTC) and its id (a UUIDv4) as text. Neither pydantic
nor `uuid` here: `EventSpool` writes an event's JSON with these without loading either. (The
`UUID` object of an event id comes from `_models.new_event_id`, from the same bits.)"""

from __future__ import annotations

import os
from datetime import datetime, timezone

# RFC 4122 version 4: the version nibble 4, the variant bits 10.
V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
V4_SET = (0x8000 << 48) | (0x4000 << 64)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_event_id_text() -> str:
    """A fresh UUIDv4 as its canonical text (what `str(new_event_id())` gives), with no UUID
    object made: for writing an event's JSON directly."""
    h = "%032x" % (int.from_bytes(os.urandom(16), "big") & V4_CLEAR | V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
