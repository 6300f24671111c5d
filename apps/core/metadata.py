"""The body of OPTIONS responses (REST_FRAMEWORK["DEFAULT_METADATA_CLASS"])."""

from rest_framework.metadata import SimpleMetadata


class ViewMetadata(SimpleMetadata):
    """OPTIONS answers the view's name, description, renderers and parsers (plus the Allow header).

    DRF's default also describes each writable action's serializer fields, which calls get_object() and
    get_serializer() outside the action that normally guards them: views whose lookups are not a plain
    queryset (the session filesystem) answered 500. The OpenAPI document describes the fields instead.
    """

    def determine_actions(self, request, view) -> dict:
        return {}
