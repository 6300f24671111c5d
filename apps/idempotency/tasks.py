"""django.tasks entry points of the idempotency store."""

from django.tasks import task

from .services import idempotency_prune


@task()
def prune_idempotency_keys() -> int:
    """Delete expired Idempotency-Key records (also `manage.py idempotency_prune`)."""
    return idempotency_prune()
