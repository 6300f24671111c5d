"""Content negotiation that never answers 406: the API speaks JSON whatever `Accept` says (seed api-overview).

Nor 404 for a `?format=` no renderer knows: `format` is an ordinary query parameter of some operations
(GET /v1/sessions/{id}/export?format=jsonl|json), which the view reads itself.
"""

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JSONFirstContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        # Most clients send no Accept header (or */*): that is the view's first renderer, as DRF
        # would conclude after parsing; skip the parsing on every request.
        if (
            not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", "")
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except (NotAcceptable, Http404):
            renderer = renderers[0]
            return renderer, renderer.media_type
