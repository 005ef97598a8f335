from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "minqing.cases"
    verbose_name = "案件"

    def ready(self):
        from django.db import connection

        from minqing.accounts.backends import add_user_figure
        from minqing.cases.models import Notification

        # The header's bell: the unread count comes with the signed-in user (no statement of its
        # own on every page); cases.selectors.unread_count reads it.
        q = connection.ops.quote_name
        add_user_figure(
            "_minqing_unread",
            f"SELECT COUNT(*) FROM {q(Notification._meta.db_table)} un"
            f" WHERE un.{q('user_id')} = u.{q('id')} AND un.{q('read_at')} IS NULL",
        )
