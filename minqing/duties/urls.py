"""URLs of duties."""

urlpatterns = []
