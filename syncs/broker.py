"""Celery's filesystem transport, with messages that appear whole or not at all.

kombu's filesystem transport creates a message file and then writes it; a
worker polling the folder can take the file in between, read nothing and die
("Unrecoverable error: JSONDecodeError"). Here a message is written to a
hidden file first and renamed into place, which is atomic on one filesystem.
For the embedded defaults (no broker server) of any site: register it as the
``filesystem://`` transport where the site creates its Celery app, as
mooxsync.celery does::

    TRANSPORT_ALIASES["filesystem"] = "syncs.broker:Transport"
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue`` atomically."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot keeps the half-written file out of the readers' match.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
