"""A form with a file (`multipart/form-data`), read as a stream: never the whole body in
memory, and a file over the limit refused while it is still arriving.

The text fields (small, few) are collected; the file field is written chunk by chunk into a
`files.Incoming`. `before_file(fields)` runs when the file starts, with the fields read so
far: the back-office checks its CSRF token there (the form's first field), so a forged
post is refused before a byte of its file is written. The parser is `multipart`'s
incremental one (the library Litestar itself parses forms with).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from litestar import Request
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from conseils.errors import InvalidInput
from minutes.files import MAX_BYTES, Incoming

MAX_FIELDS = 16
MAX_FIELD_BYTES = 16_384
# What a route that reads an upload accepts as a whole body: the file and its fields.
MAX_BODY = MAX_BYTES + 256 * 1024
NOT_MULTIPART = "le formulaire doit être envoyé en multipart/form-data, avec le fichier"


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    file: Incoming | None = None

    def text(self, name: str) -> str:
        return self.fields.get(name, "")


BeforeFile = Callable[[dict[str, str]], Awaitable[None]]


@contextlib.asynccontextmanager
async def read_form(
    request: Request,
    upload: Upload,
    *,
    file_field: str = "file",
    before_file: BeforeFile | None = None,
) -> AsyncIterator[Upload]:
    """The posted form, read into `upload` (whose fields the caller still has when reading
    fails: to show the form again); its file is deleted when the block ends unless the
    block kept it (`Incoming.keep`). Raises InvalidInput on a malformed form, a second
    file, too many or too long fields, a file over the limit."""
    media, options = request.content_type
    boundary = options.get("boundary", "")
    if media != "multipart/form-data" or not boundary:
        raise InvalidInput({file_field: NOT_MULTIPART})
    try:
        await _parse(request, boundary, upload, file_field, before_file)
        yield upload
    finally:
        if upload.file is not None:
            upload.file.discard()


async def _parse(
    request: Request,
    boundary: str,
    upload: Upload,
    file_field: str,
    before_file: BeforeFile | None,
) -> None:
    segment: MultipartSegment | None = None
    value = bytearray()
    into_file = False
    try:
        # Leaving the block closes the parser: an incomplete form raises there.
        with PushMultipartParser(boundary, max_segment_count=MAX_FIELDS + 1) as parser:
            async for chunk in request.stream():
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, into_file = event, False
                        value.clear()
                        if event.name == file_field and event.filename is not None:
                            if upload.file is not None:
                                raise InvalidInput({file_field: "un seul fichier à la fois"})
                            if before_file is not None:
                                await before_file(upload.fields)
                            upload.file = Incoming(file_field)
                            upload.file.filename = event.filename
                            into_file = True
                    elif event is None:
                        if segment is not None and not into_file and segment.name:
                            upload.fields[segment.name] = value.decode("utf-8", "replace")
                        segment = None
                    elif into_file and upload.file is not None:
                        upload.file.write(event)
                    else:
                        value += event
                        if len(value) > MAX_FIELD_BYTES:
                            raise InvalidInput(
                                {(segment.name if segment else "") or "data": "trop long"}
                            )
    except MultipartError:
        raise InvalidInput(
            {file_field: "le formulaire envoyé est incomplet ou mal formé"}
        ) from None
    if upload.file is not None and not upload.file.filename and upload.file.size == 0:
        # a file input left empty: browsers send an empty part with `filename=""`
        upload.file.discard()
        upload.file = None
