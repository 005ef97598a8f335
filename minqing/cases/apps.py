from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "minqing.cases"
    verbose_name = _("案件")

    def ready(self):
        from django.db import connection

        from minqing.accounts.backends import add_user_figure
        from minqing.cases.models import Notification, Unit

        # The header's bell: the unread count comes with the signed-in user (no statement of its
        # own on every page); cases.selectors.unread_count reads it.
        q = connection.ops.quote_name
        add_user_figure(
            "_minqing_unread",
            f"SELECT COUNT(*) FROM {q(Notification._meta.db_table)} un"
            f" WHERE un.{q('user_id')} = u.{q('id')} AND un.{q('read_at')} IS NULL",
        )
        # The departments the user is a member of (what they see and wait for wherever they
        # are): their ids as text, "3,7", read with the user too (cases.selectors.unit_ids_of).
        members = q(Unit.members.through._meta.db_table)
        unit_id = f"m.{q('unit_id')}"
        joined = (
            f"string_agg(CAST({unit_id} AS text), ',')"
            if connection.vendor == "postgresql"
            else f"group_concat({unit_id}, ',')"
        )
        add_user_figure(
            "_minqing_unit_ids_text",
            f"SELECT {joined} FROM {members} m WHERE m.{q('user_id')} = u.{q('id')}",
        )
