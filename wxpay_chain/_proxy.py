"""The ``proxy=`` and ``trust_env=`` settings: an HTTP forward proxy, its credentials kept apart.

Payment servers often reach WeChat Pay only through an egress proxy. The credentials of
``http://user:pass@proxy:3128`` are split off once, here, so that the address the transport, the
logs, reprs and error messages ever see has none; they travel only in the Proxy-Authorization header.

With ``trust_env=True`` the proxy of each origin comes from HTTPS_PROXY / HTTP_PROXY and NO_PROXY, read
as urllib, curl and aiohttp's ``trust_env`` read them (:func:`proxy_from_environment`), and is then
handled like an explicit one. Unlike aiohttp's ``trust_env``, it never takes server credentials from
~/.netrc: WeChat Pay requests carry their own Authorization.
"""

from __future__ import annotations

import base64
import urllib.request

import attrs
from yarl import URL

from ._errors import ConfigurationError

__all__ = ["ProxySetting", "Route", "parse_proxy", "proxied", "proxy_from_environment", "route"]

_EXAMPLE = "http://proxy.internal:3128 or http://user:password@proxy.internal:3128"


@attrs.frozen(repr=False)
class ProxySetting:
    """A proxy address without credentials, and the credentials (never shown)."""

    url: str
    user: str | None = None
    password: str | None = None

    @property
    def shown(self) -> str:
        """The address as logs and reprs may show it: credentials replaced by ``***``."""
        if self.user is None and self.password is None:
            return self.url
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://***@{rest}"

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization value (Basic, UTF-8 as RFC 7617 allows), or None without credentials."""
        if self.user is None and self.password is None:
            return None
        return "Basic " + base64.b64encode(f"{self.user or ''}:{self.password or ''}".encode()).decode("ascii")

    def __repr__(self) -> str:
        return f"ProxySetting({self.shown!r})"


def parse_proxy(value: object, setting: str = "proxy") -> ProxySetting | None:
    """Check ``proxy=`` (or the variable named ``setting``) and split off its credentials;
    ConfigurationError never quotes the value, which may hold a password."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{setting} must be a URL str like {_EXAMPLE}, or None")
    url = _url(value)
    if url is None:  # raised outside the parser's handler: its error may quote part of the password
        raise ConfigurationError(f"{setting} is not a valid URL; expected something like {_EXAMPLE}")
    host, port = url.host, url.port
    if url.scheme != "http":
        # Without "://" what URL reads as a scheme is the user name of user:password@host: never shown.
        shown = repr(url.scheme) if "://" in value and url.scheme.isalnum() else "no http:// in front"
        raise ConfigurationError(
            f"{setting} must use http:// (it has {shown}): the client speaks plain HTTP to the proxy and "
            f"tunnels TLS to WeChat Pay through it (CONNECT); e.g. {_EXAMPLE}"
        )
    if not host:
        raise ConfigurationError(f"{setting} has no host; expected something like {_EXAMPLE}")
    if url.raw_path not in ("", "/") or url.raw_query_string or url.raw_fragment:
        raise ConfigurationError(f"{setting} must be only scheme, credentials, host and port, e.g. {_EXAMPLE}")
    address = str(URL.build(scheme="http", host=host, port=port))
    if url.user is None and url.password is None:
        return ProxySetting(address)
    return ProxySetting(address, url.user or "", url.password or "")


def _url(value: str) -> URL | None:
    try:
        url = URL(value.strip())
        _ = url.port  # a bad port raises only when read
    except (ValueError, TypeError):
        return None
    return url


def proxy_from_environment(scheme: str, host: str) -> ProxySetting | None:
    """The proxy the environment names for ``scheme://host``: None when NO_PROXY covers the host or no
    HTTPS_PROXY / HTTP_PROXY (either case) is set for the scheme."""
    if urllib.request.proxy_bypass(host):
        return None
    value = urllib.request.getproxies().get(scheme)
    return parse_proxy(value, f"{scheme.upper()}_PROXY") if value else None


Route = tuple[URL | None, dict[str, str] | None]  # the proxy, and the headers its CONNECT carries


def route(proxy: ProxySetting | None) -> Route:
    """Where the transport sends a request through ``proxy``: its address, and its credentials' header."""
    if proxy is None:
        return None, None
    credentials = proxy.authorization
    return URL(proxy.url), None if credentials is None else {"Proxy-Authorization": credentials}


def proxied(
    headers: tuple[tuple[str, str], ...], url: URL, proxy_headers: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    """An http:// request goes to the proxy itself (absolute-form), so it carries the credentials; an
    https:// one carries them on its CONNECT only (``proxy_headers``)."""
    return (*headers, *proxy_headers.items()) if url.scheme == "http" else headers
