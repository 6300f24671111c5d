"""SDK `client.harnesses`: list, search, get, create (with a parent), update, delete, examples; the built-in
`generic` harness is there in every organization and is read-only."""

import pytest

from tests.sdk.conftest import everruns_sdk

ApiError = everruns_sdk.ApiError


def test_every_organization_has_a_read_only_generic_harness(sdk):
    listed = sdk.harnesses.list()
    generic = next(h for h in listed if h.name == "generic")
    assert generic.is_built_in is True and generic.status == "active"
    assert sdk.harnesses.get(generic.id).id == generic.id
    assert sdk.harnesses.get("generic").id == generic.id  # by name too

    with pytest.raises(ApiError) as update:
        sdk.harnesses.update(generic.id, system_prompt="changed")
    assert update.value.status_code == 403
    with pytest.raises(ApiError) as delete:
        sdk.harnesses.delete(generic.id)
    assert delete.value.status_code == 403
    assert sdk.harnesses.get(generic.id).system_prompt is None  # nothing changed


def test_create_get_search_update_and_archive(sdk):
    generic = sdk.harnesses.get("generic")
    created = sdk.harnesses.create(
        "support-base",
        "You are part of the support team.",
        display_name="Support base",
        description="Shared by every support agent",
        capabilities=[everruns_sdk.AgentCapabilityConfig(ref="current_time")],
        initial_files=[everruns_sdk.InitialFile(path="/notes/faq.md", content="# FAQ")],
        network_access=everruns_sdk.NetworkAccessList(allowed=["docs.example.com"]),
        parent_harness_id=generic.id,
        tags=["support"],
    )
    assert created.id.startswith("harness_") and created.is_built_in is False
    got = sdk.harnesses.get(created.id)
    assert got.name == "support-base" and got.parent_harness_id == generic.id
    assert got.system_prompt == "You are part of the support team."
    assert [c.ref for c in got.capabilities] == ["current_time"]
    assert [(f.path, f.content) for f in got.initial_files] == [("/notes/faq.md", "# FAQ")]
    assert got.network_access is not None and got.network_access.allowed == ["docs.example.com"]
    assert got.tags == ["support"]

    assert [h.id for h in sdk.harnesses.search("SUPPORT team")] == []  # the prompt is not searched
    assert [h.id for h in sdk.harnesses.search("every support")] == [created.id]
    assert created.id in [h.id for h in sdk.harnesses.list()]

    updated = sdk.harnesses.update(created.id, display_name="Support", tags=["support", "v2"])
    assert updated.display_name == "Support" and updated.tags == ["support", "v2"]
    assert updated.system_prompt == "You are part of the support team."  # untouched

    sdk.harnesses.delete(created.id)
    assert created.id not in [h.id for h in sdk.harnesses.list()]
    archived = sdk.harnesses.get(created.id)
    assert archived.status == "archived" and archived.archived_at is not None


def test_bad_input_is_a_clear_error(sdk):
    sdk.harnesses.create("taken", "x")
    with pytest.raises(ApiError) as duplicate:
        sdk.harnesses.create("taken", "y")
    assert duplicate.value.status_code == 409
    with pytest.raises(ApiError) as unknown_parent:
        sdk.harnesses.create("orphan", "x", parent_harness_id="harness_" + "0" * 32)
    assert unknown_parent.value.status_code == 404
    with pytest.raises(everruns_sdk.NotFoundError):
        sdk.harnesses.get("harness_" + "0" * 32)


def test_examples_are_listed(sdk):
    examples = sdk.harnesses.list_examples()
    assert "generic" in [e.name for e in examples]
    assert all(e.display_name and e.description for e in examples)
