"""Derived keys for many new people, computed in other processes while this one goes on
reading and checking the file.

registry.services.person_derive_keys sets what nobody types: pinyin and initials of the name, the
last four digits of the ID number and phone, the ID number's keyed hash. Pinyin is the slow part
(pypinyin, about 60 µs a name), and for a 100 000-row ledger it would cost more than reading the
file. So, for large files, rows are sent in chunks to worker processes as soon as they are parsed;
each worker runs person_derive_keys itself on a Person built from the row, and sends back the
derived values. The parent checks the first result against its own person_derive_keys (same
keys, same code), and uses the worker results only if they agree.

Workers are started with "spawn" (a fresh interpreter that sets Django up from the same
environment and never touches the database), so this is safe from any server process, threaded
or not.
"""

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache

# No Django import at module level: a worker imports this module to find derive_chunk before
# its initializer has set Django up.

PARALLEL_MIN_ROWS = 20_000  # below this, starting a process costs more than it saves
BYTES_PER_ROW = 60  # about, in a compressed .xlsx ledger: guesses the rows before parsing
CHUNK = 5_000


@cache
def derived_fields() -> tuple[str, ...]:
    """What person_derive_keys sets: the fields nobody types (Person: editable=False)."""
    from minqing.registry.models import Person

    return tuple(
        f.attname
        for f in Person._meta.concrete_fields
        if not f.editable and not f.primary_key and not getattr(f, "auto_now", False)
    )


def _init_worker() -> None:
    import django

    django.setup()


def warm_up() -> None:
    """Load what the first chunk would otherwise wait for (pypinyin's dictionaries)."""
    from minqing.core.pinyin import pinyin_keys

    pinyin_keys.__wrapped__("张三")


def derive_chunk(rows: list[tuple[str, str, str]]) -> list[tuple]:
    """In a worker: person_derive_keys for each (name, id_number, phone), and the ID number and
    phone encrypted as EncryptedTextField would store them."""
    from minqing.core.crypto import encrypt
    from minqing.registry.models import Person
    from minqing.registry.services import person_derive_keys

    fields = derived_fields()
    out = []
    for name, id_number, phone in rows:
        person = Person(name=name, id_number=id_number, phone=phone)
        person_derive_keys(person)
        out.append(
            (
                tuple(getattr(person, f) for f in fields),
                encrypt(id_number) if id_number else id_number,
                encrypt(phone) if phone else phone,
            )
        )
    return out


def _agrees(row, result) -> bool:
    """Does a worker's result match what this process computes (same keys, same code)?"""
    from minqing.core.crypto import decrypt

    mine = derive_chunk([(row.name, row.id_number, row.phone)])[0]
    keys, sealed_id, sealed_phone = result
    return (
        keys == mine[0]
        and decrypt(sealed_id) == row.id_number
        and (decrypt(sealed_phone) if sealed_phone else sealed_phone) == row.phone
    )


class Deriver:
    """Collects (name, id_number, phone) per row and derives them in worker processes.

    Chunks go to the pool as the rows are read. When the caller asks for the results, the
    chunks no worker has started yet are taken back and computed here, so this process, idle
    until then, shares the rest of the work instead of waiting for it.
    """

    def __init__(self, expected_rows: int):
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[tuple[str, str, str]] = []
        self.rows: list = []  # the row objects, in the order their values were submitted
        self.chunks: list[list[tuple[str, str, str]]] = []
        self.futures: list[Future] = []
        if expected_rows >= PARALLEL_MIN_ROWS and os.environ.get("DJANGO_SETTINGS_MODULE"):
            workers = max(1, min(4, (os.cpu_count() or 2) - 1))
            self.pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
            # Start the workers now: they set Django up while this process parses the file.
            for _ in range(workers):
                self.pool.submit(warm_up)

    @property
    def active(self) -> bool:
        return self.pool is not None

    def add(self, row, name: str, id_number: str, phone: str) -> None:
        if self.pool is None:
            return  # not started, or given up
        self.rows.append(row)
        self.pending.append((name, id_number, phone))
        if len(self.pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending and self.pool is not None:
            try:
                self.futures.append(self.pool.submit(derive_chunk, self.pending))
                self.chunks.append(self.pending)
            except Exception:  # a broken pool: the parent derives everything itself
                self.close()
                self.rows = []
            self.pending = []

    def results(self, needed=lambda row: True) -> dict[int, tuple]:
        """id(row) → (derived values, sealed ID number, sealed phone) for the rows `needed`
        accepts (the people to create); empty when not running or when the check fails (the
        caller then derives every row itself)."""
        self._flush()
        if self.pool is None or not self.rows:
            self.close()
            return {}
        from minqing.core.bulk import Sealed

        out, checked = {}, False
        try:
            for i, future in enumerate(self.futures):
                rows = self.rows[i * CHUNK : (i + 1) * CHUNK]
                wanted = [needed(r) for r in rows]
                if not any(wanted):
                    future.cancel()  # people already on file: nothing to derive
                    continue
                if future.cancel():  # no worker has begun it: this process does it
                    todo = [
                        (r, c) for r, c, w in zip(rows, self.chunks[i], wanted, strict=True) if w
                    ]
                    pairs = zip(
                        [r for r, _ in todo], derive_chunk([c for _, c in todo]), strict=True
                    )
                else:
                    values = future.result()
                    if not checked:
                        # A worker with other keys or other code: trust none of it.
                        if not _agrees(rows[0], values[0]):
                            self.close()
                            return {}
                        checked = True
                    pairs = ((r, v) for r, v, w in zip(rows, values, wanted, strict=True) if w)
                for row, (keys, sealed_id, sealed_phone) in pairs:
                    sealed_phone = Sealed(sealed_phone) if sealed_phone else ""
                    out[id(row)] = (keys, Sealed(sealed_id), sealed_phone)
        except Exception:  # a worker that died: the parent derives everything itself
            self.close()
            return {}
        self.close()
        self.rows, self.chunks, self.futures = [], [], []  # the results live on in `out` only
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
