"""The systemd units in deploy/ start commands that exist, and each timer starts its service."""

import configparser
import re
from pathlib import Path

from django.core.management import get_commands

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser


def test_every_service_runs_a_management_command_that_exists():
    services = sorted(DEPLOY.glob("*.service"))
    assert len(services) >= 3
    commands = get_commands()
    for path in services:
        start = unit(path)["Service"]["ExecStart"]
        if "/gunicorn " in start:  # the web server
            assert "minqing.wsgi:application" in start and "--no-control-socket" in start
            continue
        name = re.search(r"django-admin (\w+)", start).group(1)
        assert name in commands, f"{path.name}: no command {name}"


def test_the_web_unit_is_shipped_and_reads_the_same_environment_as_the_timers():
    web = unit(DEPLOY / "minqing-web.service")["Service"]
    sweep = unit(DEPLOY / "minqing-sweep.service")["Service"]
    assert web["EnvironmentFile"] == sweep["EnvironmentFile"] == "/etc/minqing/minqing.env"
    assert web["User"] == sweep["User"] == "minqing"


def test_every_timer_starts_a_service_that_is_shipped():
    for path in sorted(DEPLOY.glob("*.timer")):
        target = unit(path)["Timer"]["Unit"]
        assert (DEPLOY / target).exists(), f"{path.name} starts {target}"
