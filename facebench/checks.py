"""Option and parameter checks shared by configs, tasks and dataset types.

Each check raises a one-line :class:`~facebench.errors.ConfigError` that names where (``where``),
the parameter, the bad value and what is allowed, so that a typo or an out-of-range value is
refused when a config is planned, not when a job reads its data::

    dataset 'x': unknown parameter(s) tset_fraction; did you mean test_fraction? (known: root, test_fraction, ...)
    dataset 'x': test_fraction must be a number in (0, 1), got 1.5

:class:`ParamRule` declares what one parameter takes (built with :func:`integer`, :func:`count`,
:func:`fraction`, :func:`number`, :func:`choice`, :func:`flag`, :func:`text` or :data:`ANY`);
:func:`check_params` applies a mapping of them to a parameter dict (what
:class:`facebench.tasks.base.DatasetSpec` ``params`` declares). Core: imports only the errors and
the did-you-mean helper.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .errors import ConfigError
from .suggest import did_you_mean


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _known_list(known: Iterable[Any]) -> list[str]:
    """The known names as listed: a set sorted, a sequence or mapping in its own order."""
    names = [str(k) for k in known]
    return sorted(names) if isinstance(known, (set, frozenset)) else names


def refuse_unknown(keys: Iterable[Any], known: Iterable[Any], where: str, what: str = "key") -> None:
    """ConfigError if ``keys`` holds a name not in ``known``: ``<where>: unknown <what>(s) a, b;
    did you mean c? (known: ...)``, the hint for the first unknown name when one is close."""
    listed = _known_list(known)
    unknown = sorted({str(k) for k in keys} - set(listed))
    if unknown:
        raise ConfigError(f"{_at(where)}unknown {what}(s) {', '.join(unknown)}{did_you_mean(unknown[0], listed)} "
                          f"(known: {', '.join(listed) or 'none'})")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def describe_range(minimum: float | None, maximum: float | None, open_low: bool = False, open_high: bool = False) -> str:
    """`` in (0, 1)``, `` >= 1``, `` < 5`` or ``""``: the allowed range as a message writes it."""
    if minimum is not None and maximum is not None:
        return f" in {'(' if open_low else '['}{_fmt(minimum)}, {_fmt(maximum)}{')' if open_high else ']'}"
    if minimum is not None:
        return f" {'>' if open_low else '>='} {_fmt(minimum)}"
    if maximum is not None:
        return f" {'<' if open_high else '<='} {_fmt(maximum)}"
    return ""


def _within(v: float, minimum, maximum, open_low: bool, open_high: bool) -> bool:
    """Whether ``v`` lies in the range (NaN never does)."""
    low = minimum is None or (v > minimum if open_low else v >= minimum)
    high = maximum is None or (v < maximum if open_high else v <= maximum)
    return bool(low and high)


def check_int(value: Any, name: str, where: str = "", minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int if it is an integer (not a bool) within [minimum, maximum]; else ConfigError."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or not _within(int(value), minimum, maximum, False, False):
        raise ConfigError(f"{_at(where)}{name} must be an integer{describe_range(minimum, maximum)}, got {value!r}")
    return int(value)


def check_number(value: Any, name: str, where: str = "", minimum: float | None = None, maximum: float | None = None,
                 open_low: bool = False, open_high: bool = False) -> float:
    """``value`` as a float if it is a real number (not a bool) within the range; else ConfigError."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not _within(float(value), minimum, maximum, open_low, open_high):
        raise ConfigError(f"{_at(where)}{name} must be a number{describe_range(minimum, maximum, open_low, open_high)}, "
                          f"got {value!r}")
    return float(value)


def check_fraction(value: Any, name: str, where: str = "", open_low: bool = True, open_high: bool = True) -> float:
    """``value`` as a float in (0, 1) (``open_low``/``open_high`` False: that end included); else ConfigError."""
    return check_number(value, name, where, 0, 1, open_low, open_high)


