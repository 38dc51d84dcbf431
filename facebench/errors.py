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
