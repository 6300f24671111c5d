"""Content negotiation that never answers 406: the API speaks JSON whatever `Accept` says (seed api-overview)."""

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
        except NotAcceptable:
            renderer = renderers[0]
            return renderer, renderer.media_type
