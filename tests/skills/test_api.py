"""/v1/skills: create, update (versions), list, content, upload, validate, usage, config, delete."""

import io
import zipfile

import pytest

from apps.skills.models import Skill, SkillVersion

pytestmark = pytest.mark.django_db

PDF = """---
name: pdf-processing
description: Extract text and tables from PDF files.
license: MIT
allowed-tools: [read_file, write_file]
metadata:
  owner: docs-team
---

# PDF processing

Use pdfplumber to read the pages.
"""


def create(api_client, text=PDF):
    return api_client.post("/v1/skills", {"skill_md": text}, format="json")


def test_create_get_and_content(api_client):
    response = create(api_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("skill_") and body["capability_id"] == f"skill:{body['id']}"
    assert {k: body[k] for k in ("name", "description", "version", "source_type", "status", "license")} == {
        "name": "pdf-processing",
        "description": "Extract text and tables from PDF files.",
        "version": "1",
        "source_type": "markdown",
        "status": "active",
        "license": "MIT",
    }
    assert body["allowed_tools"] == "read_file, write_file" and body["metadata"] == {"owner": "docs-team"}
    assert body["user_invocable"] is True and body["disable_model_invocation"] is False
    assert api_client.get(f"/v1/skills/{body['id']}").json()["name"] == "pdf-processing"
    assert api_client.get(f"/v1/skills/{body['id']}/content").json() == {"skill_md": PDF, "files": []}


def test_update_makes_a_new_version_and_keeps_the_old_one(api_client):
    skill = create(api_client).json()
    changed = PDF.replace("pdfplumber", "pypdf")
    updated = api_client.patch(f"/v1/skills/{skill['id']}", {"skill_md": changed}, format="json")
    assert updated.status_code == 200 and updated.json()["version"] == "2"
    assert api_client.get(f"/v1/skills/{skill['id']}/content").json()["skill_md"] == changed
    assert list(SkillVersion.objects.values_list("version", "skill_md")) == [("1", PDF)]
    # A declared version wins.
    declared = changed.replace("license: MIT", "license: MIT\nversion: 2.1.0")
    assert (
        api_client.patch(f"/v1/skills/{skill['id']}", {"skill_md": declared}, format="json").json()["version"]
        == "2.1.0"
    )


def test_list_search_archive_delete(api_client):
    first = create(api_client).json()
    second = create(api_client, "---\nname: refunds\ndescription: Refund policy.\n---\nRefund within 30 days.").json()
    assert api_client.get("/v1/skills").json()["total"] == 2
    assert [s["id"] for s in api_client.get("/v1/skills?search=REFUND").json()["data"]] == [second["id"]]
    archived = api_client.patch(f"/v1/skills/{second['id']}", {"status": "archived"}, format="json").json()
    assert archived["status"] == "archived" and archived["archived_at"]
    assert [s["id"] for s in api_client.get("/v1/skills").json()["data"]] == [first["id"]]
    assert api_client.get("/v1/skills?include_archived=true").json()["total"] == 2
    assert api_client.delete(f"/v1/skills/{first['id']}").status_code == 204
    assert api_client.get(f"/v1/skills/{first['id']}").json() == {"error": "Skill not found", "status": 404}
    assert create(api_client).status_code == 201  # the name is free again


def test_duplicate_name_is_409_and_invalid_skill_md_is_422(api_client):
    assert create(api_client).status_code == 201
    assert create(api_client).json() == {"error": "A skill with this name already exists", "status": 409}
    bad = create(api_client, "---\nname: Not A Slug\ndescription: x\n---\nbody")
    assert bad.status_code == 422 and bad.json()["error"].startswith("Invalid SKILL.md: 'name' must be")
    assert create(api_client, "no front matter").status_code == 422
    aliases = "---\nname: a\ndescription: &d x\nmetadata: {k: *d}\n---\nbody"
    assert create(api_client, aliases).status_code == 422
    assert api_client.post("/v1/skills", {"skill_md": 5}, format="json").status_code == 400
    assert Skill.objects.count() == 1


def test_validate(api_client):
    ok = api_client.post("/v1/skills/validate", {"skill_md": PDF + "\n"}, format="json").json()
    assert ok == {
        "valid": True,
        "name": "pdf-processing",
        "description": "Extract text and tables from PDF files.",
        "errors": [],
        "warnings": [],
    }
    bad = api_client.post("/v1/skills/validate", {"skill_md": "---\nname: x\ncolour: red\n---\n"}, format="json")
    assert bad.json() == {
        "valid": False,
        "name": "x",
        "description": None,
        "errors": ["'description' is required"],
        "warnings": [
            "Unknown front matter key 'colour' is ignored",
            "SKILL.md has no instructions after the front matter",
        ],
    }
    assert not Skill.objects.exists()


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_upload_an_archive(api_client):
    data = _zip({"pdf/SKILL.md": PDF, "pdf/reference/forms.md": "# Forms", "pdf/scripts/extract.py": "print(1)"})
    response = api_client.generic("POST", "/v1/skills/upload", data, content_type="application/zip")
    assert response.status_code == 201, response.content
    assert response.json()["source_type"] == "archive"
    content = api_client.get(f"/v1/skills/{response.json()['id']}/content").json()
    assert content["files"] == [
        {"path": "reference/forms.md", "content": "# Forms"},
        {"path": "scripts/extract.py", "content": "print(1)"},
    ]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"not a zip", 422),
        (_zip({"README.md": "no skill"}), 422),
        (_zip({"SKILL.md": PDF, "../evil.md": "x"}), 422),
        (_zip({"SKILL.md": PDF, "bin.dat": b"\xff\xfe\x00"}), 422),
    ],
)
def test_bad_archives(api_client, data, status):
    response = api_client.generic("POST", "/v1/skills/upload", data, content_type="application/zip")
    assert response.status_code == status, response.content
    assert not Skill.objects.exists()


def test_archive_too_large_is_413(api_client, settings):
    from apps.skills import services

    data = b"x" * (services.MAX_ARCHIVE_BYTES + 1)
    response = api_client.generic("POST", "/v1/skills/upload", data, content_type="application/zip")
    assert response.json() == {"error": "Archive too large", "status": 413}


def test_usage_counts_agents(api_client):
    skill = create(api_client).json()
    other = create(api_client, "---\nname: unused\ndescription: Nobody uses it.\n---\nx").json()
    for name in ("A", "B"):
        response = api_client.post(
            "/v1/agents",
            {"name": name, "system_prompt": "p", "capabilities": [skill["capability_id"]]},
            format="json",
        )
        assert response.status_code == 201, response.content
    usage = api_client.get("/v1/skills/usage").json()
    assert usage == {skill["id"]: {"agents": 2, "harnesses": 0}}
    assert other["id"] not in usage


def test_other_organizations_see_nothing(api_client, other_org_client):
    skill = create(api_client).json()
    assert other_org_client.get("/v1/skills").json() == {"data": [], "total": 0}
    for method, path in (("get", ""), ("patch", ""), ("delete", ""), ("get", "/content")):
        response = getattr(other_org_client, method)(f"/v1/skills/{skill['id']}{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    attach = other_org_client.post(
        "/v1/agents", {"name": "T", "system_prompt": "p", "capabilities": [skill["capability_id"]]}, format="json"
    )
    assert attach.json() == {"error": f"Unknown capability: {skill['capability_id']}", "status": 422}


def test_config(api_client):
    assert api_client.get("/v1/skills/config").json()["policies"]["create"] is True
