"""URLs of visits (走访), the worker's diary and the household timeline."""

urlpatterns: list = []
