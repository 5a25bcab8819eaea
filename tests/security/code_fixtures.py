"""Small vulnerable repositories for the SAST and secrets tests, written into a folder.

The fake secrets are put together at run time, so this file itself holds none (our own
secrets scan, and push protection, would rightly stop it otherwise)."""

from __future__ import annotations

from pathlib import Path

PYTHON = """\
import hashlib
import subprocess

import yaml


def run(command):
    subprocess.call(command, shell=True)


def load(path):
    with open(path) as stream:
        return yaml.load(stream)


def digest(text):
    return hashlib.md5(text.encode()).hexdigest()
"""

JAVASCRIPT = """\
const express = require('express');
const cp = require('child_process');
const crypto = require('crypto');
const https = require('https');
const serialize = require('node-serialize');
const app = express();

app.get('/run', (req, res) => {
  eval(req.query.x);
  cp.exec("ls " + req.query.dir);
  db.query("SELECT * FROM users WHERE id = " + req.query.id);
  db.query("SELECT * FROM users WHERE id = $1", [req.query.id]);
  crypto.createHash('md5').update('x').digest('hex');
  https.request({ host: 'example.com', rejectUnauthorized: false });
  const password = "hunter2hunter2";
  serialize.unserialize(req.body);
  document.getElementById('out').innerHTML = req.query.name;
  document.getElementById('out').innerHTML = "<b>constant</b>";
});
"""

JAVA = """\
import java.io.*;
import java.security.MessageDigest;
import java.sql.*;
import javax.net.ssl.*;
import javax.script.ScriptEngine;
import javax.servlet.http.*;

public class Users {
    private static final String DB_PASSWORD = "s3cr3t-passw0rd";

    public ResultSet find(Connection connection, String name) throws Exception {
        Statement statement = connection.createStatement();
        return statement.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
    }

    public ResultSet safe(Connection connection, String name) throws Exception {
        PreparedStatement statement =
            connection.prepareStatement("SELECT * FROM users WHERE name = ?");
        statement.setString(1, name);
        return statement.executeQuery();
    }

    public void run(String input) throws Exception {
        Runtime.getRuntime().exec(input);
        MessageDigest.getInstance("MD5");
    }

    public Object read(InputStream in) throws Exception {
        ObjectInputStream stream = new ObjectInputStream(in);
        return stream.readObject();
    }

    public Object evaluate(ScriptEngine engine, String code) throws Exception {
        return engine.eval(code);
    }

    public void greet(HttpServletRequest request, HttpServletResponse response) throws Exception {
        response.getWriter().write("Hello " + request.getParameter("name"));
    }

    class TrustAll implements HostnameVerifier {
        public boolean verify(String host, SSLSession session) {
            return true;
        }
    }
}
"""

GO = """\
package main

import (
	"crypto/md5"
	"crypto/tls"
	"database/sql"
	"fmt"
	"html/template"
	"os/exec"
)

const apiKey = "sk-abcdef123456"

func run(db *sql.DB, input string) {
	exec.Command("sh", "-c", input).Run()
	exec.Command("ls", "-l").Run()
	db.Query(fmt.Sprintf("SELECT * FROM users WHERE id = %s", input))
	db.Query("SELECT * FROM users WHERE id = $1", input)
	md5.Sum([]byte(input))
	_ = &tls.Config{InsecureSkipVerify: true}
	_ = template.HTML(input)
}
"""

# Every rule we ship, and the bandit tests the Python file trips.
EXPECTED_SEMGREP_RULES = {
    "js-eval-injection", "js-command-injection", "js-sql-built-from-strings", "js-weak-hash",
    "js-tls-verification-disabled", "js-hardcoded-credential", "js-insecure-deserialization",
    "js-xss-html-sink",
    "java-sql-built-from-strings", "java-command-injection", "java-weak-hash",
    "java-tls-verification-disabled", "java-hardcoded-credential",
    "java-insecure-deserialization", "java-script-eval", "java-xss-response-writer",
    "go-command-injection", "go-sql-built-from-strings", "go-weak-hash",
    "go-tls-verification-disabled", "go-hardcoded-credential", "go-xss-unescaped-html",
}  # fmt: skip


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def vulnerable_repository(root: Path) -> Path:
    """Python, JavaScript, Java and Go with one of each flaw; the same code again in folders
    that are never scanned (.venv, node_modules)."""
    return write(
        root,
        {
            "app/main.py": PYTHON,
            "web/app.js": JAVASCRIPT,
            "src/main/java/Users.java": JAVA,
            "cmd/server/main.go": GO,
            "tests/test_main.py": PYTHON,
            ".venv/lib/site.py": PYTHON,
            "node_modules/left-pad/index.js": JAVASCRIPT,
        },
    )


