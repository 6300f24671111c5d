"""The one "find this row in the caller's organization" step.

Every org-owned lookup (viewsets' `get_object`, services resolving ids from bodies, selectors shared
between apps) goes through `get_in_org`, so a foreign row and a missing row are the same 404.
"""

import uuid
from typing import Any

from django.db.models import Model, QuerySet

from .exceptions import NotFound


def get_in_org[M: Model](
    source: type[M] | QuerySet[M],
    *,
    organization: Model | uuid.UUID,
    not_found: str = "Not found",
    organization_field: str = "organization",
    **lookup: Any,
) -> M:
    """The row of `source` (a model or a queryset) matching `lookup` in `organization`; else 404 `not_found`.

    A lookup value of None (an id that did not parse) is not found either, without a query.
    `organization` may be an Organization or its primary key.
    """
    if any(value is None for value in lookup.values()):
        raise NotFound(not_found)
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    org_key = organization_field if isinstance(organization, Model) else f"{organization_field}_id"
    row = queryset.filter(**{org_key: organization, **lookup}).first()
    if row is None:
        raise NotFound(not_found)
    return row
