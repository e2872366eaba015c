"""Chain: an immutable URI template bound to a client, built by attribute, item or ``chain()`` access.

``client.v3.marketing.busifavor.users._openid_.coupons`` is the template
``v3/marketing/busifavor/users/{openid}/coupons``. Each hop makes a new small object and never
changes its parent, so partial chains can be kept and reused.

A verb name is both a call and a segment: ``things._id_.delete(id="1")`` sends DELETE, while
``receivers.delete.post(...)`` sends POST to ``.../receivers/delete``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from ._errors import InvalidRequestError
from ._roots import ROOTS, unknown_root
from ._uri import normalize_segment, split_literal

if TYPE_CHECKING:
    from ._http import Response

__all__ = ["Chain", "Dispatcher", "Verb", "child_template", "new_chain"]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Dispatcher(Protocol[R_co]):
    def _dispatch(self, method: str, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R_co: ...

    def _paginate(self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


def _is_probe(name: str) -> bool:
    """Names that Python internals and IPython look up and that must not become segments."""
    return (name.startswith("__") and name.endswith("__")) or name.startswith(("_repr_", "_ipython_"))


def _join(template: str, segment: str) -> str:
    return f"{template}/{segment}" if template else segment


# (parent template, attribute name) -> child template. A hop is then one dict lookup; bounded, because
# attribute names are code, not data, and a program uses a few hundred of them.
_CHILDREN: dict[tuple[str, str], str] = {}
_CHILDREN_MAX = 8192
_KEPT_CHILDREN = 64  # per chain node


def child_template(template: str, name: str) -> str:
    """The template one attribute hop below ``template``; probe names raise AttributeError."""
    key = (template, name)
    child = _CHILDREN.get(key)
    if child is None:
        if _is_probe(name):
            raise AttributeError(name)
        child = _join(template, normalize_segment(name))
        if len(_CHILDREN) < _CHILDREN_MAX:
            _CHILDREN[key] = child
    return child


def root_chain(client: Dispatcher[R], kept: dict[str, Any] | None, name: str) -> Chain[R]:
    """``client.name``, for a client's ``__getattr__``. Stored in ``kept`` (the client's ``__dict__``), the
    root makes the next ``client.name`` a plain attribute read that never reaches ``__getattr__``;
    ``None`` keeps nothing. Only the known roots start a chain: any other name is an AttributeError."""
    if name not in ROOTS:
        raise unknown_root(client, name)
    root = new_chain(client, child_template("", name))
    if kept is not None:  # at most the four roots: any other name was refused above
        kept[name] = root
    return root


class Chain(Generic[R]):
    """A URI template bound to a client. Verbs send the request: get, post, put, patch, delete."""

    # __dict__ holds the children already reached by attribute (see __getattr__) and the verbs (" GET"…).
    __slots__ = ("__dict__", "_client", "_template")
    _client: Dispatcher[R]
    _template: str

    def __init__(self, client: Dispatcher[R], template: str = "") -> None:
        _set = object.__setattr__
        _set(self, "_client", client)
        _set(self, "_template", template)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Chain is immutable: derive a new one (chain.{name} = ... is not allowed)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Chain is immutable")

    def __copy__(self) -> Chain[R]:
        return self

    def __deepcopy__(self, memo: object) -> Chain[R]:
        return self

    @property
    def template(self) -> str:
        """The URI template text, e.g. ``v3/marketing/busifavor/users/{openid}/coupons``."""
        return self._template

    def __getattr__(self, name: str) -> Chain[R]:
        # Only reached for a name that is not a verb, method or slot. The child is kept in __dict__,
        # so the next ``chain.name`` is a plain attribute read: no call, no new object. Chains are
        # immutable values, so sharing one is invisible; the bound keeps data-driven names from piling up.
        child = new_chain(self._client, child_template(self._template, name))
        children = self.__dict__
        if len(children) < _KEPT_CHILDREN:
            children[name] = child
        return child

    def __getitem__(self, path: str) -> Chain[R]:
        return Chain(self._client, _join(self._template, split_literal(path)))

    def chain(self, path: str) -> Chain[R]:
        """Extend the template with literal text (split on ``/``, no case change)."""
        return self[path]

    if not TYPE_CHECKING:  # at run time only: to a type checker a chain stays not callable, which it reports

        def __call__(self, *args: object, **kwargs: object) -> None:
            last = self._template.rpartition("/")[2]
            raise InvalidRequestError(
                f"{self._template!r} is a path, not a request: {last!r} is not a verb",
                [("verb", "send with .get(), .post(), .put(), .patch() or .delete()")],
            )

    def __repr__(self) -> str:
        return f"<Chain {self._template!r}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Chain):
            return self._client is other._client and self._template == other._template
        return NotImplemented

    def __hash__(self) -> int:
        return hash((id(self._client), self._template))

    def __dir__(self) -> list[str]:
        from ._typed._data import listing  # the endpoint data, read on first use (REPL and Jupyter completion)

        return listing(self._template)

    @overload
    def paginate(
        self: Chain[Coroutine[Any, Any, Response]], *args: Mapping[str, Any], **kwargs: Any
    ) -> AsyncIterator[Any]: ...
    @overload
    def paginate(self: Chain[Response], *args: Mapping[str, Any], **kwargs: Any) -> Iterator[Any]: ...
    def paginate(self, *args: Mapping[str, Any], **kwargs: Any) -> Any:
        """Iterate over the items of every page of a GET that pages (typed endpoints), fetching lazily.

        Same arguments as ``get``, plus ``max_pages`` to stop early. Async clients give an async iterator.
        """
        return self._client._paginate(self._template, args, kwargs)

    @property
    def get(self) -> Verb[R]:
        return self.__dict__.get(" GET") or _kept_verb(self, "GET")

    @property
    def post(self) -> Verb[R]:
        return self.__dict__.get(" POST") or _kept_verb(self, "POST")

    @property
    def put(self) -> Verb[R]:
        return self.__dict__.get(" PUT") or _kept_verb(self, "PUT")

    @property
    def patch(self) -> Verb[R]:
        return self.__dict__.get(" PATCH") or _kept_verb(self, "PATCH")

    @property
    def delete(self) -> Verb[R]:
        return self.__dict__.get(" DELETE") or _kept_verb(self, "DELETE")


_new = object.__new__
_slot: dict[str, Any] = dict(vars(Chain))
_set_client = _slot["_client"].__set__
_set_template = _slot["_template"].__set__


def new_chain(client: Dispatcher[R], template: str) -> Chain[R]:
    """Chain(client, template) without the cost of a call to ``__init__`` (the hot path of every hop)."""
    node: Chain[R] = _new(Chain)
    _set_client(node, client)
    _set_template(node, template)
    return node


def new_verb(client: Dispatcher[R], parent: str, method: str) -> Verb[R]:
    """Verb(client, parent, method) without the cost of two ``__init__`` calls (every request makes one)."""
    verb: Verb[R] = _new(Verb)
    _set_client(verb, client)
    _set_template(verb, _join(parent, _VERB_SEGMENTS[method]))
    _set_parent(verb, parent)
    _set_method(verb, method)
    return verb


def _kept_verb(chain: Chain[R], method: str) -> Verb[R]:
    """``chain.get`` etc., kept in the chain's ``__dict__`` beside its children (under a key with a space,
    which no attribute name has), so a chain that is reused makes its verbs once."""
    verb = new_verb(chain._client, chain._template, method)
    kept = chain.__dict__
    if len(kept) < _KEPT_CHILDREN:
        kept[" " + method] = verb
    return verb


_VERB_SEGMENTS = {"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}


class _VerbDoc:
    """A verb's ``__doc__`` is its endpoint's title, doc link, parameters and an example (``help()``, ``?``)."""

    def __get__(self, verb: Verb[Any] | None, owner: type) -> str:
        if verb is not None:
            from ._typed._data import verb_doc

            text = verb_doc(verb._method, verb._parent)
            if text is not None:
                return text
        return _VERB_DOC


_VERB_DOC = """``chain.get`` etc.: call it to send, or keep chaining to use the verb's name as a segment."""


class Verb(Chain[R]):
    __doc__ = _VerbDoc()
    __slots__ = ("_method", "_parent")
    _method: str
    _parent: str

    def __init__(self, client: Dispatcher[R], parent: str, method: str) -> None:
        super().__init__(client, _join(parent, method.lower()))
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_method", method)

    def __call__(self, *args: Mapping[str, Any], **kwargs: Any) -> R:
        """Send the request. Path placeholders and options (query, json, data, headers, timeout,
        base_url) are keyword arguments; one positional dict of the same is accepted too."""
        return self._client._dispatch(self._method, self._parent, args, kwargs)

    def __repr__(self) -> str:
        return f"<Verb {self._method} {self._parent!r}>"


_verb_slot: dict[str, Any] = dict(vars(Verb))
_set_parent = _verb_slot["_parent"].__set__
_set_method = _verb_slot["_method"].__set__
