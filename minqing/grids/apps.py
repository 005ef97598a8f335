from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "minqing.grids"
    verbose_name = "网格"