def check_choice(value: Any, name: str, where: str = "", choices: Iterable[Any] = ()) -> Any:
    """``value`` if it is one of ``choices``; else ConfigError listing them (with a did-you-mean hint)."""
    choices = tuple(choices)
    if any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in choices):  # True is not 1
        return value
    hint = did_you_mean(value, [str(c) for c in choices]) if isinstance(value, str) else ""
    raise ConfigError(f"{_at(where)}{name} must be one of {', '.join(str(c) for c in choices)}, got {value!r}{hint}")


def check_bool(value: Any, name: str, where: str = "") -> bool:
    """``value`` if it is true or false (a YAML boolean); else ConfigError."""
    if not isinstance(value, bool):
        raise ConfigError(f"{_at(where)}{name} must be true or false, got {value!r}")
    return value


def check_text(value: Any, name: str, where: str = "") -> str:
    """``value`` if it is a non-empty string; else ConfigError."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{_at(where)}{name} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class ParamRule:
    """What values one declared parameter takes.

    ``kind``: ``any`` (not checked here: the loader's own check reads it), ``bool``, ``int``,
    ``number``, ``choice`` (one of ``choices``) or ``text``; ``minimum``/``maximum`` bound an int
    or a number (``open_low``/``open_high``: that bound excluded); ``nullable``: None is accepted
    too (the loader then uses its default).
    """

    kind: str = "any"
    minimum: float | None = None
    maximum: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple[Any, ...] = ()
    nullable: bool = False

    def check(self, value: Any, name: str, where: str = "") -> None:
        """ConfigError naming ``name``, the value and the allowed range if ``value`` breaks the rule."""
        if self.kind == "any" or (value is None and self.nullable):
            return
        if self.kind == "bool":
            check_bool(value, name, where)
        elif self.kind == "int":
            check_int(value, name, where, self.minimum, self.maximum)
        elif self.kind == "number":
            check_number(value, name, where, self.minimum, self.maximum, self.open_low, self.open_high)
        elif self.kind == "choice":
            check_choice(value, name, where, self.choices)
        elif self.kind == "text":
            check_text(value, name, where)
        else:
            raise ValueError(f"unknown ParamRule kind {self.kind!r}")


ANY = ParamRule()


def integer(minimum: int | None = None, maximum: int | None = None, nullable: bool = False) -> ParamRule:
    """An integer within [minimum, maximum] (a seed: no bounds)."""
    return ParamRule("int", minimum, maximum, nullable=nullable)


def count(nullable: bool = False) -> ParamRule:
    """An integer >= 1 (a number of items or scenes)."""
    return integer(1, nullable=nullable)


def number(minimum: float | None = None, maximum: float | None = None, open_low: bool = False,
           open_high: bool = False) -> ParamRule:
    """A real number within the range."""
    return ParamRule("number", minimum, maximum, open_low, open_high)


def fraction(open_low: bool = True, open_high: bool = True) -> ParamRule:
    """A number in (0, 1); ``open_low``/``open_high`` False admits that end."""
    return number(0, 1, open_low, open_high)


def choice(*values: Any, nullable: bool = False) -> ParamRule:
    """One of ``values``."""
    return ParamRule("choice", choices=tuple(values), nullable=nullable)


def flag() -> ParamRule:
    """true or false."""
    return ParamRule("bool")


def text(nullable: bool = False) -> ParamRule:
    """A non-empty string."""
    return ParamRule("text", nullable=nullable)


def check_params(params: Mapping[str, Any], rules: Mapping[str, ParamRule], where: str = "",
                 what: str = "parameter", ignore: Iterable[str] = ()) -> None:
    """Refuse a key of ``params`` that ``rules`` does not declare (keys in ``ignore`` excepted:
    what the caller adds itself), then check each declared parameter's value against its rule."""
    ignored = set(ignore)
    refuse_unknown((k for k in params if k not in ignored), rules, where, what)
    for key, value in params.items():
        if key in rules:
            rules[key].check(value, str(key), where)
