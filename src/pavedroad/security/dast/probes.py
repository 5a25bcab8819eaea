"""Our own quick DAST probes: what a browser would let an attacker use on a running service.

They look at the start page and the same-origin links and GET forms on it (a bounded crawl):
security headers, cookie flags, CORS, version banners, open redirects and reflected input.
Each request has a short timeout; the whole probe run stops at its deadline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from pavedroad.security.findings import Finding

TOOL = "pavedroad-dast"
MAX_URLS = 25
MARKER = "pdr7x"
PAYLOAD = f"{MARKER}<\"'>{MARKER}"
EVIL_ORIGIN = "https://attacker.pavedroad-probe.invalid"
REDIRECT_TARGET = "https://pavedroad-probe.invalid/landing"
REDIRECT_PARAMETERS = {
    "next",
    "url",
    "redirect",
    "redirect_uri",
    "return",
    "return_to",
    "returnto",
    "continue",
    "dest",
    "destination",
    "goto",
    "target",
}
_VERSIONED = re.compile(r"\d+\.\d+")
_SESSION_COOKIE = re.compile(r"sess|auth|token|sid|jwt", re.IGNORECASE)


@dataclass(slots=True)
class _Page:
    links: list[str] = field(default_factory=list)
    forms: list[tuple[str, list[str]]] = field(default_factory=list)  # GET forms: action, inputs


class _LinkParser(HTMLParser):
    def __init__(self, page: _Page) -> None:
        super().__init__()
        self.page = page
        self._form: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "a" and values.get("href"):
            self.page.links.append(values["href"])
        elif tag == "form" and values.get("method", "get").lower() == "get":
            self._form = (values.get("action") or "", [])
            self.page.forms.append(self._form)
        elif (
            tag in ("input", "textarea", "select") and self._form is not None and values.get("name")
        ):
            self._form[1].append(values["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def probe(base_url: str, *, deadline: float, client: httpx.Client) -> list[Finding]:
    """Every finding of the probes against ``base_url`` (stops quietly at ``deadline``)."""
    start = client.get(base_url, headers={"origin": EVIL_ORIGIN})
    findings = [
        *_headers(base_url, start),
        *_cookies(base_url, start),
        *_cors(base_url, start),
        *_banners(base_url, start),
    ]
    for url in _targets(base_url, start):
        if time.monotonic() > deadline:
            break
        findings.extend(_redirects(url, client))
        findings.extend(_reflections(url, client))
    return _unique(findings)


def _finding(rule: str, severity: str, message: str, url: str, cwe: str) -> Finding:
    return Finding(
        tool=TOOL,
        kind="dast",
        rule=rule,
        severity=severity,
        message=message,
        confidence="high",
        url=url,
        cwe=cwe,
    )


def _headers(url: str, response: httpx.Response) -> list[Finding]:
    headers = response.headers
    found = []
    if "content-security-policy" not in headers:
        found.append(
            _finding(
                "missing-csp",
                "low",
                "No Content-Security-Policy header: add one (start with default-src 'self')",
                url,
                "CWE-693",
            )
        )
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        found.append(
            _finding(
                "missing-nosniff",
                "low",
                "X-Content-Type-Options is not nosniff: set it",
                url,
                "CWE-693",
            )
        )
    framing = "frame-ancestors" in headers.get("content-security-policy", "")
    if "x-frame-options" not in headers and not framing:
        found.append(
            _finding(
                "missing-frame-protection",
                "low",
                "Pages can be framed (clickjacking): set X-Frame-Options: DENY or "
                "CSP frame-ancestors",
                url,
                "CWE-1021",
            )
        )
    if urlsplit(url).scheme == "https" and "strict-transport-security" not in headers:
        found.append(
            _finding(
                "missing-hsts",
                "medium",
                "No Strict-Transport-Security header on HTTPS: set it",
                url,
                "CWE-319",
            )
        )
    return found


def _cookies(url: str, response: httpx.Response) -> list[Finding]:
    found = []
    for raw in response.headers.get_list("set-cookie"):
        name = raw.split("=", 1)[0].strip()
        flags = {part.strip().split("=", 1)[0].lower() for part in raw.split(";")[1:]}
        sensitive = bool(_SESSION_COOKIE.search(name))
        if "httponly" not in flags:
            found.append(
                _finding(
                    "cookie-without-httponly",
                    "medium" if sensitive else "low",
                    f"Cookie {name!r} is readable by scripts: add HttpOnly",
                    url,
                    "CWE-1004",
                )
            )
        if "samesite" not in flags:
            found.append(
                _finding(
                    "cookie-without-samesite",
                    "low",
                    f"Cookie {name!r} has no SameSite: add SameSite=Lax",
                    url,
                    "CWE-1275",
                )
            )
        if urlsplit(url).scheme == "https" and "secure" not in flags:
            found.append(
                _finding(
                    "cookie-without-secure",
                    "medium",
                    f"Cookie {name!r} is sent over plain HTTP: add Secure",
                    url,
                    "CWE-614",
                )
            )
    return found


def _cors(url: str, response: httpx.Response) -> list[Finding]:
    allowed = response.headers.get("access-control-allow-origin", "")
    credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
    if allowed == EVIL_ORIGIN:
        severity = "high" if credentials else "medium"
        return [
            _finding(
                "cors-reflects-origin",
                severity,
                "CORS allows any origin (it echoes Origin)"
                + (" with credentials" if credentials else "")
                + ": allow a fixed list of origins",
                url,
                "CWE-942",
            )
        ]
    if allowed == "*":
        return [
            _finding(
                "cors-wildcard",
                "high" if credentials else "low",
                "CORS allows every origin (*): allow a fixed list of origins",
                url,
                "CWE-942",
            )
        ]
    return []


def _banners(url: str, response: httpx.Response) -> list[Finding]:
    found = []
    for header in ("server", "x-powered-by", "x-aspnet-version"):
        value = response.headers.get(header, "")
        if _VERSIONED.search(value):
            found.append(
                _finding(
                    "version-banner",
                    "low",
                    f"{header} reveals software versions ({value}): remove it",
                    url,
                    "CWE-200",
                )
            )
    return found


def _targets(base_url: str, start: httpx.Response) -> list[str]:
    """Same-origin URLs with query parameters: the page's links and its GET forms filled in."""
    page = _Page()
    if "html" in start.headers.get("content-type", ""):
        _LinkParser(page).feed(start.text)
    origin = urlsplit(base_url)[:2]
    urls = [urljoin(base_url, link) for link in page.links]
    for action, inputs in page.forms:
        target = urljoin(base_url, action or base_url)
        urls.append(f"{target}?{urlencode(dict.fromkeys(inputs, 'probe'))}")
    wanted = [u for u in dict.fromkeys(urls) if urlsplit(u)[:2] == origin and urlsplit(u).query]
    return wanted[:MAX_URLS]


