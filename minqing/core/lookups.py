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

from django.db.models import ForeignKey, Lookup


class AnyIds(Lookup):
    lookup_name = "any_ids"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


def install() -> None:
    ForeignKey.register_lookup(AnyIds)
