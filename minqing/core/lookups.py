"""`field__any_ids=<subquery of ids>`: `field IN (subquery)`, written on PostgreSQL as
`field = ANY(ARRAY(subquery))`.

A scoped list ORs the place condition with "dispatched to me" (`accounts.access.scope_queryset`
with `also`). With `grid_id IN (SELECT id FROM grids_node …)` PostgreSQL cannot use an index for
the OR and read every case (a community secretary's case list: a parallel scan of 500 000 cases,
≈ 300 ms); with the ids as one array, computed once (an InitPlan), both sides are index scans
joined by a BitmapOr (≈ 7 ms). PostgreSQL guesses such an array at ten elements, so it is used
only for a scope of a community or less, and only where the scope is ORed with something else
(`access.scope_q`): for a county's thousands of grids a wrong guess could make it test every row
against every id, and without an OR the subquery plans better (a grid worker's name search was
planned over the county's whole text index with the array). Elsewhere (SQLite) it is plain IN.
"""

from django.db.models import AutoField, BigAutoField, CharField, ForeignKey, Lookup


class AnyIds(Lookup):
    lookup_name = "any_ids"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


class AnyOf(Lookup):
    """`id__any_of=[...]` (or `household__any_of=[...]` on a foreign key): a list of ids in
    hand as one parameter, `id = ANY(%s)` on PostgreSQL (elsewhere IN). The same SQL for any
    number of ids (one prepared statement), and the planner, seeing the list, reads the ids
    by key: given them as `IN (SELECT unnest(…))` it joined 828 ids by hash to a read of every
    case (the case search, 0.5 s). A thousand ids as `IN (%s, …)` also cost Django and psycopg
    more to build than PostgreSQL took to answer (the visit schedules of an import)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        field = self.lhs.output_field
        return [field.get_prep_value(v) for v in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, values)
        if not values:
            return "0 = 1", tuple(lhs_params)
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", (*lhs_params, *values)


def install() -> None:
    ForeignKey.register_lookup(AnyIds)
    ForeignKey.register_lookup(AnyOf)
    AutoField.register_lookup(AnyOf)
    BigAutoField.register_lookup(AnyOf)
    CharField.register_lookup(AnyOf)
