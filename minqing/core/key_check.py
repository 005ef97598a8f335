"""`django-admin check --database default`: can the configured keys read what is stored?

A dump restored where MINQING_DATA_KEYS differs starts and answers /healthz, then 500 on the
people pages; one restored under another MINQING_INDEX_KEY finds nobody by ID number. Django
runs checks tagged `database` only when asked (`--database`), so an operator runs this after a
restore or a key change; pages and /healthz pay nothing for it.
"""

from django.core import checks


@checks.register(checks.Tags.database)
def stored_values_readable(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    from django.apps import apps
    from django.db import DatabaseError

    from minqing.core.crypto import DecryptionError
    from minqing.registry.identity import id_number_hash

    person = apps.get_model("registry", "Person")
    problems = []
    for alias in databases:
        rows = person.objects.using(alias).filter(id_number_hash__isnull=False)
        try:
            sample = list(rows.order_by("-pk").values_list("id_number", "id_number_hash")[:20])
        except DecryptionError as exc:
            problems.append(
                checks.Error(
                    f"Stored ID numbers cannot be decrypted with MINQING_DATA_KEYS: {exc}",
                    hint="Restore the env file kept with the backup (every data key it used).",
                    id="minqing.E001",
                )
            )
            continue
        except DatabaseError:
            continue  # not migrated yet: nothing stored to read
        # Every one under another key (a pair filed before registry 0011 may keep an old one).
        if sample and all(id_number_hash(number) != key for number, key in sample):
            problems.append(
                checks.Error(
                    "ID numbers are indexed under another MINQING_INDEX_KEY: look-ups by ID "
                    "number find nobody.",
                    hint="Use the index key kept with the backup, or run "
                    "`django-admin rotate_data_key --reindex`.",
                    id="minqing.E002",
                )
            )
    return problems
