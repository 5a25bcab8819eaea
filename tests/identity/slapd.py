"""A real OpenLDAP server for tests, and the organisation the LDAP sync tests read.

:func:`running_slapd` starts Debian's ``slapd`` on 127.0.0.1 on a free port with a configuration
generated into a temporary folder (mdb database, the core, cosine, inetorgperson and nis schemas,
a generated root DN password, a read-only service account and a self-signed certificate for
StartTLS), and stops it by its PID. The server's size limit is far below what the tests read, so
only a paged search reads it all.
:func:`add_organisation` adds people, teams and nested teams under a base of a test's own.
``tests/identity/test_ldap_sync.py`` wraps them in fixtures: one server per test process
(session scope, so once per xdist worker), one organisation per test.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SCHEMAS = Path("/etc/ldap/schema")
INSTALL = (
    "slapd is not installed (no /usr/sbin/slapd); the LDAP tests need a real OpenLDAP server: "
    "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils "
    "(make test does this)"
)
SUFFIX = "dc=pavedroad,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=catalog-reader,{SUFFIX}"
SIZE_LIMIT = 5
STARTUP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Slapd:
    """A running server: where it listens, its root (admin) and the sync's service account."""

    url: str
    root_password: str
    reader_password: str
    certificate: Path  # the server's self-signed certificate: the CA file StartTLS trusts
    process: subprocess.Popen[bytes]

    root_dn: str = ROOT_DN
    reader_dn: str = READER_DN

    def admin(self) -> ldap3.Connection:
        """A connection bound as the root DN, to change the directory a test reads."""
        return ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE),
            self.root_dn,
            self.root_password,
            auto_bind=True,
            raise_exceptions=True,
        )


@contextmanager
def running_slapd(folder: Path) -> Iterator[Slapd]:
    """A slapd of its own in ``folder``; fails (never skips) when slapd is not installed."""
    if not SLAPD.exists() or not SLAPADD.exists():
        pytest.fail(INSTALL, pytrace=False)
    root_password, reader_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    certificate = _write_certificate(folder)
    config = _write_config(folder, root_password)
    _load_base(folder, config, reader_password)
    process, url = _start(folder, config)
    try:
        yield Slapd(url, root_password, reader_password, certificate, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _write_config(folder: Path, root_password: str) -> Path:
    (folder / "data").mkdir()
    includes = "\n".join(
        f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    config = folder / "slapd.conf"
    config.write_text(
        f"""{includes}
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key
# Plain searches stop after {SIZE_LIMIT} entries; paged ones may read everything.
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
database mdb
maxsize 67108864
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {root_password}
directory {folder}/data
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""
    )
    return config


def _write_certificate(folder: Path) -> Path:
    """A key and a self-signed certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = folder / "server.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def _load_base(folder: Path, config: Path, reader_password: str) -> None:
    ldif = folder / "base.ldif"
    ldif.write_text(
        f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: pavedroad tests
dc: pavedroad

dn: {READER_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: catalog-reader
userPassword: {reader_password}
"""
    )
    subprocess.run(
        [str(SLAPADD), "-f", str(config), "-l", str(ldif)], check=True, capture_output=True
    )


def _start(folder: Path, config: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start slapd in the foreground (``-d 0``) so that its PID is ours to stop."""
    for _ in range(3):  # another process may take the free port before slapd binds it
        url = f"ldap://127.0.0.1:{_free_port()}"
        with open(folder / "slapd.log", "ab") as log:
            process = subprocess.Popen(
                [str(SLAPD), "-f", str(config), "-h", f"{url}/", "-d", "0"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_listening(process, url):
            return process, url
        process.kill()
        process.wait()
    log_text = (folder / "slapd.log").read_text(errors="replace")
    raise RuntimeError(f"slapd did not start; its log:\n{log_text}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(process: subprocess.Popen[bytes], url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            time.sleep(0.02)
        else:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Organisation:
    """The DNs of one test's organisation, under ``base``."""

    base: str

    @property
    def people(self) -> str:
        return f"ou=people,{self.base}"

    @property
    def teams(self) -> str:
        return f"ou=teams,{self.base}"

    def person(self, uid: str) -> str:
        return f"uid={uid},{self.people}"

    def team(self, cn: str) -> str:
        return f"cn={cn},{self.teams}"


PEOPLE = {  # uid: (cn, mail)
    "alice": ("Alice Liddell", "alice@example.com"),
    "bob": ("Bob Builder", "bob@example.com"),
    "carol": ("Carol Danvers", "carol@example.com"),
    "dave": ("Dave Lister", "dave@example.com"),
    "erin": ("Erin Brockovich", "erin@example.com"),
    "frank": ("Frank Poole", "frank@example.com"),
    "Zoë.Müller": ("Zoë Müller", "zoe@example.com"),
}


def add_organisation(admin: ldap3.Connection, base: str) -> Organisation:
    """People, teams and nested teams under ``base``, as the root DN adds them.

    engineering holds the teams "Platform Team" and payments; security-guild holds payments too,
    so payments has two parents. payments also lists a contractor outside ou=people.
    """
    org = Organisation(base)
    admin.add(base, ["organizationalUnit"], {"ou": base.split(",")[0].split("=")[1]})
    admin.add(org.people, ["organizationalUnit"], {"ou": "people"})
    admin.add(org.teams, ["organizationalUnit"], {"ou": "teams"})
    for uid, (cn, mail) in PEOPLE.items():
        admin.add(
            org.person(uid),
            ["inetOrgPerson"],
            {"uid": uid, "cn": cn, "sn": cn.split()[-1], "mail": mail},
        )
    teams = {
        "Platform Team": [org.person("alice"), org.person("bob"), org.person("Zoë.Müller")],
        "payments": [org.person("carol"), org.person("dave"), f"uid=ghost,ou=contractors,{base}"],
        "engineering": [org.team("Platform Team"), org.team("payments")],
        "security-guild": [org.person("erin"), org.team("payments")],
    }
    for cn, members in teams.items():
        admin.add(
            org.team(cn),
            ["groupOfNames"],
            {"cn": cn, "member": members, "description": f"The {cn} team"},
        )
    return org


def delete_subtree(admin: ldap3.Connection, base: str) -> None:
    """Remove ``base`` and everything below it, leaves first."""
    admin.search(base, "(objectClass=*)", attributes=[])
    for dn in sorted((entry.entry_dn for entry in admin.entries), key=len, reverse=True):
        admin.delete(dn)
