"""One family of exceptions: pages turn them into `st.error`, the CLI into a message and exit code 2."""


class JudgeError(Exception):
    """Base class of every error `judge` raises on purpose; the message says how to fix the problem."""


class StoreBusy(JudgeError):
    """Another process held the store for longer than we were willing to wait."""


class StoreDamaged(JudgeError):
    """The store file cannot be read (cut short, overwritten, not a DuckDB file): restore it or use another."""


class ImportFailed(JudgeError):
    """A file could not be imported; the message names the file, row and column. The store is unchanged."""

    def __init__(self, file: str, message: str, *, row: int | None = None, column: str | None = None):
        where = [str(file)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")
        self.file, self.row, self.column = str(file), row, column


class NotFound(JudgeError):
    """A named dataset, run, spec, annotator or task does not exist."""


class InvalidSpec(JudgeError):
    """A judge spec is malformed: unknown template variable, bad rubric, unknown provider."""


class MissingKey(JudgeError):
    """A provider needs an API key that is not set; the message names the variable."""


class AccessDenied(JudgeError):
    """A labeling link or owner secret is missing, wrong, expired or revoked."""


class RunAborted(JudgeError):
    """A judge call failed in a way every other call of the run would too (a rejected key, no permission, an
    unknown model): the run stopped at once, marked failed, instead of recording one failure per row."""
