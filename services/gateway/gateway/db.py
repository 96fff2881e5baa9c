"""Gateway's metadata: the kit's tables, accounts, role grants and refresh tokens."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import kit_tables, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


kit = kit_tables(Base.metadata)
