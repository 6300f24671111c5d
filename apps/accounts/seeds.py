"""Seed: an admin user from DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD (created or updated)."""

import os
from io import TextIOBase

from django.db import transaction

from .models import DEFAULT_ORG_ID, Membership, User


@transaction.atomic
def run(stdout: TextIOBase) -> None:
    email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip().lower()
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
    if not (email and password):
        return
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User(email=email, name=email.split("@")[0])
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, organization_id=DEFAULT_ORG_ID, defaults={"role": "owner"})
    stdout.write(f"seed: admin user {email} {'created' if created else 'updated'}")
