"""Field validators of the LLM catalogue."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError


def validate_base_url(value: str) -> None:
    """An absolute http(s) URL with a host.

    Django's URLValidator is not used on purpose: it rejects single-label host names such as
    `http://ollama:11434/v1`, which are normal for OpenAI-compatible servers inside a private network.
    """
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        raise ValidationError("Enter a valid http(s) URL.", code="invalid") from None
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or not port_ok
        or any(ch.isspace() or ord(ch) < 32 for ch in value)
    ):
        raise ValidationError("Enter a valid http(s) URL.", code="invalid")


MODALITIES = ("text", "image", "audio", "video")


def validate_modality(value: str) -> None:
    """One of the contract's modality values (3.7): text, image, audio, video."""
    if value not in MODALITIES:
        raise ValidationError("Unknown modality.", code="invalid_choice")
