"""The refusal of the file endpoints, rendered like every signed endpoint's."""

from webhooks.signed import SignedRequestRefused


class FileRequestRefused(SignedRequestRefused):
    """A file request may not be served (``extra`` such as ``received`` tells more)."""
