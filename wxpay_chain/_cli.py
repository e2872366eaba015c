"""What every ``wxpay-chain`` subcommand shares: client settings, output, errors and exit codes.

A subcommand is a :class:`Command` (help, ``add_arguments(parser)``, ``run(args) -> int``) registered in
``__main__.COMMANDS``. Its ``run`` writes answers to stdout and everything else to stderr, and raises
instead of printing errors: :func:`run_command` turns an exception into one line on stderr and exit
code 1 (:class:`UsageError`: 2), and a reader that closed the pipe (``| head``) into silence.

Nothing but the answer ever reaches stdout: status lines go through :func:`note`, which drops them when
stderr is closed (``2>&-``) rather than letting ``print(file=None)`` send them to stdout; answers are
written as UTF-8 bytes (JSON is UTF-8 by RFC 8259), whatever the locale says stdout's encoding is.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import re
import signal
import sys
import threading
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ._http import Response
    from ._sync import Client

__all__ = [
    "Command",
    "CommandError",
    "UsageError",
    "add_client_arguments",
    "blocking_client",
    "client_options",
    "configure_logging",
    "note",
    "pairs",
    "path_params",
    "prompt_apiv3_key",
    "require_stdout",
    "run_command",
    "stderr_is_terminal",
    "stdout_bytes",
    "terminated_as_interrupted",
    "typed_query",
    "write_answer",
]

log = logging.getLogger("wxpay_chain.cli")

EXIT_ERROR, EXIT_USAGE, EXIT_PIPE, EXIT_INTERRUPT = 1, 2, 141, 130  # 141, 130: as if killed by SIGPIPE, SIGINT
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class UsageError(Exception):
    """The command line itself is wrong (exit code 2)."""


class CommandError(Exception):
    """The command cannot do its work, for a reason its message names with what to do (exit code 1)."""


@attrs.frozen
class Command:
    """One subcommand: its help line, its arguments, and what it does (returns an exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- client settings -----------------------------------------------------------------------------


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--brand``; without ``--config`` the client is configured from WXPAY_* variables."""
    parser.add_argument(
        "--config",
        default=None,
        help="a JSON file of settings: the config.json `wxpay-chain sandbox` writes, or your own with mchid, "
        "serial, private_key, pub_key_id and pub_key (default: the WXPAY_* environment variables)",
    )
    parser.add_argument("--brand", action="store_true", help="with --config: sign as its brand (brand/ paths)")


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """Client keyword arguments from ``--config`` or the environment; asks for the APIv3 key if nothing
    else can verify answers and a terminal is there to ask."""
    from ._env import options_from_config, options_from_env
    from ._errors import ConfigurationError

    if args.config is None and args.brand:
        raise UsageError("--brand reads the brand_* settings of --config; with WXPAY_* set WXPAY_BRAND_ID instead")
    ask = prompt_apiv3_key if _interactive() else None
    if args.config is not None:
        return options_from_config(args.config, {}, brand=args.brand, ask_apiv3_key=ask)
    try:
        return options_from_env(None, {}, ask_apiv3_key=ask)
    except ConfigurationError as exc:  # its text speaks of variables only; on the command line there is more
        raise ConfigurationError(f"{exc} (or pass --config FILE: the sandbox's config.json, or your own)") from None


def blocking_client(args: argparse.Namespace) -> Client:
    from ._sync import Client

    return Client(**client_options(args))


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def prompt_apiv3_key() -> str:
    """Ask for the APIv3 key without echoing it (kept out of argv, shell history and ``ps``)."""
    try:
        return getpass.getpass("APIv3 key (not shown): ").strip()
    except EOFError:
        raise UsageError(
            "no APIv3 key given: set WXPAY_APIV3_KEY (or apiv3_key in --config), or run in a terminal to be asked"
        ) from None


# -- input ---------------------------------------------------------------------------------------


def pairs(items: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} takes NAME=VALUE, got {item!r}")
        if name in out:  # the last one would be sent, silently
            raise UsageError(f"{option} {name} is given twice; give each name once")
        out[name] = value
    return out


def path_params(template: str, items: Sequence[str], elsewhere: str) -> dict[str, str]:
    """``--param NAME=VALUE`` pairs checked against the template's placeholders, before anything is sent.

    Only placeholders pass, so a ``--param`` never reaches the SDK as one of its keywords (``json=``,
    ``timeout=``); ``elsewhere`` says which flags take what the user may have meant.
    """
    from ._uri import placeholders

    if "://" in template:  # the SDK's own error would tell a programmer to set base_url=
        raise UsageError(
            f"{template} is a URL; give the path (v3/...): the host comes from base_url in --config, or WXPAY_BASE_URL"
        )
    values = pairs(items, "--param")
    names = placeholders(template)
    for name in values:
        if name not in names:
            if not names:
                raise UsageError(f"--param {name}: {template} has no placeholders ({elsewhere})")
            takes = ", ".join(f"--param {n}=VALUE" for n in names)
            raise UsageError(f"--param {name}: {template} has no {{{name}}}; it takes {takes} ({elsewhere})")
    missing = [name for name in names if name not in values]
    if missing:
        raise UsageError(f"{template} needs {', '.join(f'--param {n}=VALUE' for n in missing)}")
    return values


_WHOLE = re.compile(r"-?[0-9]+").fullmatch


def typed_query(method: str, template: str, query: Mapping[str, str]) -> dict[str, Any]:
    """Query text from a shell, converted where the endpoint's typed model declares a number or a boolean.

    Everything else stays text, so an id made of digits is sent as it was typed.
    """
    from .models import lookup

    spec = lookup(method, template)
    if spec is None or spec.query is None:
        return dict(query)
    declared = typing.get_type_hints(spec.query)
    out: dict[str, Any] = {}
    for name, text in query.items():
        kinds = set(typing.get_args(declared.get(name))) or {declared.get(name)}
        if int in kinds and bool not in kinds:
            if not _WHOLE(text):  # int() would also take " 0", "5_0" and "١٢", and send another text than typed
                raise UsageError(f"--query {name}: {spec.query.__name__} declares a whole number (digits, as 12)")
            out[name] = int(text)
        elif bool in kinds:
            if text.lower() not in ("true", "false"):
                raise UsageError(f"--query {name}: {spec.query.__name__} declares true or false")
            out[name] = text.lower() == "true"
        else:
            out[name] = text
    return out


# -- output --------------------------------------------------------------------------------------


def write_answer(response: Response, *, include: bool) -> None:
    """The answer's JSON (or its raw bytes) on stdout; the status line on stderr, or in the JSON with include."""
    from ._roots import is_v2
    from ._unsigned import must_verify
    from ._v2_pipeline import is_v2_file

    body: Any = None
    text = True
    request = response.request
    checked = "signature verified"
    if is_v2(request.template) and not is_v2_file(request.template, response.body):
        body = response.xml()  # checked as it arrived; its fields as JSON, so `| jq` works here too
        checked = "sign checked" if "sign" in body else "unsigned APIv2 answer"
    elif is_v2(request.template) or not must_verify(request.method, request.template, response.headers):
        text, checked = False, "a file WeChat Pay sends unsigned: not verified"  # its bill answer has the hash
    elif response.body:
        try:
            body = response.json()
        except ValueError:
            text = False
    summary = f"{response.status} Request-ID {response.request_id or '-'} ({checked})"
    if include:
        envelope = {"status": response.status, "request_id": response.request_id, "headers": dict(response.headers)}
        envelope["body"] = body if text else response.body.decode("utf-8", "replace")
        _print_json(envelope)
        return
    note(summary)
    if not text:
        _write_stdout(response.body)
    elif response.body:
        _print_json(body)


def _print_json(value: Any) -> None:
    _write_stdout((json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def _write_stdout(data: bytes) -> None:
    out = stdout_bytes()
    out.write(data)
    out.flush()


def require_stdout(what: str) -> None:
    """Refuse to start (exit 1) when stdout is closed (``>&-``): before anything is sent, not after."""
    if sys.stdout is None:
        raise CommandError(f"stdout is closed, so {what} would have nowhere to go; nothing was sent (use >/dev/null)")


class ByteSink(typing.Protocol):
    def write(self, data: bytes, /) -> object: ...
    def flush(self) -> object: ...


def stdout_bytes() -> ByteSink:
    """stdout for bytes, with whatever text was written before flushed ahead of them."""
    require_stdout("the answer")
    sys.stdout.flush()
    buffer: ByteSink | None = getattr(sys.stdout, "buffer", None)
    return _TextSink(sys.stdout) if buffer is None else buffer


@attrs.frozen
class _TextSink:
    """A text-only stdout (``redirect_stdout(io.StringIO())`` around ``main``) takes the bytes as text."""

    stream: typing.TextIO

    def write(self, data: bytes, /) -> int:
        return self.stream.write(data.decode("utf-8", "replace"))

    def flush(self) -> None:
        self.stream.flush()


def note(message: str) -> None:
    """A status line or an error on stderr; with no stderr (``2>&-``) it is dropped, never sent to stdout."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError):  # a diagnostic that cannot be written must not change the outcome
        stream.write(message + "\n")
        stream.flush()


def stderr_is_terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


# -- running -------------------------------------------------------------------------------------


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test may have replaced it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:  # with stderr closed the lines are dropped, not sent to stdout
            super().emit(record)


_HANDLER = _Stderr()
_HANDLER.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def configure_logging(level: str | None) -> None:
    """``--log-level``: the SDK's log lines at ``level`` and above on stderr (the root logger is left alone)."""
    if level is None:
        return
    logger = logging.getLogger("wxpay_chain")
    logger.setLevel(level)
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)


def run_command(name: str, run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one subcommand: errors become one line on stderr, never a traceback (DEBUG logs it)."""
    from ._errors import WxPayError

    try:
        code = run(args)
        if sys.stdout is not None:
            sys.stdout.flush()  # inside the guard: the reader may have gone before the last buffer was written
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPT
    except UsageError as exc:
        _error(f"wxpay-chain {name}: error: {exc}")
        return EXIT_USAGE
    except CommandError as exc:
        _error(f"wxpay-chain {name}: {exc}")
        return EXIT_ERROR
    except WxPayError as exc:
        _error(f"{type(exc).__name__}: {_for_the_command_line(str(exc))}")
        return EXIT_ERROR
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        _error(f"wxpay-chain {name}: {exc.strerror or type(exc).__name__}{where}")
        return EXIT_ERROR
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        _error(f"wxpay-chain {name}: unexpected {type(exc).__name__}: {exc} (--log-level DEBUG shows where)")
        return EXIT_ERROR


def _for_the_command_line(message: str) -> str:
    """An SDK error, with its fix as the command line spells it: a variable or config key, an option."""
    message = message.replace("pass apiv2_key= to the client", "set WXPAY_APIV2_KEY (or apiv2_key in --config)")
    return re.sub(r"Media\(\.\.\., fields=\{'(\w+)': \.\.\.\}\)", r"--field \1=VALUE", message)


def _error(message: str) -> None:
    note(" ".join(message.split()))


def _stdout_to_devnull() -> None:
    # The reader is gone: point stdout at /dev/null, so the interpreter's last flush fails silently too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a captured stdout in tests)
        pass


@contextlib.contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM (``timeout``, systemd, cron's kill) ends the command as Ctrl-C does, through every ``finally``:
    a download's temporary file is removed instead of left behind. Exit status 143, as if killed by it."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
