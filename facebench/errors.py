"""Exceptions with messages meant for the user: the CLI prints them on one line, no traceback."""


class FacebenchError(Exception):
    """Base class of every error facebench reports to the user."""


class BadInputError(FacebenchError, ValueError):
    """Input data (a feature bundle, a file, a config) is malformed; the message names it."""


class MetricInputError(BadInputError):
    """A bundle lacks what one metric needs (source probabilities, enough samples per class...)."""


class MetricUndefined(FacebenchError):
    """A metric that is undefined for this input by construction (not a failure: FaCe's fairness
    term with K = 2 and rows over the other classes). The board compares the metric on the targets
    where it is defined instead of counting this one against it."""

    PREFIX = "undefined by construction: "

    def __str__(self) -> str:
        return self.PREFIX + super().__str__()


class RegistryError(FacebenchError, KeyError):
    """Unknown or duplicate registry name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(FacebenchError, ValueError):
    """A benchmark config names something that does not exist or is malformed."""


class FacebenchWarning(UserWarning):
    """A result was computed, but with a caveat the user should see (recorded with the result)."""


class ConvergenceWarning(FacebenchWarning):
    """An iterative fit inside a metric stopped at its step cap before its tolerance: the value is
    returned, and the warning (recorded with the scores, shown on the board) says how far it may be."""


class StoreError(FacebenchError):
    """The results store cannot be opened (not SQLite, corrupt, a directory)."""


NUMERICAL_LIBRARIES = frozenset({"numpy", "scipy", "sklearn", "torch", "threadpoolctl"})


def raised_at(exc: BaseException) -> tuple[str, bool]:
    """Where ``exc`` was raised, for a one-line message: ``("path:line in function", inside_library)``.

    The place is the deepest frame of the traceback outside the numerical libraries (numpy, scipy,
    scikit-learn, torch): the line of the metric's own code (a plugin's too) that raised, or that
    called the library call that did. ``inside_library`` says whether a Python frame of one of those
    libraries raised it (numpy.linalg's singular matrix, a scipy routine) rather than that code; an
    error raised inside compiled code with no such frame (numpy's matmul shape mismatch) counts as
    the calling code's. The path is relative to the working directory when it lies under it.
    ``("", False)`` without a traceback.
    """
    import os

    place, in_library = "", False
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        in_library = module.split(".", 1)[0] in NUMERICAL_LIBRARIES
        if not in_library:
            path = tb.tb_frame.f_code.co_filename
            try:
                rel = os.path.relpath(path)
                path = rel if not rel.startswith(os.pardir) else path
            except ValueError:  # another drive (Windows)
                pass
            place = f"{path}:{tb.tb_lineno} in {tb.tb_frame.f_code.co_name}"
        tb = tb.tb_next
    return place, in_library
