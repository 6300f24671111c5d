"""Request and response shapes of the session filesystem (contract 2.11)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import PublicIdField, StrictBooleanField, StrictCharField, TimestampField

from . import services
from .models import SessionFile


class FileInfoSerializer(serializers.ModelSerializer):
    """A file or directory without its content (listings, stat, move, copy)."""

    id = PublicIdField("file", read_only=True)
    session_id = PublicIdField("session", read_only=True)
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    class Meta:
        model = SessionFile
        fields = [
            "id",
            "session_id",
            "path",
            "name",
            "is_directory",
            "is_readonly",
            "size_bytes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SessionFileSerializer(FileInfoSerializer):
    """A file with its content: text, or base64 when binary (NUL in the first 8 KB) or not UTF-8.

    Directories carry `content: null` and `encoding: null`.
    """

    content = serializers.SerializerMethodField()
    encoding = serializers.SerializerMethodField()

    class Meta(FileInfoSerializer.Meta):
        fields = [*FileInfoSerializer.Meta.fields[:4], "content", "encoding", *FileInfoSerializer.Meta.fields[4:]]
        read_only_fields = fields

    def _encoded(self, obj: SessionFile) -> tuple[str | None, str | None]:
        # Both fields come from one pass over the bytes; cached per row for this serializer.
        cache = self.__dict__.setdefault("_encoded_cache", {})
        if obj.pk not in cache:
            cache[obj.pk] = (None, None) if obj.is_directory else services.content_encode(services.file_bytes(obj))
        return cache[obj.pk]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_content(self, obj: SessionFile) -> str | None:
        return self._encoded(obj)[0]

    @extend_schema_field({"type": "string", "enum": list(services.ENCODINGS), "nullable": True})
    def get_encoding(self, obj: SessionFile) -> str | None:
        return self._encoded(obj)[1]


class FileListSerializer(serializers.Serializer):
    """A directory listing: `{data: [FileInfo], total}`."""

    # SerializerMetaclass moves declared fields into _declared_fields: this does not shadow Serializer.data.
    data = FileInfoSerializer(many=True)  # type: ignore[assignment]
    total = serializers.IntegerField()


class SessionFileCreateSerializer(serializers.Serializer):
    """Create a file (`content`, `encoding`, `is_readonly`) or a directory (`is_directory: true`)."""

    content = StrictCharField(required=False, default="", allow_blank=True, trim_whitespace=False)
    encoding = serializers.ChoiceField(choices=services.ENCODINGS, default=services.ENCODING_TEXT)
    is_directory = StrictBooleanField(default=False)
    is_readonly = StrictBooleanField(default=False)


class SessionFileUpdateSerializer(serializers.Serializer):
    """Replace a file's content."""

    content = StrictCharField(allow_blank=True, trim_whitespace=False)
    encoding = serializers.ChoiceField(choices=services.ENCODINGS, default=services.ENCODING_TEXT)


class FileListQuerySerializer(serializers.Serializer):
    recursive = serializers.BooleanField(default=False, help_text="Include all descendants, not just children.")


class FileDeleteQuerySerializer(serializers.Serializer):
    recursive = serializers.BooleanField(default=False, help_text="Required to delete a non-empty directory.")


class FileDeletedSerializer(serializers.Serializer):
    deleted = serializers.BooleanField()


class FileStatRequestSerializer(serializers.Serializer):
    path = StrictCharField(trim_whitespace=False)


class FileTransferRequestSerializer(serializers.Serializer):
    """Body of move and copy."""

    src_path = StrictCharField(trim_whitespace=False)
    dst_path = StrictCharField(trim_whitespace=False)


class FileGrepRequestSerializer(serializers.Serializer):
    pattern = StrictCharField(trim_whitespace=False, help_text="Regular expression (Python syntax).")
    path_pattern = StrictCharField(
        required=False,
        allow_null=True,
        trim_whitespace=False,
        help_text="Glob over the full path when it contains '/', else over the file name (e.g. '*.md').",
    )


class GrepMatchSerializer(serializers.Serializer):
    path = StrictCharField()
    line_number = serializers.IntegerField()
    line = StrictCharField()


class GrepFileSerializer(serializers.Serializer):
    path = StrictCharField()
    matches = GrepMatchSerializer(many=True)


class GrepResultSerializer(serializers.Serializer):
    """`{data: [{path, matches}], total, truncated}`; `truncated` when a scan or match cap was hit."""

    # SerializerMetaclass moves declared fields into _declared_fields: this does not shadow Serializer.data.
    data = GrepFileSerializer(many=True)  # type: ignore[assignment]
    total = serializers.IntegerField()
    truncated = serializers.BooleanField()
