"""The one error of the file endpoints: a refusal with a code, a status and extras."""


class FileRequestRefused(Exception):
    """A file request may not be served; the view answers ``status`` with it."""

    def __init__(self, code: str, detail: str, status: int, **extra) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status, self.extra = code, detail, status, extra

    def as_answer(self) -> dict:
        """Return the JSON body of the refusal."""
        return {"error": self.code, "detail": self.detail} | self.extra
