"""Seed: a demo agent in the default organization, created once.

It is remembered by a fixed public id, so renaming, editing or archiving it never brings a second
copy back on the next `make run` (agents are never hard-deleted, not even in the admin).
"""

import uuid
from io import TextIOBase

from django.db import transaction

from apps.accounts.models import DEFAULT_ORG_ID, Organization

from . import services
from .models import Agent

DEMO_AGENT_PUBLIC_ID = uuid.UUID("00000000-0000-7000-8000-00000000de00")  # agent_0000000000007000800000000000de00


@transaction.atomic
def run(stdout: TextIOBase) -> None:
    organization = Organization.objects.filter(pk=DEFAULT_ORG_ID).first()
    if organization is None:
        return
    if Agent.objects.filter(organization=organization, public_id=DEMO_AGENT_PUBLIC_ID).exists():
        return
    agent = services.agent_create(
        organization=organization,
        public_id=DEMO_AGENT_PUBLIC_ID,
        name="Demo Assistant",
        description="A friendly demo agent: tells the time, does arithmetic and keeps notes in session files.",
        system_prompt=(
            "You are a helpful, concise assistant. Use your tools when they help: check the current time "
            "instead of guessing, use the math tools for arithmetic, and save notes to files when asked."
        ),
        tags=["demo"],
        capabilities=["current_time", "test_math", "session_file_system"],
    )
    stdout.write(f"seed: demo agent {agent.name!r} created")
