"""The platform registry names every service folder, and every name in it resolves."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import pytest

from services.common import registry
from workflows import lifecycle_activities, message_retention

SERVICES_DIR = Path(registry.__file__).resolve().parent.parent


def test_every_service_folder_has_its_entry_in_the_registry() -> None:
    folders = {
        path.name
        for path in SERVICES_DIR.iterdir()
        if path.is_dir() and (path / "main.py").exists()
    }
    assert folders, "no service folder found"
    assert folders == set(registry.names()), (
        "services/ and services/common/registry.py disagree: "
        f"folders without an entry {sorted(folders - set(registry.names()))}, "
        f"entries without a folder {sorted(set(registry.names()) - folders)}"
    )


def test_each_schema_has_its_migrations_folder() -> None:
    for name in registry.schemas():
        assert (SERVICES_DIR / name / "migrations" / "env.py").exists(), name


@pytest.mark.parametrize("service", registry.SERVICES, ids=lambda s: s.name)
def test_each_entry_names_code_that_exists(service: registry.Service) -> None:
    assert callable(registry.load(service.app))
    if service.activities:
        assert callable(registry.load(service.activities))


def test_the_ports_are_distinct() -> None:
    ports = [s.port for s in registry.SERVICES]
    assert len(ports) == len(set(ports))


def test_the_worker_entries_resolve() -> None:
    for path in registry.WORKER.workflows:
        assert hasattr(registry.load(path), "__temporal_workflow_definition")
    for schedule_id, factory in registry.WORKER.schedules:
        assert isinstance(registry.load(schedule_id), str)
        assert callable(registry.load(factory))
    assert registry.load(registry.WORKER.bridge)


def test_an_unknown_service_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="orders"):
        registry.service("nope")


def _definition(fn: object) -> tuple[str, list[object], object]:
    defn = fn.__temporal_activity_definition  # type: ignore[attr-defined]
    hints = typing.get_type_hints(fn)
    params = [
        hints[p.name]
        for p in inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
        if p.name != "self"
    ]
    return defn.name, params, hints.get("return")


class _Pool:
    """Stands in for the pool: building the activities opens no connection."""


def test_every_declared_activity_has_one_implementation_of_the_same_shape() -> None:
    """The workflows' interfaces and the services' implementations agree on name, input
    and output, so a worker never lacks an activity that a workflow calls."""
    from lifecare.worker import activities
    from services.common.settings import Settings

    implemented: dict[str, tuple[str, list[object], object]] = {}
    for fn in activities(_Pool(), Settings(env="test")):  # type: ignore[arg-type]
        name, params, result = _definition(fn)
        assert name not in implemented, f"two implementations of {name}"
        implemented[name] = (name, params, result)
    declared = [*lifecycle_activities.INTERFACE, message_retention.delete_old_messages]
    for stub in declared:
        name, params, result = _definition(stub)
        assert name in implemented, f"no service implements the activity {name}"
        assert implemented[name] == (name, params, result), f"{name} differs from its interface"


@pytest.mark.parametrize("service", registry.apis(), ids=lambda s: s.name)
def test_each_app_starts_the_consumers_its_entry_names(service: registry.Service) -> None:
    """The registry describes each service's event consumers, and the app factory builds
    an app only when what it starts is that."""
    from services.common.settings import Settings

    module = importlib.import_module(service.app.partition(":")[0])
    assert sorted(module.SPEC.consumers) == sorted(service.consumers)
    assert registry.build_app(service.name, Settings(env="test")).state.service == service.name


def test_an_app_that_starts_other_consumers_than_its_entry_is_refused() -> None:
    from fastapi import APIRouter

    from services.common.app import ServiceSpec, create_app
    from services.common.settings import Settings

    spec = ServiceSpec(name="billing", title="t", router=APIRouter(), consumers={"events": {}})
    with pytest.raises(RuntimeError, match=r"starts the consumers \['events'\].*'read-model'"):
        create_app(spec, Settings(env="test"))
    unknown = ServiceSpec(name="test", title="t", router=APIRouter(), consumers={"x": {}})
    with pytest.raises(RuntimeError, match="names \\[\\]"):
        create_app(unknown, Settings(env="test"))
