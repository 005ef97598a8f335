"""Personal API tokens: issued and withdrawn with an audit entry, and gone with the password.

A token outlived a password reset (the browser session ended, `Bearer mq_…` still read the
residents), and who made one when was written nowhere. Issuing and withdrawing are audited;
a new password withdraws every token of its user (User.save).
"""

from minqing.accounts.access import home_node
from minqing.accounts.models import ApiToken
from minqing.core.audit import audit_log
from minqing.core.models import AuditAction


def token_issue(*, user, name: str, request=None) -> tuple[ApiToken, str]:
    token, raw = ApiToken.issue(user=user, name=name)
    audit_log(actor=user, action=AuditAction.CREATE, obj=token,
              changes={"name": [None, token.name], "key_prefix": [None, token.prefix]},
              request=request, node=home_node(user))  # fmt: skip
    return token, raw


def token_withdraw(*, user, pk: int, request=None) -> bool:
    token = user.api_tokens.filter(pk=pk).first()
    if token is None:
        return False
    audit_log(actor=user, action=AuditAction.DELETE, obj=token,
              changes={"name": [token.name, None], "key_prefix": [token.prefix, None]},
              request=request, node=home_node(user))  # fmt: skip
    token.delete()
    return True