def _with_parameter(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(key, value if key == name else old) for key, old in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirects(url: str, client: httpx.Client) -> list[Finding]:
    found = []
    for name, _ in parse_qsl(urlsplit(url).query):
        if name.lower() not in REDIRECT_PARAMETERS:
            continue
        response = client.get(_with_parameter(url, name, REDIRECT_TARGET))
        if response.is_redirect and response.headers.get("location", "").startswith(
            REDIRECT_TARGET
        ):
            found.append(
                _finding(
                    "open-redirect",
                    "medium",
                    f"Parameter {name!r} redirects anywhere: allow only relative "
                    "paths or a list of hosts",
                    url.split("?")[0],
                    "CWE-601",
                )
            )
    return found


def _reflections(url: str, client: httpx.Client) -> list[Finding]:
    found = []
    for name, _ in parse_qsl(urlsplit(url).query):
        response = client.get(_with_parameter(url, name, PAYLOAD))
        if PAYLOAD in response.text and "html" in response.headers.get("content-type", ""):
            found.append(
                _finding(
                    "reflected-input",
                    "high",
                    f"Parameter {name!r} is reflected into HTML unescaped "
                    "(cross-site scripting): escape output",
                    url.split("?")[0],
                    "CWE-79",
                )
            )
    return found


def _unique(findings: list[Finding]) -> list[Finding]:
    return list({finding.fingerprint: finding for finding in findings}.values())
