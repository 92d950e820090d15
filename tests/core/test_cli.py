"""The `portal` command: migrate, demo, demo --json, plugins, createadmin (issue A)."""

import json
import os
import subprocess
import sys

import pyotp


def run_portal(*args: str, data_dir, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATA_DIR": str(data_dir), **(extra_env or {})})
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], env=env, capture_output=True, text=True, timeout=120)


def test_demo_json_lists_every_account_with_its_secrets(tmp_path):
    result = run_portal("demo", "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    accounts = {a["username"]: a for a in json.loads(result.stdout)}
    assert "admin" in accounts["admin"]["roles"]
    assert accounts["admin"]["email"].startswith("admin@")
    assert len(pyotp.TOTP(accounts["admin"]["totp_secret"]).now()) == 6
    assert accounts["enrol"]["totp_secret"] is None
    roles = {role for a in accounts.values() for role in a["roles"]}
    assert {"staff", "department_head", "office_head", "leader", "director", "print_room", "secretary", "admin", "data_officer"} <= roles


def test_migrate_then_demo_seeds_once_then_plugins_and_createadmin(tmp_path):
    assert run_portal("migrate", data_dir=tmp_path).returncode == 0
    assert (tmp_path / "portal.sqlite3").exists()
    first = run_portal("demo", data_dir=tmp_path)
    assert first.returncode == 0 and "Demo organisation created" in first.stdout
    again = run_portal("demo", data_dir=tmp_path)
    assert again.returncode == 0 and "Demo organisation created" not in again.stdout
    listing = run_portal("plugins", data_dir=tmp_path)
    lines = {line.split("\t")[0]: line.split("\t") for line in listing.stdout.splitlines()}
    assert {"webmail", "edoc", "disclosure", "catalog"} <= set(lines)
    assert lines["webmail"][2] == "enabled"
    created = run_portal("createadmin", "boss", "--password", "a-long-password-1", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    duplicate = run_portal("createadmin", "boss", "--password", "a-long-password-1", data_dir=tmp_path)
    assert duplicate.returncode == 2
    assert duplicate.stderr.startswith("error: ") and "Traceback" not in duplicate.stderr


def test_plugins_setting_disables_a_builtin(tmp_path):
    listing = run_portal("plugins", data_dir=tmp_path, extra_env={"PORTAL_PLUGINS": "webmail,edoc"})
    states = {line.split("\t")[0]: line.split("\t")[2] for line in listing.stdout.splitlines()}
    assert states["webmail"] == "enabled" and states["catalog"] == "disabled"
