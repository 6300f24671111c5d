"""Abstract bases shared by the resource apps."""

from django.db import models

from .ids import uuid7


class TimeStampedModel(models.Model):
    """Adds created_at / updated_at."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PublicModel(TimeStampedModel):
    """UUIDv7 primary key rendered as `{prefix}_{hex}` by the API."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True