def fake_secrets() -> dict[str, str]:
    """One made-up secret per pattern: rule → the secret (what must never be shown)."""
    return {
        "aws-access-key-id": "AKIA" + "Q3EXAMPLE7KEY9ZZ",
        "aws-secret-access-key": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzEXAMPLEKE",
        "gcp-service-account-key": "0123456789abcdef" * 2 + "01234567",
        "azure-storage-account-key": "Zm9vYmFy" * 10 + "Zm9vYm" + "==",
        "github-token": "ghp_" + "a1B2c3D4e5F6" * 3,
        "github-fine-grained-token": "github_pat_" + "11ABCDEFG0" * 2 + "ab" + "_" + "x" * 59,
        "gitlab-token": "glpat-" + "Zq7Xk2Lp9Wm4Rt6Yv8Bn",
        "slack-token": "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx",
        "stripe-live-key": "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "jwt": "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N",
        "connection-string-password": "S3cretPassw0rd",
    }


def secrets_repository(root: Path) -> tuple[Path, dict[str, str]]:
    """A repository with each kind of secret once, in the places secrets are found."""
    secret = fake_secrets()
    private_key = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + "x" * 60 + "\n"
    files: dict[str, str | bytes] = {
        "settings.py": (
            f'AWS_ACCESS_KEY_ID = "{secret["aws-access-key-id"]}"\n'
            f'aws_secret_access_key = "{secret["aws-secret-access-key"]}"\n'
            f'GITHUB_TOKEN = "{secret["github-token"]}"\n'
            f'GITHUB_FINE = "{secret["github-fine-grained-token"]}"\n'
            f'GITLAB = "{secret["gitlab-token"]}"\n'
        ),
        "config/app.yaml": (
            f"slack: {secret['slack-token']}\n"
            f"stripe: {secret['stripe-live-key']}\n"
            f"database: postgresql://app:{secret['connection-string-password']}@db.internal:5432/app\n"
            "template: postgresql://app:${DATABASE_PASSWORD}@db.internal:5432/app\n"
        ),
        "deploy/service-account.json": (
            '{"type": "service_account", '
            f'"private_key_id": "{secret["gcp-service-account-key"]}"}}\n'
        ),
        "deploy/storage.env": (
            "AZURE=DefaultEndpointsProtocol=https;AccountName=demo;"
            f"AccountKey={secret['azure-storage-account-key']};EndpointSuffix=core.windows.net\n"
        ),
        "web/session.js": f'const token = "{secret["jwt"]}";\n',
        "keys/id_rsa": private_key,
        "docs/allowed.md": f"example: {secret['github-token']}  # pragma: allowlist secret\n",
        # never scanned: lock files, SBOMs, binaries, tool folders
        "package-lock.json": f'{{"token": "{secret["github-token"]}"}}\n',
        "poetry.lock": f'token = "{secret["github-token"]}"\n',
        "sbom.cdx.json": f'{{"token": "{secret["github-token"]}"}}\n',
        "bom.json": f'{{"token": "{secret["github-token"]}"}}\n',
        "image.bin": b"\x00\x01binary" + secret["github-token"].encode(),
        "node_modules/dep/index.js": f'const t = "{secret["github-token"]}";\n',
        ".venv/lib/site.py": f'T = "{secret["github-token"]}"\n',
        ".git/config": f"token = {secret['github-token']}\n",
    }
    return write(root, files), secret
