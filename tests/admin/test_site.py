"""The admin site as a whole: the product's name, the models' names."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_index_names_the_product_and_the_models_properly(staff):
    html = staff.get("/admin/").content.decode()
    assert "Everruns operations" in html and "Django administration" not in html
    for name in ("LLM providers", "LLM models", "Worker processes", "Sessions", "Turns"):
        assert name in html, name
    assert "Llm providers" not in html and "Worker processs" not in html
