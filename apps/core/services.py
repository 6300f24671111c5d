"""Generic write helpers shared by the app services."""

from django.db import models


def model_update(*, instance: models.Model, fields: list[str], data: dict) -> tuple[models.Model, bool]:
    """Set the given fields from `data` (only keys present), full_clean and save the changed ones.

    Returns (instance, changed).
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        instance.full_clean()
        if any(f.name == "updated_at" for f in instance._meta.fields):
            changed.append("updated_at")
        instance.save(update_fields=changed)
    return instance, bool(changed)
