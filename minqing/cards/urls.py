"""URLs of cards."""

urlpatterns = []
