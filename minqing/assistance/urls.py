"""URLs of assistance."""

urlpatterns = []
