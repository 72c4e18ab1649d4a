"""The operators' alert rules and dashboard: valid for Prometheus (promtool), and every
metric they name is one the platform exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import services.common.app
import services.common.bus.metrics  # noqa: F401  (registers the bus's metrics)

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\blifecare_[a-z_]+")


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    for family in REGISTRY.collect():  # a histogram's series exist before any observation
        if family.type == "histogram":
            names.update(f"{family.name}_{part}" for part in ("bucket", "count", "sum"))
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def expressions() -> list[str]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    found = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    found += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return found


def test_every_metric_named_is_exported() -> None:
    named = {m for expr in expressions() for m in METRIC.findall(expr)}
    assert named, "no lifecare metric named"
    assert named - exported() == set()


def test_every_alert_says_how_bad_and_what_it_means() -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make install` installs Debian's prometheus")
    checked = subprocess.run(
        [promtool, "check", "rules", str(MONITORING / "alerts.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_alert_fires_on_trouble_and_stays_quiet_otherwise() -> None:
    """promtool's unit tests of the rules (deploy/monitoring/alerts.test.yaml)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make install` installs Debian's prometheus")
    tested = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=MONITORING,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_of_the_issue_is_there() -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "LifecareOutboxLagging",
        "LifecareEventsDeadLettered",
        "LifecareDeadLetterQueueNotEmpty",
        "LifecareBillingRunNotCompleted",
        "LifecareWorkflowTasksFailing",
    } <= names
