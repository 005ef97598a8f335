"""Field errors under the names the client sent, and the errors every operation documents.

The services name fields as the pages do (`household`, `node`, `user`); an API payload names
them `household_id`, `node_code`, `username`. A client matching errors to its own fields should
not have to know the difference.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from ninja import NinjaAPI


@contextmanager
def payload_names(**names: str):
    """Re-raise a service's ValidationError with its fields renamed: payload_names(node="node_code")."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from None


# ------------------------------------------------------------------ answers every operation gives

UNSAFE_METHODS = ("post", "put", "patch", "delete")


def _ref(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


# Status → (which operations, description, body schema). Said once here rather than on each
# of the API's decorators, where they were missing from every one (a client's generated code,
# or schemathesis, met answers the schema did not list).
COMMON_ANSWERS = {
    400: (
        "all",
        "Bad Request: a NUL character in the address or the query, a body that cannot be read, "
        "or what the service refuses (errors by field; {} when no field is to blame)",
        "FieldErrorsOut",
    ),
    401: (
        "all",
        "Unauthorized: no session and no valid `Authorization: Bearer` token",
        "ErrorOut",
    ),
    403: (
        "unsafe",
        "Forbidden: not allowed to do this, or a signed-in browser's write without its CSRF token",
        "ErrorOut",
    ),
    405: ("all", "Method Not Allowed: the address takes other methods (see Allow)", "ErrorOut"),
    422: (
        "all",
        "Unprocessable Content: a parameter or the body does not fit the schema "
        '({"detail": "输入有误", "errors": {field: [reason]}})',
        "FieldErrorsOut",
    ),
}


def document_common_answers(schema: dict) -> dict:
    """Add the answers any operation may give (COMMON_ANSWERS) to each operation of an OpenAPI
    schema; an answer an operation documents itself is kept."""
    from ninja.openapi.schema import REF_TEMPLATE
    from ninja.schema import NinjaGenerateJsonSchema

    from minqing.api.schemas import ErrorOut, FieldErrorsOut

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorOut, FieldErrorsOut):
        components.setdefault(
            model.__name__,
            model.model_json_schema(
                ref_template=REF_TEMPLATE,
                schema_generator=NinjaGenerateJsonSchema,
                mode="serialization",
            ),
        )
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for status, (which, description, body) in COMMON_ANSWERS.items():
                if which == "unsafe" and method not in UNSAFE_METHODS:
                    continue
                responses.setdefault(status, {"description": description, "content": _ref(body)})
    return schema


class API(NinjaAPI):
    """The NinjaAPI whose OpenAPI schema lists the answers every operation may give."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_common_answers(schema)
