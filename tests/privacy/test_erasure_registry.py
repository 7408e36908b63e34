"""Every table that can hold something of a customer is known to the eraser: a table added
later with a customer column, or a foreign key to profiles, fails here until its erasure is
decided (``circulo.privacy.erasure.STEPS``)."""

from __future__ import annotations

import importlib
import pkgutil
import re

from sqlalchemy import Table

import circulo
from circulo.db import Base
from circulo.privacy.erasure import HANDLED

# Every models module of every package, present or future, registers its tables.
for module in pkgutil.walk_packages(circulo.__path__, "circulo."):
    if module.name.endswith(".models"):
        importlib.import_module(module.name)

# customer_id, profile_id, origin_profile_id, profile_a, survivor_id, absorbed_id, ...
CUSTOMER_COLUMN = re.compile(
    r"^(customer|profile)(_[a-z]+)?$|_(customer|profile)(_id)?$|^(survivor|absorbed)_id$")


def customer_keyed(table: Table) -> list[str]:
    reasons = [column.name for column in table.columns if CUSTOMER_COLUMN.search(column.name)]
    reasons += [f"{fk.parent.name} -> profiles" for fk in table.foreign_keys
                if fk.column.table.name == "profiles"]
    if table.name == "profiles":
        reasons.append("the customers themselves")
    return reasons


def test_the_eraser_knows_every_customer_keyed_table() -> None:
    unknown = {table.name: customer_keyed(table)
               for table in Base.metadata.sorted_tables
               if customer_keyed(table) and table.name not in HANDLED}
    assert unknown == {}, (
        "tables holding customers that erasure does not handle: add a Step to "
        "circulo.privacy.erasure.STEPS saying how each is erased")


def test_the_registry_names_only_real_tables_and_says_how() -> None:
    assert set(HANDLED) <= set(Base.metadata.tables)
    assert all(len(how) > 10 for how in HANDLED.values())


def test_the_check_sees_the_kinds_of_columns_it_is_for() -> None:
    """The detection itself: a new table keyed in any of the usual ways is caught."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, String

    metadata = MetaData()
    Table("profiles", metadata, Column("id", String, primary_key=True))
    cases = {
        "a": Column("customer_id", String), "b": Column("origin_profile_id", String),
        "c": Column("profile_b", String), "d": Column("owner", ForeignKey("profiles.id")),
        "e": Column("absorbed_id", String),
    }
    for name, column in cases.items():
        assert customer_keyed(Table(name, metadata, Column("pk", Integer, primary_key=True),
                                    column)), name
    assert not customer_keyed(Table("z", metadata, Column("profiles", Integer),
                                     Column("agent_id", String)))
