"""Static files' URLs, worked out once per process.

Every page writes half a dozen `{% static %}` URLs, and each cost a path quoting and a URL
join. The URL of a file under STATIC_URL does not change while a process runs (Django makes a
new storage when STATIC_URL or STORAGES change, in tests), so each is kept after its first use.
"""

from django.contrib.staticfiles.storage import StaticFilesStorage


class StaticStorage(StaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name):
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = super().url(name)
        return found
