"""URLs of the case loop: public pages (each module owns its own list so work on one never touches another)."""

urlpatterns: list = []
