"""`manage.py seed`: the simulated provider and its default model in the default organization (idempotent).

The data migration 0003 already does this on a fresh database; this covers databases where the simulator
was deleted or the default organization was created later.
"""

from apps.accounts.models import DEFAULT_ORG_ID, Organization

from .services import llm_simulated_model_ensure


def run(stdout) -> None:
    organization = Organization.objects.filter(pk=DEFAULT_ORG_ID).first()
    if organization is None:
        return
    model = llm_simulated_model_ensure(organization=organization)
    stdout.write(f"llm: simulated model {model.model_id!r} of provider {model.provider.name!r} is ready")
