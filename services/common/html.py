"""The one way the services render HTML (the printable views): Jinja2 templates in the
service's `templates/` folder, over `services/common/templates/`, always autoescaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2


@lru_cache
def _environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates"),
                jinja2.PackageLoader("services.common", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(package: str, template: str, **context: Any) -> str:
    """A page of `package`'s template (e.g. "services.orders", "print_order.html")."""
    return _environment(package).get_template(template).render(**context)
