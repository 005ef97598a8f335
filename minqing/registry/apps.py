from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "minqing.registry"
    verbose_name = _("民情档案")

    def ready(self):
        from minqing.registry.search_index import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="registry_fts")
