"""Field errors under the names the client sent.

The services name fields as the pages do (`household`, `node`, `user`); an API payload names
them `household_id`, `node_code`, `username`. A client matching errors to its own fields should
not have to know the difference.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError


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
