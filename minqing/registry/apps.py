from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegistryConfig(AppConfig):
    name = "minqing.registry"
    verbose_name = "民情档案"

    def ready(self):
        from minqing.registry.search_index import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="registry_fts")
