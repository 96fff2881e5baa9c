"""Evaluation' metadata: its own domain tables plus the kit's event and audit tables."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import kit_tables, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


kit = kit_tables(Base.metadata)
