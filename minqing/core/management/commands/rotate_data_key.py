"""Re-encrypt every encrypted value under the current (first) key of MINQING_DATA_KEYS.

Rotation: put the new key first (`MINQING_DATA_KEYS=new:…,old:…`), restart the app servers,
run this command (idempotent; safe to re-run after an interruption, and while the app runs:
each batch locks its rows), then drop the old key. `--reindex` recomputes the ID-number
hashes (whole number and last four) after MINQING_INDEX_KEY was changed.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from minqing.core import crypto
from minqing.core.fields import EncryptedTextField
from minqing.registry.identity import filing_key, id_last4_digest, id_number_hash

BATCH = 1000


class Command(BaseCommand):
    help = "Re-encrypt sensitive fields under the current data key."

    def add_arguments(self, parser):
        parser.add_argument("--reindex", action="store_true", help="recompute ID-number hashes too")

    def handle(self, *args, reindex: bool, **options):
        current = crypto.current_key_id()
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            reindexing = reindex and hasattr(model, "id_number_hash")
            done, last_pk = 0, 0
            old_numbers: list[int] = []
            while True:
                batch = self._raw_batch(model, fields, last_pk)
                if not batch:
                    break
                last_pk = batch[-1][0]
                self._check_keys_known(model, fields, batch)
                stale = [
                    row[0]
                    for row in batch
                    if reindexing or any(v and crypto.key_id_of(v) != current for v in row[1:])
                ]
                if stale:
                    with transaction.atomic():
                        rows = list(model.objects.select_for_update().filter(pk__in=stale))
                        names = [f.name for f in fields]
                        if reindexing:
                            for r in rows:
                                if r.id_number and len(r.id_number) == 15:
                                    # Keyed last: its 18-digit twin may not be re-keyed yet.
                                    old_numbers.append(r.pk)
                                    r.id_number_hash = r.id_number_hash
                                else:
                                    r.id_number_hash = id_number_hash(r.id_number)
                                r.id_last4_digest = id_last4_digest(r.id_number)
                            names += ["id_number_hash", "id_last4_digest"]
                        model.objects.bulk_update(
                            rows, names
                        )  # saving encrypts with the current key
                    done += len(stale)
            for start in range(0, len(old_numbers), BATCH):
                with transaction.atomic():
                    chunk = old_numbers[start : start + BATCH]
                    rows = list(model.objects.select_for_update().filter(pk__in=chunk))
                    for r in rows:
                        r.id_number_hash = filing_key(r.id_number, r.pk)
                    model.objects.bulk_update(rows, ["id_number_hash"])
            said = f"{model._meta.label}: {done} 行已用密钥 {current} 重新加密"
            if reindexing:
                said += "，身份证号查询索引已按当前索引密钥重算"
            self.stdout.write(said)

    @staticmethod
    def _check_keys_known(model, fields, batch) -> None:
        """A value sealed under a key MINQING_DATA_KEYS no longer holds stops the run naming
        the row, the column and the key (it stopped with a bare DecryptionError)."""
        known = {kid for kid, _key in crypto.data_keys()}
        for row in batch:
            for field, value in zip(fields, row[1:], strict=True):
                kid = value and crypto.key_id_of(value)
                if kid and kid not in known:
                    raise CommandError(
                        f"{model._meta.label} id={row[0]} {field.name}: 以密钥 {kid!r} 加密，"
                        f"MINQING_DATA_KEYS 中没有该密钥 (sealed under key {kid!r}, which "
                        "MINQING_DATA_KEYS does not hold: add it after the new key)"
                    )

    @staticmethod
    def _raw_batch(model, fields, last_pk) -> list[tuple]:
        """Stored (still encrypted) values, read past the field's decryption."""
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in fields)
        pk = qn(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {columns} FROM {qn(model._meta.db_table)} WHERE {pk} > %s ORDER BY {pk} LIMIT %s",
                [last_pk, BATCH],
            )
            return cursor.fetchall()
