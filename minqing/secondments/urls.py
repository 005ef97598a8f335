"""URLs of secondments."""

urlpatterns = []
